"""The one audio service: pack clips bound to their text, stale clips never played, espeak-ng live when a clip
is missing, "unavailable" (never a hang) when nothing can speak, a new prompt stopping the old one, replay."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from kiosk.audio.pack import DEFAULT_RATE, MANIFEST, SAMPLE_RATE, AudioPack
from kiosk.audio.qt_player import QtAudioService
from kiosk.domain.instrument import load_instrument
from kiosk.domain.prompts import confirmation_prompt, item_prompt, prompt_catalogue

FR = load_instrument("qlq-c30", "fr")
CATALOGUE = prompt_catalogue(FR)


@pytest.fixture
def pack_copy(espeak_pack: Path, tmp_path: Path) -> Path:
    """A private copy of the session's espeak pack (tests may damage it)."""
    target = tmp_path / "packs" / "fr"
    shutil.copytree(espeak_pack, target)
    return target


def _effect_file(service: QtAudioService) -> str:
    effect = service._effect
    return effect.source().toLocalFile() if effect is not None else ""


def test_plays_the_pack_clip_of_the_current_text(qtbot, espeak_pack: Path) -> None:
    service = QtAudioService(espeak_pack, live=None)
    prompt = item_prompt(FR, 5)
    with qtbot.waitSignal(service.finished, timeout=5000) as done:
        service.play(prompt.prompt_id, prompt.text)
        assert service.source.kind == "pack"
        assert service.source.path == espeak_pack / f"item-05.r{round(DEFAULT_RATE * 100):03d}.wav"
        assert _effect_file(service) == str(service.source.path)  # handed to QSoundEffect
    assert done.args == ["item-05"] and service.playing is None


def test_every_catalogue_prompt_has_a_fresh_clip(espeak_pack: Path) -> None:
    pack = AudioPack.load(espeak_pack)
    for prompt_id, text in CATALOGUE.items():
        lookup = pack.lookup(prompt_id, text, rate=DEFAULT_RATE)
        assert lookup.ok and lookup.clip is not None, prompt_id
        assert (lookup.clip.engine, lookup.clip.voice, lookup.clip.sample_rate) == ("espeak", "fr-fr", SAMPLE_RATE)
        assert lookup.clip.duration_ms > 300


def test_a_stale_clip_is_never_played(qtbot, pack_copy: Path) -> None:
    """The instrument's wording changed after the pack was built: the old clip must not be heard."""
    stale_file = pack_copy / f"item-02.r{round(DEFAULT_RATE * 100):03d}.wav"
    new_text = item_prompt(FR, 2).text.replace("longue promenade", "longue marche")
    service = QtAudioService(pack_copy)  # espeak-ng live available
    with qtbot.waitSignal(service.finished, timeout=20000):
        service.play("item-02", new_text)
        assert service.source.kind == "espeak-live"
    assert _effect_file(service) != str(stale_file)
    # without a live voice: unavailable, still never the stale clip
    silent = QtAudioService(pack_copy, live=None)
    with qtbot.waitSignals([silent.unavailable, silent.finished], timeout=5000):
        silent.play("item-02", new_text)
    assert silent.source.kind == "none" and _effect_file(silent) != str(stale_file)


def test_a_clip_of_another_language_is_stale(qtbot, pack_copy: Path) -> None:
    manifest = json.loads((pack_copy / MANIFEST).read_text(encoding="utf-8"))
    for clip in manifest["clips"]:
        if clip["prompt_id"] == "intro":
            clip["language"] = "en"
    (pack_copy / MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    service = QtAudioService(pack_copy, live=None)
    with qtbot.waitSignal(service.unavailable, timeout=5000) as blocker:
        service.play("intro", CATALOGUE["intro"])
    assert "stale" in blocker.args[1]


def test_no_pack_no_espeak_is_unavailable_and_finishes(qtbot, tmp_path: Path) -> None:
    service = QtAudioService(tmp_path / "fr", live=None)
    with qtbot.waitSignals([service.started, service.unavailable, service.finished], timeout=3000):
        service.play("intro", CATALOGUE["intro"])
    assert service.source.kind == "none" and "espeak-ng is not installed" in service.source.reason
    assert service.playing is None


def test_missing_clip_is_spoken_live_with_espeak(qtbot, pack_copy: Path) -> None:
    prompt = confirmation_prompt(FR, "likert4", 3)
    (pack_copy / f"{prompt.prompt_id}.r{round(DEFAULT_RATE * 100):03d}.wav").unlink()
    service = QtAudioService(pack_copy)
    with qtbot.waitSignal(service.finished, timeout=20000):
        service.play(prompt.prompt_id, prompt.text)
        assert service.source.kind == "espeak-live"
    live_file = Path(_effect_file(service))
    assert live_file.suffix == ".wav" and live_file.parent != pack_copy  # a live clip, in the private cache


def test_a_new_prompt_stops_the_old_one_and_its_late_live_audio_is_dropped(qtbot, tmp_path: Path) -> None:
    service = QtAudioService(tmp_path / "fr")  # no pack: both prompts go to espeak-ng live
    finished: list[str] = []
    service.finished.connect(finished.append)
    service.play("intro", CATALOGUE["intro"])  # long text: still synthesising when the next prompt comes
    service.play("item-01", CATALOGUE["item-01"])
    assert finished == ["intro"]  # stopped at once
    qtbot.waitUntil(lambda: finished == ["intro", "item-01"], timeout=20000)
    qtbot.wait(300)
    assert finished == ["intro", "item-01"]  # the intro's late synthesis never played nor ended anything


def test_replay_plays_the_last_prompt_again(qtbot, espeak_pack: Path) -> None:
    service = QtAudioService(espeak_pack, live=None)
    assert service.replay() is False
    prompt = item_prompt(FR, 9)
    with qtbot.waitSignal(service.finished, timeout=5000):
        service.play(prompt.prompt_id, prompt.text)
    with qtbot.waitSignal(service.started, timeout=5000) as again:
        assert service.replay() is True
    assert again.args == ["item-09"] and service.source.kind == "pack"


def test_rate_picks_the_clips_of_that_rate(qtbot, pack_copy: Path) -> None:
    from tests.fakes.audio_pack import build_espeak_pack

    build_espeak_pack(pack_copy.parent, "fr", rates=(DEFAULT_RATE, 1.15))
    service = QtAudioService(pack_copy, live=None)
    service.set_rate(1.15)
    with qtbot.waitSignal(service.finished, timeout=5000):
        service.play("item-03", CATALOGUE["item-03"])
    assert service.source.kind == "pack" and service.source.path is not None
    assert service.source.path.name == "item-03.r115.wav"
    service.set_rate(0.8)  # not in the pack: the nearest rate rather than nothing
    with qtbot.waitSignal(service.finished, timeout=5000):
        service.play("item-03", CATALOGUE["item-03"])
    assert service.source.kind == "pack-other-rate" and service.source.path.name == "item-03.r090.wav"
    live = QtAudioService(pack_copy)  # espeak-ng installed: the same voice, live, at the right pace
    live.set_rate(0.8)
    with qtbot.waitSignal(live.finished, timeout=20000):
        live.play("item-03", CATALOGUE["item-03"])
        assert live.source.kind == "espeak-live"


def test_damaged_manifest_is_reported_and_treated_as_empty(qtbot, pack_copy: Path, caplog) -> None:
    (pack_copy / MANIFEST).write_text("{not json", encoding="utf-8")
    service = QtAudioService(pack_copy, live=None)
    with caplog.at_level(logging.ERROR), qtbot.waitSignal(service.finished, timeout=3000):
        service.play("intro", CATALOGUE["intro"])
    assert "manifest.json: cannot read the audio pack manifest" in caplog.text
    assert service.source.kind == "none"


def test_prompt_text_is_never_logged(qtbot, tmp_path: Path, caplog) -> None:
    prompt = confirmation_prompt(FR, "likert4", 4)
    service = QtAudioService(tmp_path / "fr", live=None)
    with caplog.at_level(logging.DEBUG), qtbot.waitSignal(service.finished, timeout=3000):
        service.play(prompt.prompt_id, prompt.text)
    assert prompt.prompt_id in caplog.text and "beaucoup" not in caplog.text.lower()


def _fake_espeak(tmp_path: Path, body: str) -> str:
    script = tmp_path / "espeak-ng"
    script.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    script.chmod(0o755)
    return str(script)


def test_a_stuck_or_broken_live_voice_never_hangs_the_prompt(qtbot, tmp_path: Path) -> None:
    from kiosk.audio.synth import EspeakSynthesizer

    stuck = EspeakSynthesizer(_fake_espeak(tmp_path, "sleep 30"), timeout=1.0)
    service = QtAudioService(tmp_path / "fr", live=stuck)
    reasons: list[str] = []
    service.unavailable.connect(lambda _p, reason: reasons.append(reason))
    with qtbot.waitSignal(service.finished, timeout=5000):
        service.play("intro", CATALOGUE["intro"])
    assert reasons and "did not finish within 1 s" in reasons[0]
    broken_dir = tmp_path / "broken"
    broken_dir.mkdir()
    broken = EspeakSynthesizer(_fake_espeak(broken_dir, "echo 'no voice fr-fr' >&2; exit 1"))
    service = QtAudioService(tmp_path / "fr", live=broken)
    with qtbot.waitSignal(service.unavailable, timeout=5000) as blocker:
        service.play("intro", CATALOGUE["intro"])
    assert "espeak-ng failed (exit 1): no voice fr-fr" in blocker.args[1]
