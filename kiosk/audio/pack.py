"""Audio packs: a folder of WAV clips plus ``manifest.json`` binding each clip to the exact text it speaks.

Layout of a pack (one per language, ``<packs root>/<language>/``)::

    manifest.json
    item-05.r090.wav        # prompt id, then the speaking rate x100
    confirm-likert4-3.r090.wav
    ...

Each manifest entry (``clips[]``) holds ``prompt_id``, ``file``, ``text_sha256`` (sha256 of the UTF-8 text
spoken, :func:`kiosk.domain.prompts.text_sha256`), ``language``, ``voice``, ``rate``, ``engine``
(``google``/``espeak``), ``sample_rate``, ``duration_ms`` and ``created_at``. The full format is in
``resources/audio/README.md``.

:meth:`AudioPack.lookup` is the kiosk's only way to a clip: given a prompt id and the text the CURRENT
instrument would speak, it returns the clip only if the hashes are equal (and the language is the pack's), so
a clip recorded for an older wording is never played. This module is pure Python (no Qt): the builder and
``qlq-kiosk prepare-audio`` use it too.
"""

from __future__ import annotations

import json
import os
import tempfile
import wave
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from kiosk.domain.prompts import text_sha256

MANIFEST = "manifest.json"
FORMAT = "qlq-audio-pack"
FORMAT_VERSION = 1
PACKS_DIR_ENV = "QLQ_AUDIO_DIR"
#: Speaking rates a nurse can choose (1.0 = the engine's normal pace). Packs are built for one or more of them.
RATES: tuple[float, ...] = (0.8, 0.9, 1.0, 1.15)
DEFAULT_RATE = 0.9  # a little slower than normal: patients are often elderly and tired
#: Every clip of a pack is PCM 16-bit mono at this rate (wideband speech; QSoundEffect plays WAV only): the builder
#: asks Google for it and resamples espeak-ng's 22.05 kHz (a pack is a third of the kiosk's bundle: issue 12).
SAMPLE_RATE = 16_000


class PackError(ValueError):
    """A manifest cannot be read; the message names the file and the entry."""


def packs_root() -> Path:
    """Where the kiosk looks for packs: ``$QLQ_AUDIO_DIR``, else the bundled ``resources/audio``."""
    override = os.environ.get(PACKS_DIR_ENV)
    if override:
        return Path(override)
    from kiosk.domain.resources import resources_dir

    return resources_dir() / "audio"


def clip_file_name(prompt_id: str, rate: float) -> str:
    return f"{prompt_id}.r{round(rate * 100):03d}.wav"


@dataclass(frozen=True)
class Clip:
    prompt_id: str
    file: str
    text_sha256: str
    language: str
    voice: str
    rate: float
    engine: str
    sample_rate: int = 0
    duration_ms: int = 0
    created_at: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class LookupStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"  # no clip for this prompt id (or its file is gone)
    STALE = "stale"  # a clip exists but for another text (older wording) or language: never played


@dataclass(frozen=True)
class Lookup:
    status: LookupStatus
    clip: Clip | None = None
    path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.status is LookupStatus.OK


_FIELDS = {
    f: t
    for f, t in (
        ("prompt_id", str),
        ("file", str),
        ("text_sha256", str),
        ("language", str),
        ("voice", str),
        ("engine", str),
    )
}


def _clip_from_json(raw: Any, where: str) -> Clip:
    if not isinstance(raw, dict):
        raise PackError(f"{where}: must be an object")
    for name, kind in _FIELDS.items():
        if not isinstance(raw.get(name), kind) or not raw[name]:
            raise PackError(f"{where}, field '{name}': missing or not a non-empty {kind.__name__}")
    rate = raw.get("rate")
    if not isinstance(rate, int | float) or isinstance(rate, bool) or not 0.1 <= rate <= 4:
        raise PackError(f"{where}, field 'rate': must be a number between 0.1 and 4")
    digest = raw["text_sha256"]
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise PackError(f"{where}, field 'text_sha256': not a lowercase hex sha256")
    name = raw["file"]
    if "/" in name or "\\" in name or name.startswith(".") or not name.endswith(".wav"):
        raise PackError(f"{where}, field 'file': must be a .wav file name inside the pack folder")
    return Clip(
        prompt_id=raw["prompt_id"],
        file=name,
        text_sha256=digest,
        language=raw["language"],
        voice=raw["voice"],
        rate=float(rate),
        engine=raw["engine"],
        sample_rate=int(raw.get("sample_rate") or 0),
        duration_ms=int(raw.get("duration_ms") or 0),
        created_at=str(raw.get("created_at") or ""),
    )


@dataclass
class AudioPack:
    """A pack folder and its manifest (an empty pack when the folder or manifest does not exist)."""

    directory: Path
    language: str
    clips: dict[tuple[str, float], Clip] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path, language: str | None = None) -> AudioPack:
        path = directory / MANIFEST
        lang = language or directory.name
        if not path.is_file():
            return cls(directory, lang)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PackError(f"{path}: cannot read the audio pack manifest: {exc}") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise PackError(f"{path}: not an audio pack manifest (field 'format' must be {FORMAT!r})")
        if raw.get("format_version") != FORMAT_VERSION:
            raise PackError(
                f"{path}: field 'format_version': {raw.get('format_version')!r} is not supported "
                f"(this kiosk reads version {FORMAT_VERSION})"
            )
        lang = str(raw.get("language") or lang)
        entries = raw.get("clips")
        if not isinstance(entries, list):
            raise PackError(f"{path}: field 'clips' must be a list")
        pack = cls(directory, lang)
        for index, entry in enumerate(entries):
            where = f"{path}: clips[{index}]"
            if isinstance(entry, dict) and isinstance(entry.get("prompt_id"), str):
                where += f" (prompt {entry['prompt_id']!r})"
            pack.put(_clip_from_json(entry, where))
        return pack

    def __iter__(self) -> Iterator[Clip]:
        return iter(sorted(self.clips.values(), key=lambda c: (c.prompt_id, c.rate)))

    def __len__(self) -> int:
        return len(self.clips)

    def path_of(self, clip: Clip) -> Path:
        return self.directory / clip.file

    def get(self, prompt_id: str, rate: float) -> Clip | None:
        return self.clips.get((prompt_id, round(rate, 3)))

    def lookup(self, prompt_id: str, text: str, *, rate: float, any_rate: bool = False) -> Lookup:
        """The clip that speaks exactly ``text`` for ``prompt_id`` at ``rate`` (or, with ``any_rate``, at the
        nearest rate the pack has). A clip for another text or language is STALE and never returned."""
        digest = text_sha256(text)
        candidates = [c for (pid, _r), c in self.clips.items() if pid == prompt_id]
        if not candidates:
            return Lookup(LookupStatus.MISSING)
        fresh = [
            c
            for c in candidates
            if c.text_sha256 == digest and c.language == self.language and self.path_of(c).is_file()
        ]
        if not fresh:
            stale = any(c.text_sha256 != digest or c.language != self.language for c in candidates)
            return Lookup(LookupStatus.STALE if stale else LookupStatus.MISSING)
        exact = [c for c in fresh if abs(c.rate - rate) < 1e-6]
        if exact:
            return Lookup(LookupStatus.OK, exact[0], self.path_of(exact[0]))
        if not any_rate:
            return Lookup(LookupStatus.MISSING)
        nearest = min(fresh, key=lambda c: abs(c.rate - rate))
        return Lookup(LookupStatus.OK, nearest, self.path_of(nearest))

    # ------------------------------------------------------------------ writing (the builder)
    def put(self, clip: Clip) -> None:
        self.clips[(clip.prompt_id, round(clip.rate, 3))] = clip

    def remove(self, clips: Iterable[Clip]) -> None:
        for clip in list(clips):
            self.clips.pop((clip.prompt_id, round(clip.rate, 3)), None)

    def save(self, **meta: Any) -> None:
        """Write the manifest atomically (a crash never leaves half a manifest)."""
        data: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION, "language": self.language}
        data.update(meta)
        data["clips"] = [c.to_json() for c in self]
        atomic_write(self.directory / MANIFEST, (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))


@dataclass(frozen=True)
class PackProblem:
    """A prompt the pack cannot speak at one rate: ``missing`` (no clip, or its file is gone) or ``stale`` (the
    clip speaks another text or language than the current catalogue)."""

    prompt_id: str
    rate: float
    status: LookupStatus


def check_complete(
    pack: AudioPack, catalogue: Mapping[str, str], *, rates: Iterable[float] = RATES
) -> list[PackProblem]:
    """Every prompt of ``catalogue`` at every rate the kiosk offers, as :meth:`AudioPack.lookup` would find it
    (same hash rule): the problems, in prompt order. Empty when the pack speaks the whole catalogue."""
    problems = []
    for prompt_id, text in catalogue.items():
        for rate in rates:
            found = pack.lookup(prompt_id, text, rate=rate)
            if found.status is not LookupStatus.OK:
                problems.append(PackProblem(prompt_id, rate, found.status))
    return problems


def atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@dataclass(frozen=True)
class WavInfo:
    sample_rate: int
    channels: int
    sample_width: int
    frames: int

    @property
    def duration_ms(self) -> int:
        return round(self.frames * 1000 / self.sample_rate) if self.sample_rate else 0


def wav_info(path: Path) -> WavInfo:
    """Read a WAV header (raises ``wave.Error``/``OSError``/``EOFError`` if it is not a PCM WAV file)."""
    with wave.open(str(path), "rb") as w:
        return WavInfo(w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes())
