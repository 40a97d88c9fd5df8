"""One translation mechanism: every message the code looks up has an English translation in en.po."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import cast

import polib

from kiosk.audio.capture import REASONS
from kiosk.domain.i18n import available_languages, translations_dir, translator
from kiosk.speech.recognizer import ERROR_MESSAGES
from kiosk.viewmodels import voice_vm
from kiosk.viewmodels.screens import ABANDONED_TEXT, END_TEXT, PAUSED_TEXT

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [*sorted((ROOT / "kiosk" / "ui").glob("*.py")), ROOT / "kiosk" / "domain" / "prompts.py"]


def _messages() -> set[str]:
    """String literals passed to a translator: ``tr("…")``, ``self._tr("…")``, ``_tr(x)("…")``, ``.n("…", "…")``."""
    found: set[str] = set()
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("tr", "_tr", "n") or isinstance(func, ast.Call):
                for arg in node.args:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        found.add(arg.value)
    voice = {
        voice_vm.NOTICE_TOUCH_ITEM,
        voice_vm.NOTICE_VOICE_OFF,
        voice_vm.NOT_CONFIGURED,
        *REASONS,
        *ERROR_MESSAGES.values(),
    }
    return found | {END_TEXT, ABANDONED_TEXT, PAUSED_TEXT} | voice | _voice_panel_states()


def _voice_panel_states() -> set[str]:
    """The voice panel's state texts (a dict of source texts, looked up when shown)."""
    tree = ast.parse((ROOT / "kiosk" / "ui" / "voice_panel.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "STATE_TEXT":
            assert isinstance(node.value, ast.Dict)
            texts = {v.value for v in node.value.values if isinstance(v, ast.Constant) and v.value}
            assert len(texts) >= 8
            return cast(set[str], texts)  # STATE_TEXT's values are strings
    raise AssertionError("STATE_TEXT not found in voice_panel.py")


def test_every_message_has_an_english_translation() -> None:
    messages = _messages()
    assert len(messages) > 30  # the scan found the calls
    po = polib.pofile(str(translations_dir() / "en.po"))
    translated = {e.msgid for e in po.translated_entries()} | {e.msgid_plural for e in po.translated_entries()}
    missing = sorted(m for m in messages if m not in translated)
    assert missing == []
    assert po.fuzzy_entries() == [] and po.untranslated_entries() == []


def test_placeholders_survive_translation() -> None:
    po = polib.pofile(str(translations_dir() / "en.po"))
    import string

    def fields(text: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(text) if f}

    for entry in po:
        targets = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for target in targets:
            assert fields(target) == fields(entry.msgid), entry.msgid


def test_french_is_the_source_and_unknown_languages_fall_back_to_it(tmp_path: Path) -> None:
    assert translator("fr")("Retour") == "Retour"
    assert translator("en")("Retour") == "Back"
    assert translator("en").n("{count} question", "{count} questions", 3) == "3 questions"  # not in en.po
    assert translator("de", tmp_path)("Retour") == "Retour"
    (tmp_path / "xx.po").write_text('msgid "Retour"\nmsgstr "B\n', encoding="utf-8")  # damaged
    assert translator("xx", tmp_path)("Retour") == "Retour"
    assert available_languages() == ["fr", "en"]
