"""Shared test setup: Qt runs offscreen and quietly; set before any QApplication exists (pytest-qt makes one).

The PostgreSQL fixtures (tests/conftest_pg.py) are registered here once, as a plugin, so the whole run shares one
session-scoped server (and at most one throwaway cluster) whichever folders the tests come from.
"""

import os

pytest_plugins = ["tests.conftest_pg"]

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")
