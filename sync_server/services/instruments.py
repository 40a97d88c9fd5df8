"""The bundled instrument files the server accepts submissions for, indexed by (id, language, content hash).

A submission is accepted only if it names one of these exact files: the content hash proves which wording and
scoring the patient saw. Loaded once at start-up (``QLQ_RESOURCES_DIR`` chooses another resources folder).
"""

from __future__ import annotations

from pathlib import Path

from kiosk.domain.instrument import Instrument, available_instruments, load_instrument_file
from kiosk.domain.submission import InstrumentRef


class InstrumentRegistry:
    def __init__(self, instruments: list[Instrument]) -> None:
        self._by_key = {(i.id, i.language, i.content_sha256): i for i in instruments}
        self._by_language = {(i.id, i.language): i for i in instruments}

    @classmethod
    def bundled(cls, directory: Path | None = None) -> InstrumentRegistry:
        return cls([load_instrument_file(path) for path in available_instruments(directory).values()])

    def find(self, ref: InstrumentRef) -> Instrument | None:
        return self._by_key.get((ref.id, ref.language, ref.content_sha256))

    def by_language(self, instrument_id: str, language: str) -> Instrument | None:
        return self._by_language.get((instrument_id, language))

    def describe_unknown(self, ref: InstrumentRef) -> tuple[str, str]:
        """The field to blame and a message, for a reference that :meth:`find` did not resolve."""
        if not any(key[0] == ref.id for key in self._by_language):
            return "instrument.id", f"unknown instrument {ref.id!r}"
        if (ref.id, ref.language) not in self._by_language:
            return "instrument.language", f"no {ref.id!r} file in language {ref.language!r}"
        return "instrument.content_sha256", (
            f"the {ref.id}/{ref.language} file with this content hash is not one of the server's instrument files"
        )

    def keys(self) -> list[tuple[str, str]]:
        return sorted(self._by_language)
