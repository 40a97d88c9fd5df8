"""A smaller ICU data library for the Linux bundle (issue 12): Qt's ``libicudata.so.73`` (32 MB) with the data of
the kiosk's languages only.

Qt Core links ICU; ICU's data library holds one blob, the symbol ``icudt<N>_dat``, in ICU's "common data" format
(a header, a table of contents of named items, the items). The kiosk speaks French and English, so the blob is
rewritten without what only other languages and uses need, and assembled back into a library of the same name
(``gcc``, from build-essential, which scripts/bootstrap.sh installs):

- locale bundles of other languages, in every tree (main, ``coll/``, ``brkitr/``, ``curr/``, ``lang/``,
  ``region/``, ``unit/``, ``zone/``, ``rbnf/``): kept are ``root``, ``pool``, ``res_index`` and every ``fr*`` and
  ``en*`` bundle. A locale not kept falls back to ``root``, as any locale ICU has no data for;
- the legacy code-page converters (``*.cnv``: EBCDIC, CJK and other national encodings): UTF-8/16/32, US-ASCII and
  ISO-8859-1 are algorithmic, in ICU's code, and the kiosk reads and writes UTF-8 only;
- the word dictionaries of Chinese/Japanese, Thai, Lao, Khmer and Burmese (``brkitr/*.dict``): the break rules
  (``*.brk``) stay.

Everything else stays (normalisation, collation root data, time zones, plural rules, properties…). The result is
checked by the bundle's self-test (Qt starts with it) and by tests/unit/test_icu_data.py.

    python installer/icu_data.py IN.so OUT.so     (what kiosk.spec does on Linux)
"""

from __future__ import annotations

import re
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

KEPT_LANGUAGES = ("fr", "en")
ALWAYS_KEPT = {"root.res", "pool.res", "res_index.res"}
_LOCALE = re.compile(r"([a-z]{2,3})(_[A-Za-z0-9_]*)?\.res")


def keep(name: str) -> bool:
    """Whether the item ``name`` (``tree/item`` or ``item``, without the package prefix) is kept."""
    base = name.rsplit("/", 1)[-1]
    if base.endswith(".cnv") or base.endswith(".dict"):
        return False
    if base in ALWAYS_KEPT:
        return True
    locale = _LOCALE.fullmatch(base)
    return locale is None or locale.group(1) in KEPT_LANGUAGES


def read_common(blob: bytes) -> tuple[bytes, str, list[tuple[str, bytes]]]:
    """(header, package prefix like ``icudt73l``, [(item name without the prefix, item bytes)]) of a little-endian
    ICU common data blob."""
    header_size, magic1, magic2 = struct.unpack_from("<HBB", blob, 0)
    if (magic1, magic2) != (0xDA, 0x27):
        raise ValueError("not ICU data (bad magic)")
    if blob[4 + 4] != 0:  # UDataInfo.isBigEndian
        raise ValueError("big-endian ICU data is not handled")
    if blob[12:16] != b"CmnD":
        raise ValueError(f"not ICU common data: {blob[12:16]!r}")
    toc = blob[header_size:]
    (count,) = struct.unpack_from("<I", toc, 0)
    entries = [struct.unpack_from("<II", toc, 4 + 8 * i) for i in range(count)]
    items = []
    prefix = ""
    for i, (name_offset, data_offset) in enumerate(entries):
        end = entries[i + 1][1] if i + 1 < count else len(toc)
        full = toc[name_offset : toc.index(b"\0", name_offset)].decode("ascii")
        prefix, _, name = full.partition("/")
        items.append((name, toc[data_offset:end]))
    return blob[:header_size], prefix, items


def write_common(header: bytes, prefix: str, items: list[tuple[str, bytes]]) -> bytes:
    """The common data blob of these items (sorted by name, as ICU's binary search of the TOC requires)."""
    items = sorted(items, key=lambda item: f"{prefix}/{item[0]}".encode("ascii"))
    names = b"".join(f"{prefix}/{name}".encode("ascii") + b"\0" for name, _ in items)
    toc_size = 4 + 8 * len(items)
    data_start = (toc_size + len(names) + 15) // 16 * 16
    offsets, data, name_offset = [], bytearray(), toc_size
    for name, item in items:
        offsets.append((name_offset, data_start + len(data)))
        name_offset += len(f"{prefix}/{name}") + 1
        data += item
        data += b"\0" * (-len(data) % 16)
    toc = struct.pack("<I", len(items)) + b"".join(struct.pack("<II", *o) for o in offsets) + names
    return header + toc + b"\0" * (data_start - len(toc)) + bytes(data)


def data_symbol(library: Path) -> tuple[str, bytes]:
    """The data symbol's name (``icudt73_dat``) and the ``.rodata`` bytes holding it, read with binutils."""
    symbols = subprocess.run(["nm", "-D", "--defined-only", str(library)], capture_output=True, text=True, check=True)
    names = [line.split()[-1] for line in symbols.stdout.splitlines() if re.search(r"\bicudt\d+_dat$", line)]
    if len(names) != 1:
        raise ValueError(f"{library}: expected one icudt*_dat symbol, found {names}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rodata"
        subprocess.run(
            ["objcopy", "-O", "binary", "--only-section=.rodata", str(library), str(out)],
            check=True,
            capture_output=True,
        )
        return names[0], out.read_bytes()


def soname(library: Path) -> str:
    dynamic = subprocess.run(["readelf", "-d", str(library)], capture_output=True, text=True, check=True).stdout
    found = re.search(r"\(SONAME\)\s+Library soname: \[([^\]]+)\]", dynamic)
    if found is None:
        raise ValueError(f"{library}: no SONAME")
    return found.group(1)


def assemble(blob: bytes, symbol: str, name: str, out: Path) -> None:
    """A shared library ``out`` (soname ``name``) exporting ``symbol``: the blob, 16-byte aligned, read-only."""
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data.bin"
        data.write_bytes(blob)
        source = Path(tmp) / "data.S"
        source.write_text(
            f"\t.section .rodata\n\t.globl {symbol}\n\t.type {symbol}, @object\n\t.balign 16\n{symbol}:\n"
            f'\t.incbin "{data}"\n\t.size {symbol}, . - {symbol}\n\t.section .note.GNU-stack,"",@progbits\n'
        )
        subprocess.run(
            ["gcc", "-shared", "-nostdlib", f"-Wl,-soname,{name}", "-o", str(out), str(source)],
            check=True,
            capture_output=True,
        )


def subset(library: Path, out: Path) -> tuple[int, int]:
    """Write the reduced library; (items kept, items left out)."""
    symbol, rodata = data_symbol(library)
    header, prefix, items = read_common(rodata)
    kept = [(name, item) for name, item in items if keep(name)]
    assemble(write_common(header, prefix, kept), symbol, soname(library), out)
    return len(kept), len(items) - len(kept)


if __name__ == "__main__":
    kept, left = subset(Path(sys.argv[1]), Path(sys.argv[2]))
    sys.stdout.write(f"{sys.argv[2]}: {kept} ICU data items kept, {left} left out\n")
