"""The kiosk's log: warnings on standard error, and a rotating file beside the database for the support desk.

``<data folder>/logs/kiosk.log`` (INFO and above), 1 MB a file, the current one plus 4 older
(``kiosk.log.1`` … ``kiosk.log.4``): at most 5 MB, whatever the uptime. The folder is private to the kiosk's
user (0700) and each file too (0600). What the kiosk logs names sessions by id only — never initials, birth
dates, answers or transcripts (a rule of every module; the tests grep the log for them). A demo run keeps its log
in its temporary data folder, removed at exit.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path
from typing import Final

LOG_FOLDER: Final = "logs"
LOG_FILE: Final = "kiosk.log"
MAX_BYTES: Final = 1_000_000
BACKUPS: Final = 4
FORMAT: Final = "%(asctime)s %(levelname)s %(name)s [%(threadName)s]: %(message)s"


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating file whose every file (the first and each rotation's new one) is readable by its owner only."""

    def _open(self):  # type: ignore[no-untyped-def]  # the base's signature is untyped
        old = os.umask(0o077)
        try:
            return super()._open()
        finally:
            os.umask(old)


def log_path(data_dir: Path) -> Path:
    return Path(data_dir) / LOG_FOLDER / LOG_FILE


def configure(data_dir: Path | None, *, console_level: int = logging.WARNING) -> Path | None:
    """Warnings to stderr and, when ``data_dir`` is given and writable, INFO and above to the rotating file.

    Returns the log file's path, or None when only stderr could be set up (the reason is logged there)."""
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    if not any(getattr(h, "_qlq_console", False) for h in root.handlers):
        console = logging.StreamHandler()
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        console._qlq_console = True  # type: ignore[attr-defined]
        root.addHandler(console)
    if data_dir is None:
        return None
    path = log_path(data_dir)
    for handler in root.handlers:
        if isinstance(handler, _PrivateRotatingFileHandler) and Path(handler.baseFilename) == path.resolve():
            return path
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        handler = _PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    except OSError as exc:
        logging.getLogger(__name__).warning(
            "no log file in %s (%s): logging to stderr only", path.parent, exc.strerror or type(exc).__name__
        )
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter(FORMAT))
    root.addHandler(handler)
    return path
