"""The test harness's throwaway PostgreSQL cluster (tests/conftest_pg.py): it starts on a free port and its
folder goes away when stopped; when it cannot start, the error quotes the end of the cluster's log (the real
cause) and the folder is removed all the same."""

from __future__ import annotations

import glob
import socket
import tempfile
from pathlib import Path

import psycopg
import pytest

from tests import conftest_pg

BINARIES = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
pytestmark = pytest.mark.skipif(not BINARIES, reason="no PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")


@pytest.fixture
def folders(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The data folders the harness creates."""
    made: list[Path] = []
    real_mkdtemp = tempfile.mkdtemp

    def mkdtemp(suffix: str | None = None, prefix: str | None = None, dir: str | None = None) -> str:
        path = real_mkdtemp(suffix, prefix, dir)
        made.append(Path(path))
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    return made


def test_cluster_starts_on_a_free_port_and_its_folder_goes_away(folders: list[Path]) -> None:
    url, stop = conftest_pg._start_throwaway_cluster(Path(BINARIES[-1]).parent)
    try:
        assert ":5432/" not in url
        with psycopg.connect(conftest_pg.libpq_dsn(url), connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert len(folders) == 1 and folders[0].is_dir()
    finally:
        stop()
    assert not folders[0].exists()


def test_a_cluster_that_cannot_start_says_why_and_leaves_no_folder(
    folders: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setattr(conftest_pg, "_free_port", lambda: taken.getsockname()[1])
        with pytest.raises(conftest_pg.ClusterStartError) as failed:
            conftest_pg._start_throwaway_cluster(Path(BINARIES[-1]).parent)
    message = str(failed.value)
    assert "last lines of the cluster's log" in message
    assert "could not bind" in message or "Address already in use" in message, message
    assert "install" not in message
    assert len(folders) == 1 and not folders[0].exists()
