"""kiosk.domain is pure: it imports with PySide6, SQLAlchemy, httpx (and other adapters) made unimportable."""

from __future__ import annotations

import subprocess
import sys

BLOCKED = [
    "PySide6",
    "shiboken6",
    "sqlalchemy",
    "httpx",
    "fastapi",
    "psycopg",
    "grpc",
    "google",
    "pyaudio",
    "keyring",
    "alembic",
    "starlette",
    "requests",
    "urllib3",
    "aiohttp",
]

PROBE = f"""
import importlib.abc, sys
BLOCKED = {BLOCKED!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in BLOCKED:
            raise ImportError('blocked for this test: ' + name)
        return None
sys.meta_path.insert(0, Block())
for name in list(sys.modules):
    if name.split('.')[0] in BLOCKED:
        del sys.modules[name]
import kiosk.domain.instrument, kiosk.domain.scoring, kiosk.domain.answers
import kiosk.domain.session, kiosk.domain.patient, kiosk.domain.submission
from kiosk.domain.instrument import load_instrument
inst = load_instrument()
from kiosk.domain.scoring import score_answers
print(score_answers(inst, {{n: 1 for n in range(1, 31)}}).as_dict()['PF2'])
leaked = sorted({{m.split('.')[0] for m in sys.modules}} & set(BLOCKED))
print('LEAKED', leaked)
"""


def test_domain_imports_without_adapters() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "100.0" in result.stdout
    assert "LEAKED []" in result.stdout
