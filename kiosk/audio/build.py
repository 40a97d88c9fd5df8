"""Build or update an audio pack: synthesise only the prompts that are missing or changed.

A clip is kept when the manifest already has one for the same prompt id and rate with the same text hash,
language, engine and voice, and its WAV file is still there and readable. Anything else is (re)synthesised.
The manifest is rewritten after every clip, so an interrupted run keeps what it made. A prompt that fails is
reported by its id with the reason, and the run carries on with the others. Clips of prompt ids the
instrument no longer has are removed.
"""

from __future__ import annotations

import wave
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kiosk.audio.pack import AudioPack, Clip, atomic_write, clip_file_name, wav_info
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
        return wav_info(pack.path_of(clip)).frames > 0
    except (OSError, EOFError, wave.Error):
        return False


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
                audio = synthesizer.synthesize(text, language=language, voice=voice, rate=rate)
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
