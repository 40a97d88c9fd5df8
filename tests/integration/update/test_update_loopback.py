"""Kiosk updates against a real sync server on loopback: the kiosk asks ``GET /v1/releases/latest``, downloads
with its device token, verifies, installs between sessions beside the current version, self-tests, and rolls
back by itself. Releases are signed with installer/sign.sh and published with ``qlq-server publish-release``."""

from __future__ import annotations

import os

from kiosk.domain.release import load_public_key
from kiosk.update.service import Updater
from tests.integration.update.conftest import PLATFORM, get, publish
from tests.release_kit import make_keypair


def test_a_newer_release_is_downloaded_verified_installed_and_self_tested(server, kiosk, keys, tmp_path):
    publish(server, tmp_path / "build", "1.1.0", keys)
    status = kiosk.updater.run_once()
    assert status.stage == "installed", status
    assert status.restart_required and status.offered_version == "1.1.0"
    assert kiosk.layout.current_version() == "1.1.0"
    assert os.readlink(kiosk.layout.pointer) == "versions/1.1.0"
    assert (kiosk.layout.root / "current" / "qlq-kiosk").is_file()
    assert kiosk.layout.bundle("1.0.0").is_dir()  # the previous version stays, to go back to
    assert not any(kiosk.layout.downloads.iterdir())
    assert kiosk.layout.load_state().pending is None
    # now running 1.1.0: nothing newer
    again = Updater(
        kiosk.source,
        kiosk.layout,
        current_version="1.1.0",
        gate=kiosk.gate,
        public_key=load_public_key(keys.public_pem),
        platform=PLATFORM,
    )
    assert again.run_once().stage == "up_to_date"


def test_the_newest_of_several_releases_is_offered_by_version_not_by_name(server, kiosk, keys, tmp_path):
    for version in ("1.9.0", "1.10.0", "1.2.0"):
        publish(server, tmp_path / "build", version, keys)
    offer = kiosk.updater.check()
    assert offer is not None and offer.version == "1.10.0"


def test_a_tampered_download_is_refused_and_nothing_changes(server, kiosk, keys, tmp_path):
    published = publish(server, tmp_path / "build", "1.1.0", keys)
    data = bytearray(published.read_bytes())  # altered on the server's disk (or on the way) after publication
    data[100] ^= 0xFF
    published.write_bytes(bytes(data))
    status = kiosk.updater.run_once()
    assert status.stage == "failed" and status.code == "tampered_file", status
    assert kiosk.layout.current_version() == "1.0.0"
    assert not kiosk.layout.bundle("1.1.0").exists()
    assert not any(kiosk.layout.downloads.iterdir())  # the bad download is deleted
    assert kiosk.updater.ready is None


def test_a_release_signed_with_another_key_is_refused(server, kiosk, tmp_path):
    intruder = make_keypair(tmp_path / "intruder", "intruder")
    # the server was told to trust the intruder's key; the kiosk still trusts only its own
    publish(server, tmp_path / "build", "1.1.0", intruder, public_key=intruder.public_pem)
    status = kiosk.updater.run_once()
    assert status.stage == "failed" and status.code == "wrong_key", status
    assert kiosk.layout.current_version() == "1.0.0"
    assert not kiosk.layout.bundle("1.1.0").exists()


def test_a_failed_self_test_rolls_back_and_the_version_is_not_offered_again(server, kiosk, keys, tmp_path):
    publish(server, tmp_path / "build", "1.1.0", keys, self_test_exit=1)
    status = kiosk.updater.run_once()
    assert status.stage == "rolled_back" and status.code == "self_test_failed", status
    assert "exit code 1" in status.message and "self-test 1.1.0" in status.message
    assert kiosk.layout.current_version() == "1.0.0"
    assert os.readlink(kiosk.layout.pointer) == "versions/1.0.0"
    assert not kiosk.layout.bundle("1.1.0").exists()
    assert kiosk.layout.load_state().failed == ["1.1.0"]
    assert kiosk.updater.run_once().stage == "up_to_date"
    publish(server, tmp_path / "build", "1.1.1", keys)  # the fixed release is installed
    assert kiosk.updater.run_once().stage == "installed"
    assert kiosk.layout.current_version() == "1.1.1"


def test_an_update_offered_mid_session_waits_for_the_session_to_end(server, kiosk, keys, tmp_path):
    publish(server, tmp_path / "build", "1.1.0", keys)
    assert kiosk.gate.begin_session()
    thread = kiosk.updater.start_background()  # downloads and verifies while the patient answers
    thread.join(30)
    assert kiosk.updater.status.stage == "ready"
    status = kiosk.updater.install_pending()
    assert status.stage == "deferred", status
    assert kiosk.layout.current_version() == "1.0.0" and not kiosk.layout.bundle("1.1.0").exists()
    kiosk.gate.end_session()
    status = kiosk.updater.install_pending()
    assert status.stage == "installed", status
    assert kiosk.layout.current_version() == "1.1.0"


def test_no_session_can_start_while_an_update_installs(kiosk):
    with kiosk.gate.idle() as idle:
        assert idle
        assert not kiosk.gate.begin_session()
    assert kiosk.gate.begin_session()


def test_a_crash_during_the_self_test_is_rolled_back_at_the_next_start(server, kiosk, keys, tmp_path):
    publish(server, tmp_path / "build", "1.1.0", keys)
    verified = kiosk.updater.check_and_fetch()
    assert verified is not None
    layout = kiosk.layout
    layout.unpack(verified)  # what _install_now does before the self-test ...
    state = layout.load_state()
    state.pending, state.previous = "1.1.0", "1.0.0"
    layout.save_state(state)
    layout.switch_to("1.1.0")  # ... and then the power goes
    restarted = Updater(
        kiosk.source,
        layout,
        current_version="1.1.0",
        gate=kiosk.gate,
        public_key=load_public_key(keys.public_pem),
        platform=PLATFORM,
    )
    status = restarted.recover()
    assert status is not None and status.code == "self_test_interrupted"
    assert layout.current_version() == "1.0.0" and not layout.bundle("1.1.0").exists()


def test_the_endpoint_needs_a_device_token_and_names_its_errors(server, keys, tmp_path):
    assert get(server, "/v1/releases/latest", os="linux", arch="x86_64").status_code == 401
    missing = get(server, "/v1/releases/latest", server.device_token, os="linux", arch="x86_64")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "no_release"
    bad = get(server, "/v1/releases/latest", server.device_token, os="linux;rm", arch="x86_64")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "os"
    publish(server, tmp_path / "build", "1.1.0", keys)
    body = get(server, "/v1/releases/latest", server.device_token, os="linux", arch="x86_64").json()
    assert body["version"] == "1.1.0" and body["archive"]["name"] == "qlq-kiosk-1.1.0-linux-x86_64.tar.gz"
    assert body["sbom"]["name"].endswith(".tar.gz.cdx.json")
    other = get(server, "/v1/releases/latest", server.device_token, os="windows", arch="x86_64")
    assert other.json()["error"]["code"] == "no_release"
    file = get(server, body["manifest"]["url"], server.device_token)
    assert file.status_code == 200 and file.text.startswith("# qlq-kiosk release manifest v1")
    assert get(server, body["manifest"]["url"]).status_code == 401
    nope = get(server, "/v1/releases/files/update-state.json", server.device_token)
    assert nope.status_code == 404 and nope.json()["error"]["code"] == "release_file_not_found"
    assert get(server, "/v1/releases/files/..%2F..%2Fetc%2Fpasswd", server.device_token).status_code in (404, 422)


def test_publish_release_refuses_a_bad_release_before_copying_anything(server, keys, tmp_path, capsys):
    from sync_server.cli import main as server_main
    from tests.release_kit import make_archive, sign_with_script

    archive = make_archive(tmp_path / "bad", "2.0.0", *PLATFORM)
    sign_with_script(archive, keys)
    base = [
        "--database-url",
        server.settings.database_url,
        "publish-release",
        str(archive),
        "--releases-dir",
        str(server.releases),
        "--public-key",
        str(keys.public_pem),
    ]
    assert server_main(base) == 1
    assert "missing_sbom" in capsys.readouterr().err
    other = make_keypair(tmp_path / "other", "other")
    assert server_main([*base[:-1], str(other.public_pem), "--allow-missing-sbom"]) == 1
    assert "wrong_key" in capsys.readouterr().err
    os.unlink(f"{archive}.sig")
    assert server_main([*base, "--allow-missing-sbom"]) == 1
    assert "missing_signature" in capsys.readouterr().err
    assert not server.releases.exists() or not any(server.releases.iterdir())


def test_publishing_again_is_a_no_op_and_a_different_file_under_the_same_name_is_refused(
    server, keys, tmp_path, capsys
):
    from sync_server.cli import main as server_main
    from tests.integration.update.conftest import write_sbom
    from tests.release_kit import make_archive, sign_with_script

    published = publish(server, tmp_path / "one", "1.1.0", keys)
    first = published.read_bytes()
    again = make_archive(tmp_path / "two", "1.1.0", *PLATFORM, extra={"qlq-kiosk/other.txt": b"different"})
    sign_with_script(again, keys)
    write_sbom(again)
    argv = [
        "--database-url",
        server.settings.database_url,
        "publish-release",
        str(again),
        "--releases-dir",
        str(server.releases),
        "--public-key",
        str(keys.public_pem),
    ]
    capsys.readouterr()
    assert server_main(argv) == 1
    assert "release_exists" in capsys.readouterr().err
    assert published.read_bytes() == first
    same = [
        "--database-url",
        server.settings.database_url,
        "publish-release",
        str(tmp_path / "one" / "1.1.0" / published.name),
        "--releases-dir",
        str(server.releases),
        "--public-key",
        str(keys.public_pem),
    ]
    assert server_main(same) == 0
    assert "already published" in capsys.readouterr().out
