"""Build or update an audio pack: synthesise only the prompts that are missing or changed.

A clip is kept when the manifest already has one for the same prompt id and rate with the same text hash,
language, engine and voice, and its WAV file is still there, readable and in the pack's format (PCM 16-bit mono at
:data:`kiosk.audio.pack.SAMPLE_RATE`). Anything else is (re)synthesised; what an engine returns in another
format is converted to it (:func:`to_pack_format`: espeak-ng speaks at 22.05 kHz).
The manifest is rewritten after every clip, so an interrupted run keeps what it made. A prompt that fails is
reported by its id with the reason, and the run carries on with the others. Clips of prompt ids the
instrument no longer has are removed.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.audio.pack import SAMPLE_RATE, AudioPack, Clip, atomic_write, clip_file_name, wav_info
from kiosk.audio.synth import SynthesisError, Synthesizer
from kiosk.domain.prompts import text_sha256

Progress = Callable[[int, int, str, str], None]  # (done, total, prompt_id, "kept"|"synthesised"|"failed: …")


@dataclass
class BuildReport:
    synthesised: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # "prompt_id@rate" → reason
    removed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed


def _key(prompt_id: str, rate: float) -> str:
    return f"{prompt_id}@{rate:g}"


def _usable(pack: AudioPack, clip: Clip | None, *, digest: str, language: str, engine: str, voice: str) -> bool:
    if clip is None or (clip.text_sha256, clip.language, clip.engine, clip.voice) != (digest, language, engine, voice):
        return False
    try:
        info = wav_info(pack.path_of(clip))
    except (OSError, EOFError, wave.Error):
        return False
    return info.frames > 0 and (info.sample_rate, info.channels, info.sample_width) == (SAMPLE_RATE, 1, 2)


def to_pack_format(audio: bytes, rate: int = SAMPLE_RATE) -> bytes:
    """The WAV file ``audio`` (PCM 16-bit, mono or stereo) as PCM 16-bit mono at ``rate``; unchanged when it is
    already so. Raises ``wave.Error`` for any other WAV, :class:`SynthesisError` without numpy."""
    with wave.open(io.BytesIO(audio), "rb") as w:
        channels, width, source, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.readframes(-1)
    if width != 2 or channels not in (1, 2):
        raise wave.Error(f"not PCM 16-bit mono or stereo: {channels} channel(s) of {8 * width} bits")
    if (channels, source) == (1, rate):
        return audio
    try:
        import numpy as np
    except ImportError:  # the kiosk's bundle leaves numpy out (issue 12): build packs from a source checkout
        raise SynthesisError(
            f"converting {source} Hz audio to the pack's {rate} Hz needs numpy, which this installation lacks "
            "(run prepare-audio from a source checkout, or use --engine google: it speaks at the pack's rate)"
        ) from None

    samples = np.frombuffer(frames[: len(frames) - len(frames) % (2 * channels)], dtype="<i2").astype(np.float64)
    samples = resample(samples.reshape(-1, channels).mean(axis=1), source, rate)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes())
    return out.getvalue()


def resample(samples: Any, source: int, rate: int, *, half_width: int = 16) -> Any:
    """``samples`` (a float numpy array at ``source`` Hz) at ``rate`` Hz, band-limited: each output sample is the
    input weighted by a Hann-windowed sinc (``2 * half_width`` taps at the input rate) whose cut-off, when
    downsampling, is 94 % of the new Nyquist frequency, so what lies above it does not fold back into speech.
    numpy (a build-time tool: prepare-audio runs from a source checkout before the bundle is made)."""
    import numpy as np

    if source == rate or not len(samples):
        return samples
    count = max(1, round(len(samples) * rate / source))
    cutoff = min(1.0, 0.94 * rate / source)  # relative to the input's Nyquist frequency
    positions = np.arange(count) * (source / rate)
    base = np.floor(positions).astype(np.int64)
    fraction = positions - base
    padded = np.concatenate([np.zeros(half_width), samples, np.zeros(half_width + 1)])
    out = np.zeros(count)
    for tap in range(1 - half_width, half_width + 1):
        distance = fraction - tap  # from the output instant to input sample base + tap, in input samples
        weight = cutoff * np.sinc(cutoff * distance) * (0.5 + 0.5 * np.cos(np.pi * distance / half_width))
        out += weight * padded[base + tap + half_width]
    return out


def build_pack(
    catalogue: Mapping[str, str],
    out_dir: Path,
    synthesizer: Synthesizer,
    *,
    language: str,
    voice: str | None = None,
    rates: Sequence[float] = (1.0,),
    progress: Progress | None = None,
    meta: Mapping[str, Any] | None = None,
) -> BuildReport:
    """Bring the pack in ``out_dir`` up to date with ``catalogue`` (prompt id → text) for every rate."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pack = AudioPack.load(out_dir, language)
    pack.language = language
    voice_name = synthesizer.voice_for(language, voice)
    report = BuildReport()
    extra = dict(meta or {})
    total = len(catalogue) * len(rates)
    done = 0
    for rate in rates:
        for prompt_id, text in catalogue.items():
            done += 1
            digest = text_sha256(text)
            existing = pack.get(prompt_id, rate)
            if _usable(pack, existing, digest=digest, language=language, engine=synthesizer.engine, voice=voice_name):
                report.kept.append(_key(prompt_id, rate))
                if progress:
                    progress(done, total, prompt_id, "kept")
                continue
            try:
                audio = to_pack_format(synthesizer.synthesize(text, language=language, voice=voice, rate=rate))
                name = clip_file_name(prompt_id, rate)
                path = out_dir / name
                atomic_write(path, audio)
                info = wav_info(path)
            except (SynthesisError, OSError, EOFError, wave.Error) as exc:
                report.failed[_key(prompt_id, rate)] = str(exc) or type(exc).__name__
                if progress:
                    progress(done, total, prompt_id, f"failed: {exc}")
                continue
            pack.put(
                Clip(
                    prompt_id=prompt_id,
                    file=name,
                    text_sha256=digest,
                    language=language,
                    voice=voice_name,
                    rate=rate,
                    engine=synthesizer.engine,
                    sample_rate=info.sample_rate,
                    duration_ms=info.duration_ms,
                    created_at=datetime.now(UTC).isoformat(timespec="seconds"),
                )
            )
            pack.save(**extra)
            report.synthesised.append(_key(prompt_id, rate))
            if progress:
                progress(done, total, prompt_id, "synthesised")
    orphans = [c for c in pack if c.prompt_id not in catalogue]
    for clip in orphans:
        pack.path_of(clip).unlink(missing_ok=True)
        report.removed.append(_key(clip.prompt_id, clip.rate))
    pack.remove(orphans)
    pack.save(**extra)
    return report
