"""The kiosk's one translation mechanism: GNU gettext catalogues, one ``.po`` file per language (pure Python,
here in the domain layer because the spoken prompt catalogue needs it and every layer above may use it).

Every text the kiosk itself writes or says (button labels, notices, the confirmation questions, the re-prompts,
the review and end messages) is written in French in the code, the source language, and looked up through
:func:`translator` for the session's language. The questionnaire's own wording (items, labels, introduction,
"Question 5 sur 30") is licensed text and comes from the instrument file of that language, never from here.

Why gettext rather than Qt's ``tr()``/``.qm``: the same texts are needed on both sides of the Qt line. The
spoken prompt catalogue (:mod:`kiosk.domain.prompts`) is pure Python (no Qt, checked by a test), and what the
screen shows must be exactly what is spoken; ``ngettext`` handles plurals ("1 question" / "2 questions") with
each language's own rule; and ``.po`` files are what translators' tools edit. The UI uses the very same
catalogues, so there is one mechanism for all strings.

Catalogues live in ``resources/translations/<language>.po`` (source text, reviewable in a diff; no compiled
``.mo`` is committed). They are compiled in memory with ``polib`` the first time a language is used.
A language without a catalogue, or a message missing from it, falls back to the French source text: the
kiosk never shows an empty label. ``tests/unit/audio/test_i18n.py`` checks that every message the code uses has an
English translation.
"""

from __future__ import annotations

import gettext
import io
import logging
from functools import lru_cache
from pathlib import Path

from kiosk.domain.resources import resources_dir

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "fr"


def translations_dir() -> Path:
    return resources_dir() / "translations"


class Translator:
    """``tr("Retour")`` → the text in this language; ``tr.n(singular, plural, count)`` for plurals.

    Placeholders are ``str.format`` fields, filled after the lookup: ``tr("Vous avez répondu : {answer}.",
    answer=...)``.
    """

    def __init__(self, language: str, catalogue: gettext.NullTranslations) -> None:
        self.language = language
        self._catalogue = catalogue

    def __call__(self, message: str, /, **fields: object) -> str:
        text = self._catalogue.gettext(message)
        return text.format(**fields) if fields else text

    def n(self, singular: str, plural: str, count: int, /, **fields: object) -> str:
        text = self._catalogue.ngettext(singular, plural, count)
        return text.format(count=count, **fields)


def _load_catalogue(path: Path) -> gettext.NullTranslations:
    import polib

    po = polib.pofile(str(path), encoding="utf-8")
    return gettext.GNUTranslations(io.BytesIO(po.to_binary()))


@lru_cache(maxsize=8)
def translator(language: str, directory: Path | None = None) -> Translator:
    """The translator of one language (cached). French, the source language, is the identity."""
    if language == SOURCE_LANGUAGE:
        return Translator(language, gettext.NullTranslations())
    path = (directory or translations_dir()) / f"{language}.po"
    try:
        catalogue = _load_catalogue(path)
    except (OSError, ValueError) as exc:  # missing or damaged catalogue: French rather than nothing
        log.warning("no usable translation catalogue for %r (%s): using the French texts", language, exc)
        catalogue = gettext.NullTranslations()
    return Translator(language, catalogue)


def available_languages(directory: Path | None = None) -> list[str]:
    """The source language and every language with a catalogue."""
    folder = directory or translations_dir()
    return [SOURCE_LANGUAGE, *sorted(p.stem for p in folder.glob("*.po"))]
