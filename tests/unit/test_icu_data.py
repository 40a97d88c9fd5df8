"""installer/icu_data.py: the Linux bundle's ICU data keeps French, English and what every language needs."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.release_kit import ROOT

sys.path.insert(0, str(ROOT / "installer"))
icu_data = importlib.import_module("icu_data")  # installer/ holds scripts, not a package


@pytest.mark.parametrize(
    "name",
    ["root.res", "pool.res", "res_index.res", "fr.res", "fr_CA.res", "en_GB.res", "en_US_POSIX.res",
     "coll/fr.res", "coll/root.res", "coll/ucadata.icu", "brkitr/line.brk", "brkitr/en.res", "zone/fr.res",
     "curr/pool.res", "nfkc.nrm", "zoneinfo64.res", "supplementalData.res", "likelySubtags.res", "plurals.res",
     "cnvalias.icu", "unames.icu", "translit/root.res"],
)  # fmt: skip
def test_kept(name: str) -> None:
    assert icu_data.keep(name)


@pytest.mark.parametrize(
    "name",
    ["de.res", "zh_Hant_TW.res", "ars.res", "coll/de__PHONEBOOK.res", "coll/ja.res", "zone/es_419.res",
     "brkitr/cjdict.dict", "brkitr/thaidict.dict", "ibm-1390_P110-2003.cnv", "gb18030.cnv"],
)  # fmt: skip
def test_left_out(name: str) -> None:
    assert not icu_data.keep(name)


def _item(payload: bytes) -> bytes:
    return b"\x20\x00\xda\x27" + payload.ljust(28, b"\0")


def test_common_data_round_trip() -> None:
    header = b"\x20\x00\xda\x27\x14\x00\x00\x00\x00\x00\x02\x00CmnD\x01\x00\x00\x00\x03\x00\x00\x00".ljust(32, b"\0")
    items = [("zone/fr.res", _item(b"z")), ("de.res", _item(b"d" * 40)), ("coll/fr.res", _item(b"c"))]
    blob = icu_data.write_common(header, "icudt73l", items)
    back_header, prefix, back = icu_data.read_common(blob)
    assert (back_header, prefix) == (header, "icudt73l")
    assert [name for name, _ in back] == ["coll/fr.res", "de.res", "zone/fr.res"]  # sorted, as ICU searches
    assert {name: item.rstrip(b"\0") for name, item in back} == {name: item.rstrip(b"\0") for name, item in items}


QT_LIB = ROOT / ".venv/lib/python3.11/site-packages/PySide6/Qt/lib"
PROBE = """
import functools
from PySide6.QtCore import QCollator, QLocale, QStringDecoder
words = ["côté", "cote", "Zoé", "zèbre", "été", "Eté", "œuf", "oeuvre", "côte", "coté"]
for name in ("fr_FR", "en_GB", "de_DE"):
    print(sorted(words, key=functools.cmp_to_key(QCollator(QLocale(name)).compare)))
print(QLocale("fr_FR").toUpper("été œuf"), QLocale("tr_TR").toUpper("i"), QLocale("fr_FR").toString(1234.5, "f", 1))
print(QStringDecoder("ISO-8859-1").isValid(), QStringDecoder("UTF-16LE").isValid())
print(any("{lib}" in line for line in open("/proc/self/maps")))
"""


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not list(QT_LIB.glob("libicudata.so.*")) or shutil.which("gcc") is None,
    reason="Linux with PySide6's ICU and gcc (build-essential) only",
)
def test_qt_speaks_french_and_english_with_the_smaller_data(tmp_path: Path) -> None:
    """Qt loads the rebuilt library (LD_LIBRARY_PATH comes before Qt's RUNPATH) and sorts, upper-cases and formats
    as with the whole data (a language left out falls back to ICU's root rules; German's are the same); the
    legacy code pages are gone, the algorithmic converters are not."""
    original = next(QT_LIB.glob("libicudata.so.*"))
    small = tmp_path / original.name
    kept, left = icu_data.subset(original, small)
    assert kept > 500 and left > 2000 and small.stat().st_size < original.stat().st_size / 4

    def run(library_path: str | None) -> str:
        env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
        if library_path:
            env["LD_LIBRARY_PATH"] = library_path
        code = PROBE.replace("{lib}", str(small))
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout

    whole, reduced = run(None).splitlines(), run(str(tmp_path)).splitlines()
    assert whole[-1] == "False" and reduced[-1] == "True"  # each ran with the library meant
    assert reduced[:-1] == whole[:-1]
    assert reduced[3] == "ÉTÉ ŒUF İ 1\u202f234,5" and reduced[4] == "True True"
