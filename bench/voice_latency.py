"""Voice latency benchmark: end of speech (the endpointing's decision) -> the answer on screen.

    uv run python bench/voice_latency.py [--sessions 3]

Runs whole voice sessions on the real screens (offscreen): each turn the fake microphone plays an espeak-ng
"un peu" through the real Silero endpointing; the scripted recogniser answers at once ("un peu", 0.95: an
auto-accepted answer). For every item, the time from ``time.perf_counter()`` at the endpointing's decision (in
the capture thread) to the answer button highlighted and repainted on the GUI thread. Prints the median, p95
and max over all items. Target: p95 <= 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "*=false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from kiosk.speech.fake import Say
from kiosk.viewmodels.screens import ScreenKind
from tests.fakes.voice_kiosk import make_voice_kiosk


def wait(predicate: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("the session did not move on")
        QCoreApplication.processEvents()
        time.sleep(0.001)


def one_session() -> list[float]:
    k = make_voice_kiosk([Say.text("sept" if n >= 29 else "un peu", 0.95) for n in range(1, 31)])
    samples: list[float] = []

    def on_screen(_value: int) -> None:
        k.view.items.repaint()  # the highlighted answer is painted now, synchronously
        timing = k.voice.last_timing
        if timing is not None and timing.decision_perf is not None:
            samples.append((time.perf_counter() - timing.decision_perf) * 1000)

    k.vm.pending_answer.connect(on_screen)  # after the item view's own slot (it highlights the button)
    k.vm.record_check(audio_ok=True, microphone_ok=True)
    wait(lambda: k.vm.screen.kind is ScreenKind.INTRODUCTION and not k.vm.busy)
    k.vm.begin_items()
    wait(lambda: k.vm.screen.kind is ScreenKind.REVIEW or k.vm.screen.kind is ScreenKind.END, timeout=120)
    k.voice.shutdown()
    k.view.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=3)
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    del app
    samples: list[float] = []
    for _ in range(args.sessions):
        samples += one_session()
    samples.sort()
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    print(
        f"end of speech (endpointing decision) -> answer on screen, {len(samples)} answers in "
        f"{args.sessions} voice sessions: median {statistics.median(samples):.1f} ms, p95 {p95:.1f} ms, "
        f"max {samples[-1]:.1f} ms  target p95 <= 100 ms: {'OK' if p95 <= 100 else 'FAIL'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
