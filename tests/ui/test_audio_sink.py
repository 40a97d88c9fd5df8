"""The audio service on a REAL output: a private PulseAudio null sink (no sound card here). QSoundEffect really
plays the pack clip in real time: ``audible`` fires, ``finished`` comes after the clip's length, a new prompt
cuts the old one at once. Runs in a subprocess: QtMultimedia picks its audio server once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes.null_sink import null_sink, pulseaudio_available

pytestmark = pytest.mark.skipif(not pulseaudio_available(), reason="pulseaudio not installed (scripts/bootstrap.sh)")

SCRIPT = r"""
import json, sys, time
from pathlib import Path
from PySide6.QtCore import QEventLoop, QTimer
from PySide6.QtWidgets import QApplication
from kiosk.audio.pack import AudioPack
from kiosk.audio.qt_player import QtAudioService
from kiosk.domain.instrument import load_instrument
from kiosk.domain.prompts import prompt_catalogue

app = QApplication([])
pack_dir = Path(sys.argv[1])
catalogue = prompt_catalogue(load_instrument("qlq-c30", "fr"))
audio = QtAudioService(pack_dir, live=None)
audio.set_volume(0.5)
events = []
t0 = time.perf_counter()
for name in ("started", "audible", "finished"):
    getattr(audio, name).connect(lambda p, name=name: events.append((name, p, time.perf_counter() - t0)))
audio.unavailable.connect(lambda p, r: events.append(("unavailable", p, r)))
def wait(predicate, ms):
    deadline = time.monotonic() + ms / 1000
    while not predicate() and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
audio.play("item-02", catalogue["item-02"])
wait(lambda: any(e[0] == "finished" for e in events), 15000)
clip = AudioPack.load(pack_dir).get("item-02", 0.9)
first = list(events)
events.clear(); t0 = time.perf_counter()
audio.play("intro", catalogue["intro"])
wait(lambda: any(e[0] == "audible" for e in events), 5000)
audio.play("item-03", catalogue["item-03"])
wait(lambda: any(e[0] == "audible" and e[1] == "item-03" for e in events), 5000)
audio.stop()
print(json.dumps({"first": first, "duration_ms": clip.duration_ms, "second": events,
                  "volume": audio._effect.volume()}))
"""


def test_a_pack_clip_really_plays_on_a_sink(espeak_pack: Path) -> None:
    with null_sink() as server:
        env = {**os.environ, "PULSE_SERVER": server, "QT_QPA_PLATFORM": "offscreen"}
        result = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(espeak_pack)],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
            cwd=Path(__file__).resolve().parents[2],
        )
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout.strip().splitlines()[-1])
    kinds = [e[0] for e in data["first"]]
    assert kinds == ["started", "audible", "finished"], data["first"]
    audible_at, finished_at = data["first"][1][2], data["first"][2][2]
    played_ms = (finished_at - audible_at) * 1000
    assert played_ms >= data["duration_ms"] * 0.8  # played in real time, not cut short
    assert played_ms <= data["duration_ms"] + 2500
    second = [(e[0], e[1]) for e in data["second"]]
    # the intro is cut as soon as item 3 is asked for; item 3 is then heard
    assert second[:2] == [("started", "intro"), ("audible", "intro")]
    assert second[2:4] == [("finished", "intro"), ("started", "item-03")]
    assert ("audible", "item-03") in second and "unavailable" not in [e[0] for e in data["second"]]
    assert data["volume"] == pytest.approx(0.5)
