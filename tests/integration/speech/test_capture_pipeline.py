"""Audio from WAV files through the REAL PyAudio capture path (ALSA ``file`` plugin as the default input, see
the platform notes), the kiosk's endpointing, and the REAL Google client against the local gRPC fake."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.fakes.voice_clips import compose, espeak_available, write_wav

pytestmark = pytest.mark.skipif(
    not (espeak_available() and shutil.which("sox")), reason="espeak-ng and sox are needed (scripts/bootstrap.sh)"
)

ROOT = Path(__file__).resolve().parents[3]


def fake_home(tmp_path: Path, raw: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        'pcm.!default { type asym playback.pcm "nullout" capture.pcm "fakemic" }\n'
        "pcm.nullout { type null }\n"
        f'pcm.fakemic {{ type file slave.pcm "null" file "/dev/null" infile "{raw}" format "raw" }}\n',
        encoding="utf-8",
    )
    return home


def wav_to_raw(wav: Path, raw: Path) -> None:
    subprocess.run(
        ["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "raw", str(raw)],
        check=True,
    )


def run_turn(tmp_path: Path, wav: Path, *args: str) -> dict:
    raw = tmp_path / "in.raw"
    wav_to_raw(wav, raw)
    env = {**os.environ, "HOME": str(fake_home(tmp_path, raw)), "GRPC_VERBOSITY": "ERROR"}
    result = subprocess.run(
        [sys.executable, "-m", "tests.integration.speech.turn_script", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_spoken_answer_goes_from_the_wav_through_pyaudio_to_the_recogniser(tmp_path: Path) -> None:
    samples, start, end = compose(
        [("euh", 0.5), ("un peu", 0)], lead_s=1.0, tail_s=3.0, noise_kind="pink", snr_db=15.0, seed=5
    )
    wav = tmp_path / "answer.wav"
    write_wav(wav, samples, rate=22_050)
    out = run_turn(tmp_path, wav, "fakemic", "un peu", "0.92")
    assert "fakemic" in out["devices"] and out["probe"] is None
    assert out["kind"] == "result", out
    assert out["alternatives"][0] == ["un peu", pytest.approx(0.92, abs=1e-4)]
    assert out["interim"] == ["un"]
    assert abs(out["speech_ms"][0] - start) <= 250 and abs(out["speech_ms"][1] - end) <= 300
    assert out["times_ordered"]
    (call,) = out["calls"]
    assert call["config_first"]
    # speech + pre-roll + trailing silence was streamed, not the whole file nor only the speech
    assert (end - start) * 32 <= call["audio_bytes"] <= (end - start + 300 + 1300) * 32 + 3200
    assert out["max_level"] > 0.5


def test_silence_from_the_microphone_times_out_without_calling_the_recogniser(tmp_path: Path) -> None:
    wav = tmp_path / "silence.wav"
    write_wav(wav, np.zeros(16000 * 5, dtype=np.float32))
    out = run_turn(tmp_path, wav, "fakemic", "x", "0.9")
    assert out["kind"] == "no_speech" and out["calls"] == []


def test_recogniser_unavailable_reaches_the_turn_as_an_error(tmp_path: Path) -> None:
    samples, _, _ = compose([("beaucoup", 0)], lead_s=0.5, tail_s=2.0)
    wav = tmp_path / "b.wav"
    write_wav(wav, samples)
    out = run_turn(tmp_path, wav, "fakemic", "beaucoup", "0.9", "UNAVAILABLE")
    assert (out["kind"], out["detail"]) == ("error", "unavailable")
    assert len(out["calls"]) == 2 and all(c["config_first"] for c in out["calls"])


def test_a_missing_device_is_reported_in_french(tmp_path: Path) -> None:
    samples, _, _ = compose([("assez", 0)], lead_s=0.5, tail_s=1.0)
    wav = tmp_path / "a.wav"
    write_wav(wav, samples)
    out = run_turn(tmp_path, wav, "micro-usb-inexistant", "assez", "0.9")
    assert out["probe"] == "Le microphone « micro-usb-inexistant » est introuvable."
    assert (out["kind"], out["error"]) == ("error", "CaptureUnavailable")
