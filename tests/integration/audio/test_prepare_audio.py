"""``qlq-kiosk prepare-audio --engine google`` against the local fake Text-to-Speech server (real client, gRPC)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import grpc
import pytest
from google.cloud import texttospeech_v1 as tts

from kiosk.audio.pack import MANIFEST, AudioPack, LookupStatus
from kiosk.cli.main import main
from kiosk.domain.instrument import load_instrument
from kiosk.domain.prompts import item_prompt, prompt_catalogue, text_sha256
from kiosk.domain.resources import resources_dir
from tests.fakes.google_tts import serve_fake_tts


@pytest.fixture
def fake_tts():
    with serve_fake_tts() as (fake, address):
        yield fake, address


def prepare(address: str, out: Path, *extra: str) -> int:
    return main(
        [
            "prepare-audio",
            "--language",
            "fr",
            "--engine",
            "google",
            "--endpoint",
            address,
            "--plaintext",
            "--out",
            str(out),
            "--quiet",
            "--attempts",
            "2",
            *(extra or ("--rate", "0.9")),
        ]
    )


def test_builds_every_prompt_once_with_a_right_manifest(fake_tts, tmp_path: Path) -> None:
    fake, address = fake_tts
    out = tmp_path / "fr"
    assert prepare(address, out, "--voice", "fr-FR-Neural2-A", "--rate", "0.9") == 0
    catalogue = prompt_catalogue(load_instrument("qlq-c30", "fr"))
    assert sorted(fake.texts) == sorted(catalogue.values())
    first = fake.requests[0]
    assert first.voice.language_code == "fr-FR" and first.voice.name == "fr-FR-Neural2-A"
    assert first.audio_config.audio_encoding == tts.AudioEncoding.LINEAR16
    assert first.audio_config.speaking_rate == pytest.approx(0.9)
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["format"] == "qlq-audio-pack" and manifest["language"] == "fr"
    assert manifest["instrument"]["content_sha256"] == load_instrument("qlq-c30", "fr").content_sha256
    by_id = {c["prompt_id"]: c for c in manifest["clips"]}
    assert set(by_id) == set(catalogue)
    for prompt_id, text in catalogue.items():
        clip = by_id[prompt_id]
        assert clip["text_sha256"] == text_sha256(text)
        assert (clip["language"], clip["voice"], clip["rate"], clip["engine"]) == (
            "fr",
            "fr-FR-Neural2-A",
            0.9,
            "google",
        )
        assert clip["sample_rate"] == 16000 and clip["duration_ms"] >= 100
        assert (out / clip["file"]).read_bytes()[:4] == b"RIFF"


def test_only_missing_prompts_are_requested(fake_tts, tmp_path: Path) -> None:
    fake, address = fake_tts
    out = tmp_path / "fr"
    assert prepare(address, out) == 0
    fake.requests.clear()
    assert prepare(address, out) == 0
    assert fake.texts == []  # everything up to date: nothing sent
    pack = AudioPack.load(out)
    gone = [c for c in pack if c.prompt_id in ("item-12", "confirm-likert4-3")]
    for clip in gone:
        pack.path_of(clip).unlink()
    assert prepare(address, out) == 0
    catalogue = prompt_catalogue(load_instrument("qlq-c30", "fr"))
    assert sorted(fake.texts) == sorted([catalogue["item-12"], catalogue["confirm-likert4-3"]])
    # a second rate is a new set of clips; the first rate's are kept
    fake.requests.clear()
    assert prepare(address, out, "--rate", "0.9", "--rate", "1.15") == 0
    assert len(fake.texts) == len(catalogue)
    assert all(r.audio_config.speaking_rate == pytest.approx(1.15) for r in fake.requests)


def test_a_failing_prompt_is_named_and_the_rest_kept(fake_tts, tmp_path: Path, capsys) -> None:
    fake, address = fake_tts
    inst = load_instrument("qlq-c30", "fr")
    item7 = item_prompt(inst, 7).text
    item9 = item_prompt(inst, 9).text
    fake.fail_when(inst.item(7).spoken_text, grpc.StatusCode.UNAVAILABLE)  # always: retried, then given up
    fake.fail_when(inst.item(9).spoken_text, grpc.StatusCode.INVALID_ARGUMENT)  # never retried
    fake.fail_when(inst.item(11).spoken_text, grpc.StatusCode.UNAVAILABLE, times=1)  # the retry succeeds
    out = tmp_path / "fr"
    assert prepare(address, out) == 1
    err = capsys.readouterr().err
    assert "FAILED item-07@0.9: Google Text-to-Speech failed 2 times: UNAVAILABLE" in err
    assert "FAILED item-09@0.9: Google Text-to-Speech refused the request: INVALID_ARGUMENT" in err
    assert "item-11" not in err
    assert fake.texts.count(item7) == 2 and fake.texts.count(item9) == 1
    pack = AudioPack.load(out)
    catalogue = prompt_catalogue(inst)
    assert {c.prompt_id for c in pack} == set(catalogue) - {"item-07", "item-09"}
    # the next run asks only for the two that failed
    fake.failures.clear()
    fake.requests.clear()
    assert prepare(address, out) == 0
    assert sorted(fake.texts) == sorted([item7, item9])


def test_progress_is_shown_per_prompt(fake_tts, tmp_path: Path, capsys) -> None:
    _fake, address = fake_tts
    code = main(
        [
            "prepare-audio",
            "--language",
            "en",
            "--engine",
            "google",
            "--endpoint",
            address,
            "--plaintext",
            "--out",
            str(tmp_path / "en"),
            "--rate",
            "1.0",
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert lines[0] == "[1/84] check-audio: synthesised" and lines[-1] == "[84/84] end-abandoned: synthesised"
    assert "84 synthesised, 0 up to date, 0 failed" in captured.out
    assert _fake.requests[0].voice.language_code == "en-GB"


def test_unreachable_service_fails_fast_and_names_each_prompt(tmp_path: Path, capsys) -> None:
    with serve_fake_tts() as (_fake, address):
        pass  # stopped: nothing listens on that port any more
    out = tmp_path / "fr"
    code = main(
        [
            "prepare-audio",
            "--language",
            "fr",
            "--engine",
            "google",
            "--endpoint",
            address,
            "--plaintext",
            "--out",
            str(out),
            "--quiet",
            "--attempts",
            "1",
            "--timeout",
            "2",
            "--rate",
            "0.9",
        ]
    )
    assert code == 1
    assert "FAILED intro@0.9" in capsys.readouterr().err


def test_plaintext_only_to_loopback(tmp_path: Path, capsys) -> None:
    code = main(
        [
            "prepare-audio",
            "--language",
            "fr",
            "--engine",
            "google",
            "--endpoint",
            "texttospeech.googleapis.com:443",
            "--plaintext",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "only for a local test server" in capsys.readouterr().err


def _resources_with_item_text(tmp_path: Path, number: int, spoken: str) -> Path:
    root = tmp_path / "resources"
    shutil.copytree(resources_dir(), root, ignore=shutil.ignore_patterns("audio"))
    path = root / "instruments" / "qlq-c30.fr.toml"
    text = path.read_text(encoding="utf-8")
    old = load_instrument("qlq-c30", "fr").item(number).text
    assert old in text
    path.write_text(text.replace(old, spoken, 1), encoding="utf-8")
    return root


def test_changed_item_text_is_resynthesised_and_the_stale_clip_never_matches(fake_tts, tmp_path, monkeypatch) -> None:
    fake, address = fake_tts
    out = tmp_path / "pack" / "fr"
    assert prepare(address, out) == 0
    old_clip = AudioPack.load(out).get("item-02", 0.9)
    assert old_clip is not None
    # A corrected licensed wording of item 2 arrives in the instrument file.
    changed = _resources_with_item_text(tmp_path, 2, "Avez-vous du mal à marcher longtemps ?")
    monkeypatch.setenv("QLQ_RESOURCES_DIR", str(changed))
    new_inst = load_instrument("qlq-c30", "fr")
    new_text = item_prompt(new_inst, 2).text
    assert "marcher longtemps" in new_text
    # Before the pack is rebuilt, the old clip is stale for the new text: never returned.
    assert AudioPack.load(out).lookup("item-02", new_text, rate=0.9).status is LookupStatus.STALE
    fake.requests.clear()
    assert prepare(address, out) == 0
    assert fake.texts == [new_text]  # only the changed prompt
    lookup = AudioPack.load(out).lookup("item-02", new_text, rate=0.9)
    assert lookup.ok and lookup.clip is not None and lookup.clip.text_sha256 == text_sha256(new_text)
    assert lookup.clip.created_at >= old_clip.created_at
