"""Entry point of the frozen kiosk (PyInstaller): the same as ``qlq-kiosk``."""

import sys

from kiosk.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
