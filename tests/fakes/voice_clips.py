"""Test audio made here, never committed: espeak-ng French answers placed in silence or steady noise, with the
true start and end of the speech known to the sample.

``build_clips(dir)`` writes ~50 WAV files (various rates, mono and stereo) and returns :class:`Clip` records.
Speech is espeak-ng's output trimmed to its audible extent; pauses ("euh ... un peu") are real silence (or the
clip's noise); noise is seeded pink/white/brown noise mixed at a given SNR against the speech's RMS.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from kiosk.speech.endpointing import float_to_pcm16, resample

Samples = npt.NDArray[np.float32]
RATE = 16_000


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def say(text: str, *, speed: int = 140, voice: str = "fr") -> Samples:
    """espeak-ng's rendering of ``text`` at 16 kHz, trimmed to where it is audible."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(out), text], check=True, capture_output=True
        )
        with wave.open(str(out), "rb") as w:
            rate = w.getframerate()
            raw = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float32) / 32768.0
    samples = np.asarray(resample(raw, rate, RATE), dtype=np.float32)
    loud = np.flatnonzero(np.abs(samples) > 0.02)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples[:0]


def noise(kind: str, n: int, seed: int) -> Samples:
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    if kind == "white":
        out = white
    elif kind in ("pink", "brown"):
        spectrum = np.fft.rfft(white)
        freqs = np.fft.rfftfreq(n, 1 / RATE)
        freqs[0] = freqs[1]
        spectrum /= np.sqrt(freqs) if kind == "pink" else freqs
        out = np.fft.irfft(spectrum, n)
    elif kind == "hum":
        t = np.arange(n) / RATE
        out = np.sin(2 * np.pi * 50 * t) + 0.3 * np.sin(2 * np.pi * 150 * t) + 0.05 * white
    else:
        raise ValueError(kind)
    return (out / np.sqrt(np.mean(out**2))).astype(np.float32)  # unit RMS


def rms(x: Samples) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) if len(x) else 0.0


@dataclass(frozen=True)
class Clip:
    name: str
    path: Path
    speech: bool
    start_ms: int | None
    end_ms: int | None
    description: str


def compose(
    parts: list[tuple[str, float]],
    *,
    lead_s: float,
    tail_s: float,
    gain_db: float = -6.0,
    noise_kind: str | None = None,
    snr_db: float = 10.0,
    seed: int = 0,
) -> tuple[Samples, int, int]:
    """Speech parts (text, pause after it in s) between ``lead_s`` and ``tail_s`` of silence or noise.

    Returns (samples at 16 kHz, true start ms, true end ms)."""
    pieces: list[Samples] = [np.zeros(int(lead_s * RATE), np.float32)]
    speech_only: list[Samples] = []
    for k, (text, pause) in enumerate(parts):
        s = say(text)
        speech_only.append(s)
        pieces.append(s)
        if k < len(parts) - 1:
            pieces.append(np.zeros(int(pause * RATE), np.float32))
    body_end = sum(len(p) for p in pieces)
    pieces.append(np.zeros(int(tail_s * RATE), np.float32))
    signal = np.concatenate(pieces)
    peak = float(np.max(np.abs(signal))) or 1.0
    signal *= 10 ** (gain_db / 20) / peak
    if noise_kind is not None:
        speech_rms = rms(np.concatenate(speech_only)) * 10 ** (gain_db / 20) / peak
        signal = signal + noise(noise_kind, len(signal), seed) * speech_rms / 10 ** (snr_db / 20)
        signal = np.clip(signal, -1.0, 1.0)
    start = int(lead_s * 1000)
    end = int(body_end * 1000 / RATE)
    return signal.astype(np.float32), start, end


def write_wav(path: Path, samples: Samples, *, rate: int = RATE, channels: int = 1) -> None:
    data = resample(samples, RATE, rate)
    pcm = np.frombuffer(float_to_pcm16(data), dtype="<i2")
    if channels > 1:
        pcm = np.repeat(pcm[:, None], channels, axis=1).reshape(-1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.astype("<i2").tobytes())


ANSWERS = [
    "pas du tout",
    "un peu",
    "assez",
    "beaucoup",
    "trois",
    "cinq",
    "sept",
    "je ne sais pas",
    "répéter",
    "un petit peu",
    "très mauvais",
    "excellent",
]
FORMATS = [(16_000, 1), (22_050, 1), (44_100, 2), (48_000, 1), (8_000, 1), (32_000, 2)]


def build_clips(directory: Path) -> list[Clip]:
    """The endpointing corpus: ≥ 40 clips with speech and 8 noise-only clips."""
    directory.mkdir(parents=True, exist_ok=True)
    clips: list[Clip] = []

    def add(name: str, samples: Samples, start: int | None, end: int | None, description: str, k: int) -> None:
        rate, channels = FORMATS[k % len(FORMATS)]
        path = directory / f"{name}.wav"
        write_wav(path, samples, rate=rate, channels=channels)
        clips.append(
            Clip(
                name,
                path,
                start is not None,
                start,
                end,
                f"{description} ({rate} Hz, {'stereo' if channels == 2 else 'mono'})",
            )
        )

    k = 0
    for i, text in enumerate(ANSWERS):  # clean, 1 s of silence each side
        s, a, b = compose([(text, 0)], lead_s=1.0, tail_s=1.5)
        add(f"clean-{i:02d}", s, a, b, f"'{text}' clean", k)
        k += 1
    for i, text in enumerate(ANSWERS):  # steady pink noise at 10 dB SNR, throughout
        s, a, b = compose([(text, 0)], lead_s=1.2, tail_s=2.0, noise_kind="pink", snr_db=10.0, seed=i)
        add(f"pink10-{i:02d}", s, a, b, f"'{text}' in pink noise, 10 dB SNR", k)
        k += 1
    hesitations = [
        [("euh", 0.5), ("un peu", 0)],
        [("alors", 0.6), ("beaucoup", 0)],
        [("un peu", 0.5), ("enfin, assez", 0)],
        [("euh", 0.7), ("pas du tout", 0)],
        [("je dirais", 0.5), ("trois", 0)],
        [("hum", 0.6), ("cinq", 0)],
        [("beaucoup", 0.4), ("oui, beaucoup", 0)],
        [("euh", 0.5), ("je ne sais pas", 0)],
    ]
    for i, parts in enumerate(hesitations):
        s, a, b = compose(parts, lead_s=0.8, tail_s=1.6)
        add(f"hesitation-{i:02d}", s, a, b, "hesitation: " + " ... ".join(t for t, _ in parts), k)
        k += 1
    for i, parts in enumerate(hesitations[:4]):  # hesitation in noise
        s, a, b = compose(parts, lead_s=1.0, tail_s=2.0, noise_kind="pink", snr_db=10.0, seed=100 + i)
        add(
            f"hesitation-pink10-{i:02d}",
            s,
            a,
            b,
            "hesitation in pink noise 10 dB: " + " ... ".join(t for t, _ in parts),
            k,
        )
        k += 1
    for i, (text, kind, snr) in enumerate(
        [
            ("un peu", "white", 15.0),
            ("assez", "brown", 10.0),
            ("beaucoup", "white", 20.0),
            ("pas du tout", "brown", 15.0),
        ]
    ):
        s, a, b = compose([(text, 0)], lead_s=1.0, tail_s=1.5, noise_kind=kind, snr_db=snr, seed=200 + i)
        add(f"{kind}{int(snr)}-{i:02d}", s, a, b, f"'{text}' in {kind} noise, {snr:g} dB SNR", k)
        k += 1
    for i, text in enumerate(["un peu", "beaucoup", "deux"]):  # quiet speaker, long wait before answering
        s, a, b = compose([(text, 0)], lead_s=3.5, tail_s=1.5, gain_db=-26.0)
        add(f"quiet-late-{i:02d}", s, a, b, f"'{text}' quiet (-26 dBFS peak) after 3.5 s", k)
        k += 1
    for i, (kind, level_db) in enumerate(
        [("pink", -30.0), ("white", -40.0), ("brown", -25.0), ("hum", -30.0), ("pink", -20.0), ("white", -30.0)]
    ):
        s = noise(kind, RATE * 6, 300 + i) * 10 ** (level_db / 20)
        add(
            f"noise-{kind}-{i:02d}",
            np.clip(s, -1, 1).astype(np.float32),
            None,
            None,
            f"{kind} noise only at {level_db:g} dBFS RMS",
            k,
        )
        k += 1
    add("silence-00", np.zeros(RATE * 4, np.float32), None, None, "digital silence", k)
    k += 1
    add(
        "hiss-00",
        (noise("white", RATE * 4, 400) * 10 ** (-55 / 20)).astype(np.float32),
        None,
        None,
        "faint hiss at -55 dBFS",
        k,
    )
    return clips
