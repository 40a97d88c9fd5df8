"""Audio pack manifests: lookups bound to the text hash, clear errors on damaged manifests, atomic writes."""

from __future__ import annotations

import json
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from kiosk.audio.build import build_pack, resample, to_pack_format
from kiosk.audio.pack import MANIFEST, SAMPLE_RATE, AudioPack, Clip, LookupStatus, PackError, clip_file_name, wav_info
from kiosk.audio.synth import SynthesisError
from kiosk.domain.prompts import text_sha256


def _wav(path: Path, frames: int = 1600) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(b"\x01\x00" * frames)


class ScriptedSynth:
    """A synthesiser neighbour for the builder: WAV of a length set by the text; fails on chosen texts."""

    engine = "espeak"

    def __init__(self, fail: set[str] | None = None, *, sample_rate: int = 16000, channels: int = 1) -> None:
        self.calls: list[tuple[str, float]] = []
        self.fail = fail or set()
        self.sample_rate, self.channels = sample_rate, channels

    def voice_for(self, language: str, voice: str | None) -> str:
        return voice or f"{language}-test"

    def synthesize(self, text: str, *, language: str, voice: str | None, rate: float) -> bytes:
        self.calls.append((text, rate))
        if text in self.fail:
            raise SynthesisError("scripted failure")
        import io

        out = io.BytesIO()
        with wave.open(out, "wb") as w:
            w.setnchannels(self.channels)
            w.setsampwidth(2)
            w.setframerate(self.sample_rate)
            w.writeframes(b"\x00\x01" * (self.sample_rate // 100 * self.channels * len(text)))
        return out.getvalue()


CATALOGUE = {"intro": "Bonjour.", "item-01": "Avez-vous mal ?", "confirm-likert4-3": "Vous avez répondu : assez."}


def test_build_then_lookup_only_the_exact_text(tmp_path: Path) -> None:
    synth = ScriptedSynth()
    report = build_pack(CATALOGUE, tmp_path / "fr", synth, language="fr", rates=(0.9,))
    assert report.ok and sorted(report.synthesised) == sorted(f"{k}@0.9" for k in CATALOGUE)
    pack = AudioPack.load(tmp_path / "fr")
    hit = pack.lookup("item-01", "Avez-vous mal ?", rate=0.9)
    assert hit.ok and hit.path == tmp_path / "fr" / clip_file_name("item-01", 0.9)
    assert pack.lookup("item-01", "Avez-vous mal  ?", rate=0.9).status is LookupStatus.STALE
    assert pack.lookup("item-02", "x", rate=0.9).status is LookupStatus.MISSING
    assert pack.lookup("item-01", "Avez-vous mal ?", rate=1.0).status is LookupStatus.MISSING
    assert pack.lookup("item-01", "Avez-vous mal ?", rate=1.0, any_rate=True).ok
    clip = pack.get("item-01", 0.9)
    assert clip is not None and clip.duration_ms == round(160 * len("Avez-vous mal ?") * 1000 / 16000)


def test_rebuild_synthesises_only_changes_and_removes_orphans(tmp_path: Path) -> None:
    out = tmp_path / "fr"
    build_pack(CATALOGUE, out, ScriptedSynth(), language="fr", rates=(0.9,))
    changed = {**CATALOGUE, "item-01": "Avez-vous eu mal ?"}
    del changed["intro"]
    synth = ScriptedSynth()
    report = build_pack(changed, out, synth, language="fr", rates=(0.9,))
    assert synth.calls == [("Avez-vous eu mal ?", 0.9)]
    assert report.removed == ["intro@0.9"] and not (out / clip_file_name("intro", 0.9)).exists()
    # another voice or engine makes every clip "changed"
    synth = ScriptedSynth()
    build_pack(changed, out, synth, language="fr", voice="other", rates=(0.9,))
    assert len(synth.calls) == len(changed)


def test_a_missing_or_corrupt_clip_file_is_remade(tmp_path: Path) -> None:
    out = tmp_path / "fr"
    build_pack(CATALOGUE, out, ScriptedSynth(), language="fr", rates=(0.9,))
    (out / clip_file_name("intro", 0.9)).write_bytes(b"not a wav")
    (out / clip_file_name("item-01", 0.9)).unlink()
    synth = ScriptedSynth()
    build_pack(CATALOGUE, out, synth, language="fr", rates=(0.9,))
    assert sorted(t for t, _ in synth.calls) == sorted(["Bonjour.", "Avez-vous mal ?"])


def test_every_clip_is_stored_at_the_pack_format(tmp_path: Path) -> None:
    """espeak-ng speaks at 22.05 kHz: the pack holds 16 kHz mono 16-bit, of the same duration."""
    out = tmp_path / "fr"
    build_pack(CATALOGUE, out, ScriptedSynth(sample_rate=22050, channels=2), language="fr", rates=(0.9,))
    for clip in AudioPack.load(out):
        info = wav_info(out / clip.file)
        assert (info.sample_rate, info.channels, info.sample_width) == (SAMPLE_RATE, 1, 2) == (16000, 1, 2)
        assert clip.sample_rate == SAMPLE_RATE
        assert clip.duration_ms == pytest.approx(10 * len(CATALOGUE[clip.prompt_id]), abs=2)


def test_a_clip_in_another_format_is_remade(tmp_path: Path) -> None:
    """A pack built before the format was 16 kHz (espeak-ng's 22.05 kHz clips) is brought to it."""
    out = tmp_path / "fr"
    build_pack(CATALOGUE, out, ScriptedSynth(), language="fr", rates=(0.9,))
    with wave.open(str(out / clip_file_name("intro", 0.9)), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(22050)
        w.writeframes(b"\x01\x00" * 2205)
    synth = ScriptedSynth()
    build_pack(CATALOGUE, out, synth, language="fr", rates=(0.9,))
    assert [t for t, _ in synth.calls] == ["Bonjour."]
    assert wav_info(out / clip_file_name("intro", 0.9)).sample_rate == SAMPLE_RATE


def test_resampling_keeps_the_speech_band_and_folds_nothing_back() -> None:
    np = pytest.importorskip("numpy")
    t = np.arange(22050) / 22050

    def level(frequency: float) -> float:
        out = resample(np.sin(2 * np.pi * frequency * t), 22050, 16000)
        assert len(out) == 16000
        return float(np.sqrt(2 * np.mean(out[1000:-1000] ** 2)))

    assert level(300) == pytest.approx(1.0, abs=0.01) and level(4000) == pytest.approx(1.0, abs=0.01)
    assert level(6500) > 0.9  # the top of the speech band, barely touched
    assert level(9000) < 0.01 and level(10500) < 0.01  # above 8 kHz: would alias to 7000 and 5500 Hz


def test_without_numpy_a_clip_to_resample_fails_with_the_reason(tmp_path: Path, monkeypatch) -> None:
    """The kiosk's bundle has no numpy: prepare-audio there names why an espeak-ng clip cannot be made."""
    monkeypatch.setitem(sys.modules, "numpy", None)
    report = build_pack(CATALOGUE, tmp_path / "fr", ScriptedSynth(sample_rate=22050), language="fr", rates=(0.9,))
    assert set(report.failed) == {"intro@0.9", "item-01@0.9", "confirm-likert4-3@0.9"}
    assert all("needs numpy" in reason and "--engine google" in reason for reason in report.failed.values())
    report = build_pack(CATALOGUE, tmp_path / "fr", ScriptedSynth(), language="fr", rates=(0.9,))
    assert report.ok and len(report.synthesised) == 3  # already at the pack's rate: no numpy needed


def test_a_clip_already_in_the_pack_format_is_left_as_it_is(tmp_path: Path) -> None:
    _wav(tmp_path / "a.wav")
    data = (tmp_path / "a.wav").read_bytes()
    assert to_pack_format(data) == data


def test_failures_are_named_and_the_rest_is_written(tmp_path: Path) -> None:
    progress: list[tuple[int, int, str, str]] = []
    report = build_pack(
        CATALOGUE,
        tmp_path / "fr",
        ScriptedSynth(fail={"Bonjour."}),
        language="fr",
        rates=(0.9, 1.0),
        progress=lambda *a: progress.append(a),
    )
    assert report.failed == {"intro@0.9": "scripted failure", "intro@1": "scripted failure"}
    assert len(AudioPack.load(tmp_path / "fr")) == 4
    assert progress[0] == (1, 6, "intro", "failed: scripted failure") and progress[-1][:2] == (6, 6)


def _manifest(tmp_path: Path, clips: list[dict], **top) -> Path:
    folder = tmp_path / "fr"
    folder.mkdir(exist_ok=True)
    data = {"format": "qlq-audio-pack", "format_version": 1, "language": "fr", "clips": clips, **top}
    (folder / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    return folder


GOOD: dict[str, Any] = {
    "prompt_id": "intro",
    "file": "intro.r090.wav",
    "text_sha256": text_sha256("Bonjour."),
    "language": "fr",
    "voice": "fr-fr",
    "rate": 0.9,
    "engine": "espeak",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"text_sha256": "abc"}, "clips[0] (prompt 'intro'), field 'text_sha256': not a lowercase hex sha256"),
        ({"file": "../../etc/passwd.wav"}, "field 'file': must be a .wav file name inside the pack folder"),
        ({"rate": "fast"}, "field 'rate': must be a number between 0.1 and 4"),
        ({"engine": ""}, "field 'engine': missing or not a non-empty str"),
    ],
)
def test_damaged_entries_are_named(tmp_path: Path, change: dict, message: str) -> None:
    folder = _manifest(tmp_path, [{**GOOD, **change}])
    with pytest.raises(PackError, match="manifest.json: ") as err:
        AudioPack.load(folder)
    assert message in str(err.value)


def test_wrong_format_or_version_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PackError, match="format_version': 2 is not supported"):
        AudioPack.load(_manifest(tmp_path, [GOOD], format_version=2))
    (tmp_path / "fr" / MANIFEST).write_text("[]", encoding="utf-8")
    with pytest.raises(PackError, match="not an audio pack manifest"):
        AudioPack.load(tmp_path / "fr")


def test_no_manifest_is_an_empty_pack(tmp_path: Path) -> None:
    pack = AudioPack.load(tmp_path / "nowhere" / "fr")
    assert len(pack) == 0 and pack.lookup("intro", "x", rate=0.9).status is LookupStatus.MISSING


def test_entry_for_other_language_is_stale(tmp_path: Path) -> None:
    folder = _manifest(tmp_path, [{**GOOD, "language": "en"}])
    _wav(folder / "intro.r090.wav")
    assert AudioPack.load(folder).lookup("intro", "Bonjour.", rate=0.9).status is LookupStatus.STALE


def test_save_round_trips(tmp_path: Path) -> None:
    pack = AudioPack(tmp_path / "fr", "fr")
    pack.put(Clip(**GOOD))
    pack.save(instrument={"id": "qlq-c30"})
    again = AudioPack.load(tmp_path / "fr")
    assert list(again) == [Clip(**GOOD)]
    assert json.loads((tmp_path / "fr" / MANIFEST).read_text())["instrument"] == {"id": "qlq-c30"}
    assert [p.name for p in (tmp_path / "fr").iterdir()] == [MANIFEST]  # no temp file left behind


def test_check_complete_names_each_missing_or_stale_clip(tmp_path: Path) -> None:
    from kiosk.audio.pack import check_complete

    build_pack(CATALOGUE, tmp_path / "fr", ScriptedSynth(), language="fr", rates=(0.9, 1.0))
    pack = AudioPack.load(tmp_path / "fr")
    assert check_complete(pack, CATALOGUE, rates=(0.9, 1.0)) == []
    reworded = {**CATALOGUE, "item-01": "Avez-vous eu mal ?", "end": "Merci."}
    (tmp_path / "fr" / clip_file_name("intro", 1.0)).unlink()
    problems = check_complete(AudioPack.load(tmp_path / "fr"), reworded, rates=(0.9, 1.0))
    assert [(p.prompt_id, p.rate, p.status) for p in problems] == [
        ("intro", 1.0, LookupStatus.MISSING),
        ("item-01", 0.9, LookupStatus.STALE),
        ("item-01", 1.0, LookupStatus.STALE),
        ("end", 0.9, LookupStatus.MISSING),
        ("end", 1.0, LookupStatus.MISSING),
    ]
    assert len(check_complete(pack, CATALOGUE, rates=(0.8,))) == len(CATALOGUE)  # a rate the pack lacks
