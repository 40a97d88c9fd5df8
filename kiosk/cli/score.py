"""``qlq-score``: score a CSV file of questionnaire answers, one row per session, into scale scores.

The scoring itself is :mod:`kiosk.domain.scoring`, the code the kiosk and the server run, so all three give
bit-identical numbers. This module only reads, checks and writes CSV, streaming row by row: memory does not
grow with the number of rows, apart from the duplicate-id check (16 bytes per id, see :class:`SeenIds`).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import io
import os
import re
import sys
import tempfile
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, TextIO

from kiosk.domain.instrument import (
    Instrument,
    InstrumentError,
    available_instruments,
    load_instrument,
    load_instrument_file,
)
from kiosk.domain.scoring import Scorer, ScoringError

EXIT_OK = 0
EXIT_BAD_DATA = 1
EXIT_USAGE = 2

ID_COLUMN = "id"
_INTEGER = re.compile(r"[+-]?[0-9]+(?:\.0*)?")  # "3", "03", "3.0" (pandas writes that); not "2.5", "abc"
# Input is decoded with errors="surrogateescape": a byte that is not UTF-8 becomes one of these, so a bad
# byte is reported with its line and column rather than by a decoder that reads ahead in 8 KB chunks.
_UNDECODABLE = re.compile("[\udc80-\udcff]")

_FORMATTED_MAX = 100_000

_DESCRIPTION = """\
Score a CSV file of EORTC QLQ-C30 answers (one row per session) by the EORTC scoring manual's rules.

Input: UTF-8 (with or without BOM), comma-separated, a header line with an 'id' column and q1..q30 (q1..qN
for another instrument) in any order. An empty cell, or one holding only spaces, is a missing answer; "3.0"
reads as 3. Every other column is carried to the output unchanged. Blank lines are skipped. Use '-' to read
standard input.

Output (UTF-8): id, the carried columns in input order, then the scores, for the QLQ-C30 QL2, PF2, RF2, EF,
CF, SF, FA, NV, PA, DY, SL, AP, CO, DI, FI and SUMSC, unrounded (e.g. 66.66666666666667). A cell is empty
where the scale cannot be scored: fewer than half of its items answered; SUMSC needs all 13 components.

Bad input (a value outside the item's scale or not a whole number, a missing 'id' or q column, an empty or
duplicated id, a row with the wrong number of fields, bytes that are not UTF-8) stops the run at the first
problem, with a message naming the line (the header is line 1) and the column. Ids are compared without
surrounding spaces; only a 16-byte digest of each is kept, so memory stays small for millions of rows.

With -o, OUT is written completely or not at all: rows go to a temporary file beside OUT that replaces it
only when the whole input has scored. Without -o, rows stream to standard output as they are scored, so after
an error standard output may already hold the rows before the bad one: use -o when that matters.
"""

_EPILOG = "exit status: 0 scored, 1 bad input data, 2 usage or I/O error (arguments, files, instrument)."


class BadInput(Exception):
    """A problem in the input data, located by physical line (header = 1) and, when there is one, column."""

    def __init__(self, line: int, column: str | None, problem: str) -> None:
        where = f"line {line}" + (f", column '{column}'" if column is not None else "")
        super().__init__(f"{where}: {problem}")


class UsageError(Exception):
    """Bad arguments, an unreadable file or an unusable instrument."""


class SeenIds:
    """The ids read so far, for the duplicate check, kept compact: no id string is stored.

    Each id (stripped of surrounding spaces) is reduced to its 16-byte BLAKE2b digest, stored with the line it
    was first seen on in an open-addressing hash table: 16 bytes of digest plus 4 of line number per slot, at
    most 75 % full, so about 27-53 bytes per id (~42 MB for a million ids), where a Python set of the id
    strings would take well over 100 MB. While the table doubles, the old one is alive too (peak ~63 MB at
    a million ids). Two different ids sharing a 128-bit digest is not a practical concern
    (probability ~1e-27 for a million ids).
    """

    _MAX_LINE = 0xFFFF_FFFF  # the line store is 32-bit; a later first line is recorded as this

    def __init__(self, capacity: int = 1 << 12) -> None:
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        self._mask = capacity - 1
        self._digests = bytearray(16 * capacity)
        self._lines = array("I", [0]) * capacity  # 0 marks an empty slot (data lines start at 2)
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def add(self, key: str, line: int) -> int | None:
        """Record ``key`` as seen on ``line``; if it was already seen, return that first line instead."""
        digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=16).digest()
        found = self._insert(digest, min(line, self._MAX_LINE))
        if found is None and 4 * self._count > 3 * (self._mask + 1):
            self._grow()
        return found

    def _insert(self, digest: bytes, line: int) -> int | None:
        lines, digests, mask = self._lines, self._digests, self._mask
        slot = int.from_bytes(digest[:8], "little") & mask
        while True:
            seen = lines[slot]
            if not seen:
                break
            if digests[16 * slot : 16 * slot + 16] == digest:
                return seen
            slot = (slot + 1) & mask
        lines[slot] = line
        digests[16 * slot : 16 * slot + 16] = digest
        self._count += 1
        return None

    def _grow(self) -> None:
        old_lines, old_digests = self._lines, self._digests
        self._allocate(2 * (self._mask + 1))
        for slot, line in enumerate(old_lines):
            if line:
                self._insert(bytes(old_digests[16 * slot : 16 * slot + 16]), line)


def _fast_cells(values: range) -> dict[str, int | None]:
    """Exact cell texts accepted without further work: ``"1"``..``"4"`` and ``""``."""
    fast: dict[str, int | None] = {str(v): v for v in values}
    fast[""] = None
    return fast


def _parse_cell(cell: str, values: range, line: int, column: str) -> int | None:
    text = cell.strip()
    if not text:
        return None
    if not _INTEGER.fullmatch(text):
        raise BadInput(line, column, f"{cell!r} is not a whole number")
    value = int(text.split(".")[0])
    if value not in values:
        low, high = values.start, values.stop - 1
        raise BadInput(line, column, f"{cell!r} is outside the item's scale {low}..{high}")
    return value


def _wrong_width(line: int, fields: int, names: list[str]) -> BadInput:
    if fields < len(names):
        return BadInput(
            line, names[fields], f"{fields} fields where the header has {len(names)}: the row ends before this column"
        )
    return BadInput(
        line,
        None,
        f"{fields} fields where the header has {len(names)}: "
        f"field {len(names) + 1} has no column (after '{names[-1]}')",
    )


class CsvReader(Protocol):
    """What :func:`score_csv` needs of a ``csv.reader``: records, and the physical lines read so far."""

    @property
    def line_num(self) -> int: ...

    def __iter__(self) -> Iterator[list[str]]: ...

    def __next__(self) -> list[str]: ...


def _check_decoded(record: list[str], line: int, names: list[str] | None) -> None:
    if _UNDECODABLE.search("".join(record)):
        index = next(i for i, cell in enumerate(record) if _UNDECODABLE.search(cell))
        column = names[index] if names is not None and index < len(names) else None
        where = f"field {index + 1}" if column is None else "this cell"
        raise BadInput(line, column, f"{where} is not UTF-8 text (save the file as UTF-8)")


def score_csv(reader: CsvReader, out: TextIO, instrument: Instrument, scorer: Scorer) -> int:  # noqa: PLR0912,PLR0915 - one command's steps, in order
    """Read the header and rows from ``reader``, write the scored rows to ``out``; return the row count.

    Raises :class:`BadInput` at the first problem; errors name physical lines (``reader.line_num``), so a
    quoted field spanning several lines does not shift the numbers.
    """
    try:
        header = next(reader)
    except StopIteration:
        raise BadInput(1, None, "the file is empty: expected a header line with 'id' and q1..q30") from None
    except csv.Error as exc:
        raise BadInput(1, None, f"malformed CSV: {exc}") from None
    if header and header[0].startswith("\ufeff"):  # a BOM, when the stream was not decoded as utf-8-sig
        header[0] = header[0][1:]
    _check_decoded(header, 1, None)
    names = [name.strip() for name in header]
    positions: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in positions and name:  # unnamed columns (trailing commas, R's row names) are just carried
            raise BadInput(1, name, f"duplicated column (fields {positions[name] + 1} and {index + 1})")
        positions.setdefault(name, index)
    item_columns = [(f"q{n}", n) for n in instrument.item_numbers]
    missing = [column for column in (ID_COLUMN, *(c for c, _ in item_columns)) if column not in positions]
    if missing:
        problem = "missing column" + (f" (also missing: {', '.join(missing[1:])})" if missing[1:] else "")
        if len(header) == 1 and ";" in header[0]:
            problem += "; the header seems to use ';' as separator, qlq-score reads comma-separated files"
        raise BadInput(1, missing[0], problem)
    clash = [name for name in scorer.codes if name in positions]
    if clash:
        raise BadInput(1, clash[0], "an input column has the name of a score column")
    id_index = positions[ID_COLUMN]
    scored_names = {ID_COLUMN} | {column for column, _ in item_columns}
    carried = [index for index, name in enumerate(names) if name not in scored_names]
    # Item cells in input column order, so the first bad cell reported is the leftmost one.
    cells = []
    for column, number in sorted(item_columns, key=lambda pair: positions[pair[0]]):
        values = instrument.scale_of(number).values
        cells.append((positions[column], column, number, values, _fast_cells(values)))
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([ID_COLUMN, *(header[i] for i in carried), *scorer.codes])
    width = len(header)
    seen = SeenIds()
    formatted: dict[float | None, str] = {}  # repr() of scores already written: scores take few values
    count = 0
    line = reader.line_num + 1  # physical line where the next record starts
    records = iter(reader)
    while True:
        try:
            record = next(records)
        except StopIteration:
            return count
        except csv.Error as exc:  # e.g. a quote opened on ``line`` and never closed
            raise BadInput(line, None, f"malformed CSV: {exc}") from None
        start, line = line, reader.line_num + 1
        if not record:  # a blank line
            continue
        _check_decoded(record, start, names)
        if len(record) != width:
            raise _wrong_width(start, len(record), names)
        key = record[id_index].strip()
        if not key:
            raise BadInput(start, ID_COLUMN, "empty id")
        first = seen.add(key, start)
        if first is not None:
            raise BadInput(start, ID_COLUMN, f"id {key!r} is duplicated: it is also on line {first}")
        try:  # the common case: every cell is exactly "1".."4" (or "1".."7") or empty
            answers = {number: fast[record[index]] for index, _, number, _, fast in cells}
        except KeyError:  # spaces, "3.0", or a bad cell: parse each; the leftmost bad one is reported
            answers = {
                number: _parse_cell(record[index], values, start, column) for index, column, number, values, _ in cells
            }
        output = [record[id_index]]
        output += [record[i] for i in carried]
        for score in scorer.scores(answers):
            text = formatted.get(score)
            if text is None:
                text = "" if score is None else repr(score)
                if len(formatted) < _FORMATTED_MAX:
                    formatted[score] = text
            output.append(text)
        writer.writerow(output)
        count += 1


def _load_instrument(spec: str) -> Instrument:
    """``--instrument``: a bundled instrument id (scoring is the same in every language) or a .toml path."""
    try:
        if spec.endswith(".toml"):
            return load_instrument_file(Path(spec))
        languages = sorted(language for (ident, language) in available_instruments() if ident == spec)
        if not languages:
            known = ", ".join(sorted({ident for ident, _ in available_instruments()})) or "none"
            raise UsageError(f"unknown instrument {spec!r} (bundled: {known}; or give a .toml file)")
        return load_instrument(spec, "fr" if "fr" in languages else languages[0])
    except InstrumentError as exc:
        raise UsageError(str(exc)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-score", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("input", metavar="IN.csv", help="answers file, or '-' for standard input")
    parser.add_argument(
        "-o",
        "--output",
        metavar="OUT.csv",
        help="write here (atomically: complete, or not at all); default: standard output",
    )
    parser.add_argument(
        "--instrument",
        default="qlq-c30",
        metavar="ID|FILE.toml",
        help="instrument whose [scoring] applies (default: %(default)s)",
    )
    return parser


@contextlib.contextmanager
def _atomic_output(path: Path) -> Iterator[TextIO]:
    """A text file that becomes ``path`` only if the block succeeds; otherwise it is deleted."""
    directory = path.parent
    try:
        fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise UsageError(f"cannot write in {str(directory)!r}: {exc.strerror or exc}") from None
    temp = Path(temp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = path.stat().st_mode & 0o7777
        except FileNotFoundError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        temp.chmod(mode)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _run(args: argparse.Namespace) -> int:  # noqa: PLR0912 - one command's steps, in order
    instrument = _load_instrument(args.instrument)
    try:
        scorer = Scorer(instrument)
    except ScoringError as exc:
        raise UsageError(str(exc)) from None
    if args.input == "-":
        source: TextIO = sys.stdin
        if hasattr(sys.stdin, "buffer"):
            source = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="surrogateescape", newline="")
    else:
        try:
            source = open(  # noqa: SIM115
                args.input,
                encoding="utf-8-sig",
                errors="surrogateescape",
                newline="",
            )
        except OSError as exc:
            raise UsageError(f"cannot read {args.input!r}: {exc.strerror or exc}") from None
    reader = csv.reader(source, strict=True)
    try:
        if args.output and args.output != "-":
            with _atomic_output(Path(args.output)) as out:
                count = score_csv(reader, out, instrument, scorer)
            print(f"qlq-score: {count} rows scored into {args.output}", file=sys.stderr)
        else:
            out = (
                io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
                if hasattr(sys.stdout, "buffer")
                else sys.stdout
            )
            try:
                score_csv(reader, out, instrument, scorer)
            finally:
                if isinstance(out, io.TextIOWrapper) and out is not sys.stdout:
                    out.detach()  # flushes; leaves the process's stdout open
                else:
                    out.flush()
    finally:
        if args.input != "-":
            source.close()
        elif isinstance(source, io.TextIOWrapper) and source is not sys.stdin:
            source.detach()  # leave the process's stdin open
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``qlq-score``; returns the exit status (0 scored, 1 bad data, 2 usage or I/O error)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad arguments and 0 after --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        return _run(args)
    except BadInput as exc:
        name = "<stdin>" if args.input == "-" else args.input
        print(f"qlq-score: {name}, {exc}", file=sys.stderr)
        return EXIT_BAD_DATA
    except UsageError as exc:
        print(f"qlq-score: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `qlq-score big.csv | head`: the reader left, nothing to report
        with contextlib.suppress(OSError, ValueError):  # keep Python's exit-time flush from failing again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BAD_DATA
    except OSError as exc:  # a full disk, OUT being a directory...
        print(f"qlq-score: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
