"""The kiosk runs without numpy: its bundle leaves numpy and OpenBLAS out (39 MB, issue 12; installer/kiosk.spec).
Only prepare-audio's resampling (a build-time step, kiosk/audio/build.py) imports it, lazily."""

from __future__ import annotations

import subprocess
import sys

from tests.release_kit import ROOT

PROBE = """
import sys
sys.modules["numpy"] = None  # as in the bundle: any `import numpy` fails
from kiosk.app import *  # noqa
import kiosk.cli.main, kiosk.cli.self_test, kiosk.cli.detect_speech, kiosk.cli.prepare_audio
import kiosk.speech.listener, kiosk.viewmodels.voice_vm, kiosk.audio.qt_player, kiosk.audio.build
from kiosk.speech.endpointing import Endpointer, SileroDetector, float_to_pcm16, level_of
import math
tone = [0.3 * math.sin(2 * math.pi * 200 * i / 16000) * (1 + math.sin(2 * math.pi * 3 * i / 16000))
        for i in range(16000)]
pcm = float_to_pcm16([0.0] * 16000 + tone + [0.0] * 32000)
endpointer = Endpointer(SileroDetector())
events = [e for i in range(0, len(pcm), 3200) for e in endpointer.feed(pcm[i : i + 3200])] + endpointer.finish()
print([e.kind for e in events], round(level_of(pcm[32000:35200]), 2))
"""


def test_the_kiosk_and_its_voice_pipeline_import_and_run_without_numpy() -> None:
    run = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split("]")[0] + "]" == "['speech_start', 'speech_end']"
