"""Shared test setup: Qt runs offscreen and quietly; set before any QApplication exists (pytest-qt makes one)."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false;qt.qpa.*=false")
