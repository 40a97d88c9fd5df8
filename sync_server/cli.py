"""``qlq-server``: the sync server's command line."""

from __future__ import annotations

import argparse
import sys

from kiosk import __version__


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="qlq-server", description="Kiosque QLQ-C30 central sync server.")
    parser.add_argument("--version", action="version", version=f"qlq-server {__version__}")
    parser.parse_args(argv)
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
