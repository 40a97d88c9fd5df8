"""Text-to-speech engines behind one small interface: text in, a WAV file's bytes out.

Two engines: :class:`EspeakSynthesizer` (espeak-ng, offline, robotic; the demo, the tests and the kiosk's live
fallback) and :class:`kiosk.audio.google_tts.GoogleSynthesizer` (Google Cloud Text-to-Speech; the packs a
clinic deploys). Both are used by the pack builder (:mod:`kiosk.audio.build`); espeak-ng also speaks live
when a clip is missing (:mod:`kiosk.audio.qt_player`).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol


class SynthesisError(Exception):
    """One text could not be synthesised; the message says why (never the text: it may hold an answer)."""


class Synthesizer(Protocol):
    engine: str  # "google" | "espeak"

    def voice_for(self, language: str, voice: str | None) -> str:
        """The voice name recorded in the manifest for this language (the requested one, or the default)."""
        ...

    def synthesize(self, text: str, *, language: str, voice: str | None, rate: float) -> bytes:
        """The WAV file (with header) speaking ``text``; raises :class:`SynthesisError`."""
        ...


ESPEAK_VOICES = {"fr": "fr-fr", "en": "en-gb"}
ESPEAK_NORMAL_WPM = 175  # espeak-ng's own default pace; rate 1.0 means this


def espeak_binary() -> str | None:
    return shutil.which("espeak-ng")


def espeak_wpm(rate: float) -> int:
    return min(max(round(ESPEAK_NORMAL_WPM * rate), 80), 450)


class EspeakSynthesizer:
    """espeak-ng through its command line (the text goes on standard input, never through a shell)."""

    engine = "espeak"

    def __init__(self, binary: str | None = None, *, timeout: float = 30.0) -> None:
        found = binary or espeak_binary()
        if found is None:
            raise SynthesisError("espeak-ng is not installed (Debian: apt-get install espeak-ng)")
        self.binary = found
        self.timeout = timeout

    def voice_for(self, language: str, voice: str | None) -> str:
        return voice or ESPEAK_VOICES.get(language, language)

    def synthesize(self, text: str, *, language: str, voice: str | None, rate: float) -> bytes:
        with tempfile.TemporaryDirectory(prefix="qlq-espeak-") as tmp:
            out = Path(tmp) / "clip.wav"
            self.synthesize_to(out, text, language=language, voice=voice, rate=rate)
            return out.read_bytes()

    def synthesize_to(self, out: Path, text: str, *, language: str, voice: str | None, rate: float) -> None:
        command = [
            self.binary,
            "-v",
            self.voice_for(language, voice),
            "-s",
            str(espeak_wpm(rate)),
            "--stdin",
            "-w",
            str(out),
        ]
        try:
            result = subprocess.run(command, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise SynthesisError(f"espeak-ng did not finish within {self.timeout:.0f} s") from None
        except OSError as exc:
            raise SynthesisError(f"espeak-ng could not be started: {exc}") from None
        if result.returncode != 0 or not out.is_file() or out.stat().st_size <= 44:
            detail = result.stderr.decode("utf-8", "replace").strip()[:200]
            raise SynthesisError(f"espeak-ng failed (exit {result.returncode}): {detail or 'no audio written'}")
