"""``python -m kiosk`` does what ``qlq-kiosk`` does."""

import sys

from kiosk.cli.main import main

sys.exit(main())
