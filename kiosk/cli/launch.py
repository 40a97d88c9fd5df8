"""``qlq-kiosk launch [--update-root FOLDER] [-- KIOSK ARGS]``: the supervisor of an updatable kiosk on Windows and
macOS (:mod:`kiosk.update.launcher`), started by the installer's shortcuts from the installed bundle."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kiosk import __version__
from kiosk.storage.paths import data_dir
from kiosk.update.launcher import supervise


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk launch",
        description="Start the newest kiosk there is (this installation or a verified update), again after an "
        "update or a crash (Windows and macOS; the Linux package has its own launcher).",
    )
    parser.add_argument(
        "--update-root",
        type=Path,
        help="the folder the kiosk's updates go to (default: 'updates' in the kiosk's app-data folder, its user's)",
    )
    parser.add_argument("kiosk_args", nargs=argparse.REMAINDER, help="arguments for the kiosk, after --")
    args = parser.parse_args(argv)
    if not getattr(sys, "frozen", False):
        print("qlq-kiosk launch: runs from an installed bundle only (it starts its executable)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="qlq-kiosk launch: %(message)s")
    kiosk_args = args.kiosk_args[1:] if args.kiosk_args[:1] == ["--"] else args.kiosk_args
    root = args.update_root or data_dir() / "updates"
    return supervise(Path(sys.executable).resolve().parent, __version__, root, kiosk_args)
