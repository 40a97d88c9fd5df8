"""Where the kiosk keeps its data: the platform's per-user application-data folder, or an override.

``QLQ_KIOSK_DATA_DIR`` moves everything elsewhere (demo mode, tests, a kiosk whose data must live on another
disk). Nothing here creates folders: the store creates the database's folder when it first opens it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from platformdirs import user_data_dir

APP_NAME = "kiosque-qlq-c30"
APP_AUTHOR = "Kiosque"
DATA_DIR_ENV = "QLQ_KIOSK_DATA_DIR"
DATABASE_FILE = "kiosk.db"


def data_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$QLQ_KIOSK_DATA_DIR`` when set (``~`` expanded), else e.g. ``~/.local/share/kiosque-qlq-c30``."""
    env = os.environ if environ is None else environ
    override = env.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(user_data_dir(APP_NAME, APP_AUTHOR))


def database_path(environ: Mapping[str, str] | None = None) -> Path:
    """The SQLite file holding sessions, answers, the submission queue and settings."""
    return data_dir(environ) / DATABASE_FILE
