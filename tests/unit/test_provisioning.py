"""The provisioning file: each field checked on its own, bad ones named in French and left out, IT's values
applied when new or changed and the nurse's later changes kept, the code erased after use, `configure`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.domain.session import Mode
from kiosk.storage.fake import InMemorySessionStore
from kiosk.viewmodels import provisioning
from kiosk.viewmodels.options import KioskSettings, load_settings, save_settings

ROOT = Path(__file__).resolve().parents[2]
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


@pytest.fixture
def ca(tmp_path: Path) -> Path:
    path = tmp_path / "hopital-ca.pem"
    path.write_text(PEM, encoding="utf-8")
    return path


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_gives_its_link_and_settings(tmp_path: Path, ca: Path) -> None:
    path = _file(
        tmp_path,
        f'''# written by IT
format = 1
server_url = "https://qlq.chu-lyon.fr/"
site = "LYON-01"
enrollment_code = "K7Q2-9XMP"
ca_bundle = "{ca}"
language = "en"
default_mode = "voice-on-demand"
speech_rate_percent = 80
inactivity_seconds = 240
microphone = "USB Audio"
''',
    )
    found = provisioning.load(path)
    assert found.exists and found.problems == ()
    assert found.connection == {
        "server_url": "https://qlq.chu-lyon.fr",
        "site": "LYON-01",
        "enrollment_code": "K7Q2-9XMP",
        "ca_bundle": str(ca),
    }
    assert found.settings == {
        "default_language": "en",
        "default_mode": Mode.VOICE_ON_DEMAND,
        "speech_rate_percent": 80,
        "inactivity_seconds": 240,
        "microphone": "USB Audio",
    }


def test_each_bad_field_is_named_and_only_it_is_left_out(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        """format = 1
server_url = "http://qlq.chu.fr"
site = "LYON 01 <b>"
enrollment_code = "x"
ca_bundle = "/nonexistent/ca.pem"
language = "de"
default_mode = "shouting"
speech_rate_percent = 85
inactivity_seconds = 5
volume_percent = true
answer_beat_ms = 0
colour = "blue"
abandon_seconds = 1800
[extra]
a = 1
""",
    )
    found = provisioning.load(path)
    refused = {p.field: p for p in found.problems}
    assert set(refused) == {
        "server_url",
        "site",
        "enrollment_code",
        "ca_bundle",
        "language",
        "default_mode",
        "speech_rate_percent",
        "inactivity_seconds",
        "volume_percent",
        "answer_beat_ms",
        "colour",
        "extra",
    }
    assert found.settings == {"abandon_seconds": 1800} and found.connection == {}  # the good one still applies
    text = refused["server_url"].french()
    assert "champ « server_url » (adresse du serveur)" in text and "https://" in text and str(path) in text
    assert "hors des limites" in refused["inactivity_seconds"].reason
    assert "fichier illisible" in refused["ca_bundle"].reason
    assert "une des langues installées" in refused["language"].reason
    assert refused["enrollment_code"].value == "x"
    long_code = provisioning.parse('enrollment_code = "AB CD EF"', path).problems[0]
    assert long_code.value == "AB…"  # a code is never shown whole


def test_the_update_server_must_be_https(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    good = provisioning.parse('update_url = "https://releases.chu.fr/"', path)
    assert good.connection == {"update_url": "https://releases.chu.fr"} and not good.problems
    [problem] = provisioning.parse('update_url = "http://releases.chu.fr"', path).problems
    assert problem.field == "update_url" and "https://" in problem.reason
    assert "adresse des mises à jour" in problem.french()


def test_a_file_that_is_not_toml_is_one_problem_with_its_line(tmp_path: Path) -> None:
    found = provisioning.load(_file(tmp_path, 'format = 1\nserver_url = "https://a.fr\n'))
    assert found.settings == {} and found.connection == {}
    [problem] = found.problems
    assert problem.field == "" and "ligne 2" in problem.reason and "n'est pas appliqué" in problem.french()


def test_no_file_provisions_nothing_and_a_newer_format_is_named(tmp_path: Path) -> None:
    assert provisioning.load(tmp_path / "absent.toml") == provisioning.Provisioning(tmp_path / "absent.toml")
    found = provisioning.load(_file(tmp_path, "format = 2\nvolume_percent = 60\n"))
    assert [p.field for p in found.problems] == ["format"] and found.settings == {"volume_percent": 60}


def test_who_wins_it_when_it_sets_or_changes_a_field_else_the_nurse(tmp_path: Path) -> None:
    store = InMemorySessionStore()
    save_settings(KioskSettings(), store)
    first = provisioning.parse("speech_rate_percent = 80\ninactivity_seconds = 240\n", tmp_path / "k.toml")
    assert sorted(provisioning.apply_settings(first, store)) == ["inactivity_seconds", "speech_rate_percent"]
    assert load_settings(store).settings.speech_rate_percent == 80
    # The nurse changes both on the admin screen, and the voice volume (which IT does not set).
    save_settings(
        load_settings(store).settings.with_changes(speech_rate_percent=100, inactivity_seconds=600, volume_percent=50),
        store,
    )
    # Next start, the same file: the nurse's values stand.
    assert provisioning.apply_settings(first, store) == []
    assert load_settings(store).settings.speech_rate_percent == 100
    # IT updates the file: a new rate, the same pause, and now a default mode.
    second = provisioning.parse(
        "speech_rate_percent = 115\ninactivity_seconds = 240\ndefault_mode = 'touch'\n", tmp_path / "k.toml"
    )
    assert sorted(provisioning.apply_settings(second, store)) == ["default_mode", "speech_rate_percent"]
    settings = load_settings(store).settings
    assert settings.speech_rate_percent == 115  # IT's changed field wins
    assert settings.inactivity_seconds == 600  # unchanged in the file: the nurse's value stays
    assert settings.volume_percent == 50  # never in the file: the nurse's value stays


def test_the_used_code_is_erased_keeping_the_rest_and_comments(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        '# IT: tablet 12\nformat = 1\nserver_url = "https://a.fr"\n'
        'enrollment_code = "K7Q2-9XMP"  # single use\nsite = "S1"\n',
    )
    assert provisioning.consume_enrollment_code(path)
    text = path.read_text(encoding="utf-8")
    assert "K7Q2" not in text and "# IT: tablet 12" in text and 'site = "S1"' in text
    assert provisioning.load(path).connection == {"server_url": "https://a.fr", "site": "S1"}
    assert provisioning.consume_enrollment_code(path)  # nothing left to erase: fine


def test_write_merges_validates_and_refuses_without_touching_the_file(tmp_path: Path, ca: Path) -> None:
    path = tmp_path / "etc" / "kiosk.toml"
    written = provisioning.write(path, {"server_url": "https://qlq.fr", "site": "S1", "ca_bundle": str(ca)})
    assert written.connection["server_url"] == "https://qlq.fr" and path.read_text().startswith("# Kiosque")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="speech_rate_percent"):
        provisioning.write(path, {"speech_rate_percent": 55, "site": "S2"})
    assert path.read_bytes() == before
    provisioning.write(path, {"site": None, "volume_percent": 70})
    found = provisioning.load(path)
    assert "site" not in found.connection and found.settings == {"volume_percent": 70}


def _configure(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "configure", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )


def test_configure_command(tmp_path: Path, ca: Path) -> None:
    path = tmp_path / "kiosk.toml"
    done = _configure(
        "--file",
        str(path),
        "--server",
        "https://qlq.chu.fr",
        "--site",
        "LYON-01",
        "--code",
        "K7Q2-9XMP",
        "--ca-bundle",
        str(ca),
        "--set",
        "speech_rate_percent=80",
        "--set",
        "default_mode=touch",
        "--language",
        "fr",
    )
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["enrollment_code"] == "K7…" and shown["speech_rate_percent"] == 80 and "K7Q2" not in done.stdout
    before = path.read_bytes()
    bad = _configure("--file", str(path), "--server", "ftp://x", "--set", "inactivity_seconds=5")
    assert bad.returncode == 2 and "rien n'a été écrit" in bad.stderr
    assert "champ « server_url »" in bad.stderr and "champ « inactivity_seconds »" in bad.stderr
    assert path.read_bytes() == before
    assert _configure("--file", str(path), "--show").returncode == 0
    assert _configure("--file", str(path), "--set", "novalue").returncode == 2
