"""Voice prompt latency: item shown → its prompt's first audio samples going out, from the audio pack.

    uv run python bench/voice_prompt_latency.py [--sessions 5]

What is measured, exactly. This machine has no sound card, so the benchmark starts a private PulseAudio daemon
with a null sink (tests/fakes/null_sink.py): a real audio output that consumes samples in real time. Then:

- t0: the patient screen has rendered the new item (a slot connected to ``screen_changed`` AFTER the
  SessionView, so it runs once the view has drawn the item; the prompt is requested right after that);
- t_ready: QSoundEffect reports ``Ready``: the pack clip was found by prompt id + text hash, its WAV decoded;
- t1: QSoundEffect's ``playing`` turns true (our ``audible`` signal): Qt has the decoded clip and has started
  playing it into its audio sink on the PulseAudio stream (which then pulls samples in real time; the test
  tests/ui/test_audio_sink.py checks the clip then lasts its real length). That is the last point the
  application can observe. Not included, and not measurable without a sound card: the first pull of samples
  by the server and PulseAudio's own buffering to a loudspeaker (device dependent, typically tens of ms).

The real kiosk stack is used: SessionViewModel, the SessionView widgets (offscreen), QtAudioService over an
espeak-ng pack built by ``qlq-kiosk prepare-audio`` (into a temp folder, or ``$QLQ_AUDIO_DIR`` if it has one),
an in-memory store. Each answer is given as soon as its prompt started (so each new prompt stops the old one,
as when a patient answers during the prompt). Target: p95 ≤ 50 ms. Also printed, for information: the same with
no pack (espeak-ng synthesising live), the fallback's cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 50.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_sessions(  # noqa: PLR0915 - one benchmark's steps, in order
    pack_dir: Path, sessions: int, items: int | None = None
) -> tuple[list[float], list[float], int, list[float]]:
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from kiosk.audio.qt_player import QtAudioService
    from kiosk.domain.clock import SystemClock
    from kiosk.domain.instrument import load_instrument
    from kiosk.domain.session import Mode
    from kiosk.storage.fake import InMemorySessionStore
    from kiosk.tasks import TaskManager
    from kiosk.ui import theme
    from kiosk.ui.patient_screens import SessionView
    from kiosk.viewmodels.options import KioskSettings
    from kiosk.viewmodels.screens import ScreenKind
    from kiosk.viewmodels.session_vm import SessionViewModel
    from kiosk.viewmodels.start_form import StartForm, build_session

    app = QApplication.instance() or QApplication([])
    instrument = load_instrument("qlq-c30", "fr")
    tasks = TaskManager()
    audio = QtAudioService(pack_dir)
    audio.set_rate(0.9)
    latencies: list[float] = []
    ready: list[float] = []
    unavailable = 0
    first_session: list[float] = []  # clips never loaded before (Qt's sample cache is cold)
    now = datetime.now(UTC)
    loop = QEventLoop()
    effect_ready: list[float] = []  # when QSoundEffect reported Ready (clip decoded)

    def status() -> None:
        effect = audio._effect  # the sink's own status, for the decode split
        if effect is not None and effect.status() == effect.Status.Ready:
            effect_ready.append(time.perf_counter())

    hooked = False
    for n in range(sessions):
        form = StartForm(
            initials="b m",
            birth_date="07/03/1952",
            session_date=now.date(),
            mode=Mode.TOUCH,
            audio_enabled=True,
            language="fr",
            consent_answers=True,
            consent_voice=False,
        )
        session, _ = build_session(
            form, instrument, session_id=f"00000000-0000-4000-8000-{n:012d}", now=now, today=now.date()
        )
        assert session is not None
        session = session.record_check(audio_ok=True, microphone_ok=None, now=now).begin_items(now=now)
        vm = SessionViewModel(
            session,
            store=InMemorySessionStore(),
            tasks=tasks,
            audio=audio,
            clock=SystemClock(),
            settings=KioskSettings(answer_beat_ms=0),
            device_id="bench",
        )
        prefs = theme.DisplayPrefs(0)
        view = SessionView(vm, prefs)
        view.resize(1280, 800)
        view.show()
        marks: dict[str, float] = {}

        def shown(state: object, marks: dict[str, float] = marks) -> None:
            if getattr(state, "kind", None) is ScreenKind.ITEM:
                marks.clear()
                marks["t0"] = time.perf_counter()

        vm.screen_changed.connect(shown)  # after SessionView's own slot: the item is rendered by now

        def heard(_prompt: str, marks: dict[str, float] = marks) -> None:
            marks["t1"] = time.perf_counter()
            loop.quit()

        def failed(_prompt: str, _reason: str, marks: dict[str, float] = marks) -> None:
            marks["failed"] = time.perf_counter()
            loop.quit()

        audio.audible.connect(heard)
        audio.unavailable.connect(failed)
        count = 0
        # the first item's screen is already shown: play its prompt as the view does when it appears
        marks["t0"] = time.perf_counter()
        vm.play_screen_prompt()
        while vm.screen.kind is ScreenKind.ITEM and (items is None or count < items):
            if "t1" not in marks and "failed" not in marks:
                QTimer.singleShot(5000, loop.quit)
                loop.exec()
            if not hooked and audio._effect is not None:
                audio._effect.statusChanged.connect(status)
                hooked = True
            if "t1" in marks:
                latencies.append((marks["t1"] - marks["t0"]) * 1000)
                if n == 0:
                    first_session.append(latencies[-1])
                if effect_ready and effect_ready[-1] >= marks["t0"]:
                    ready.append((effect_ready[-1] - marks["t0"]) * 1000)
            else:
                unavailable += 1
            count += 1
            vm.answer(2)
            while vm.busy:
                app.processEvents(QEventLoop.ProcessEventsFlag.WaitForMoreEvents, 50)
        audio.stop()
        audio.audible.disconnect(heard)
        audio.unavailable.disconnect(failed)
        view.close()
        view.deleteLater()
        app.processEvents()
    tasks.shutdown(wait=True)
    return latencies, ready, unavailable, first_session


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=5, help="sessions of 30 items (default 5)")
    args = parser.parse_args()
    from tests.fakes.null_sink import null_sink, pulseaudio_available

    if not pulseaudio_available():
        print("FAIL: pulseaudio is not installed (scripts/bootstrap.sh installs it): no audio sink to measure")
        return 2
    with tempfile.TemporaryDirectory(prefix="qlq-bench-audio-") as tmp:
        packs = Path(os.environ.get("QLQ_AUDIO_DIR") or tmp)
        from tests.fakes.audio_pack import build_espeak_pack

        started = time.perf_counter()
        pack = build_espeak_pack(packs, "fr", rates=(0.9,))
        print(f"espeak-ng pack ready in {time.perf_counter() - started:.1f} s: {pack}")
        with null_sink() as server:
            os.environ["PULSE_SERVER"] = server  # before QtMultimedia starts
            latencies, ready, unavailable, cold = run_sessions(pack, args.sessions)
            live, _ready, live_unavailable, _cold = run_sessions(Path(tmp) / "no-pack" / "fr", 1, items=10)
    if not latencies:
        print(f"FAIL: no prompt was heard ({unavailable} unavailable): the sink did not play")
        return 1
    p50, p95 = statistics.median(latencies), percentile(latencies, 0.95)
    print(
        f"item shown → clip playing on the sink (pack), n={len(latencies)}: p50 {p50:.1f} ms, p95 {p95:.1f} ms, "
        f"max {max(latencies):.1f} ms; not heard: {unavailable}"
    )
    if cold:
        print(
            f"  first session only (each clip loaded for the first time), n={len(cold)}: "
            f"p50 {statistics.median(cold):.1f} ms, p95 {percentile(cold, 0.95):.1f} ms"
        )
    if ready:
        print(
            f"  of which item shown → clip decoded (QSoundEffect Ready), n={len(ready)}: "
            f"p50 {statistics.median(ready):.1f} ms, p95 {percentile(ready, 0.95):.1f} ms"
        )
    if live:
        print(
            f"info: no pack, espeak-ng live, n={len(live)}: p50 {statistics.median(live):.0f} ms, "
            f"p95 {percentile(live, 0.95):.0f} ms; not heard: {live_unavailable}"
        )
    ok = p95 <= TARGET_P95_MS and unavailable == 0
    print(f"{'PASS' if ok else 'FAIL'}: p95 {p95:.1f} ms (target ≤ {TARGET_P95_MS:.0f} ms)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
