"""The kiosk's support log: a private, rotating file beside the database, bounded in size."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk import log_setup


@pytest.fixture
def clean_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            handler.close()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_the_log_file_is_private_and_gets_info_records(tmp_path: Path, clean_root: None) -> None:
    path = log_setup.configure(tmp_path)
    assert path == tmp_path / "logs" / "kiosk.log"
    assert log_setup.configure(tmp_path) == path  # configuring twice adds no second handler
    logging.getLogger("kiosk.test").info("opened session %s", "abc-123")
    logging.getLogger("kiosk.test").debug("not kept")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text(encoding="utf-8")
    assert text.count("opened session abc-123") == 1 and "not kept" not in text
    assert " INFO kiosk.test [MainThread]: " in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_log_rotates_and_stays_bounded(tmp_path: Path, clean_root: None) -> None:
    path = log_setup.configure(tmp_path)
    assert path is not None
    line = "x" * 1000
    log = logging.getLogger("kiosk.flood")
    for _ in range(7_000):  # ~7 MB offered
        log.info(line)
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["kiosk.log", *(f"kiosk.log.{n}" for n in range(1, log_setup.BACKUPS + 1))]
    assert sum(f.stat().st_size for f in files) <= (log_setup.BACKUPS + 1) * log_setup.MAX_BYTES
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)


def test_an_unwritable_folder_means_stderr_only(tmp_path: Path, clean_root: None) -> None:
    blocked = tmp_path / "file-not-folder"
    blocked.write_text("", encoding="utf-8")
    assert log_setup.configure(blocked) is None
