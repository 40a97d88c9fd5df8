"""SPSS export: read back with pyreadstat (ReadStat's independent reader): values, labels, missing values."""

from __future__ import annotations

import io
import math
import shutil
import subprocess
from datetime import UTC
from pathlib import Path
from typing import Any, BinaryIO, cast

import pyreadstat
import pytest

from kiosk.domain.scoring import score_answers, score_codes
from sync_server.exports import ExportError, write_export
from tests.unit.server_exports.builders import (
    BIRTH,
    INITIALS,
    all_submissions,
    fr,
    record,
    touch_completed,
    voice_with_changes,
)


def missing(cell: object) -> bool:
    """System-missing as ReadStat's dict output gives it: None, or NaN in an all-float column."""
    return cell is None or (isinstance(cell, float) and math.isnan(cell))


def read_back(path: Path) -> tuple[dict, Any]:  # the data, and pyreadstat's metadata_container
    return pyreadstat.read_sav(str(path), output_format="dict")


def export_to(path: Path, records: list, **options: bool) -> int:
    with path.open("wb") as out:
        return write_export("sav", records, out, instrument=fr(), **options)


def test_values_equal_the_stored_answers_and_scores(tmp_path: Path) -> None:
    subs = all_submissions()
    path = tmp_path / "export.sav"
    assert export_to(path, [record(s) for s in subs]) == 4
    data, meta = read_back(path)
    assert meta.number_rows == 4
    inst = fr()
    for i, sub in enumerate(subs):
        assert data["submission_id"][i] == str(sub.submission_id)
        assert data["session_date"][i] == sub.session.session_date
        assert data["age_at_session"][i] == sub.patient.age_at_session
        values = sub.answer_values()
        for n in range(1, 31):
            cell = data[f"q{n}"][i]
            assert missing(cell) if values.get(n) is None else cell == values[n], (i, n)
        expected = score_answers(inst, values).as_dict()
        for code in score_codes(inst):
            cell = data[code][i]
            assert missing(cell) if expected[code] is None else cell == expected[code], (i, code)
        started = sub.session.started_at.astimezone(UTC).replace(tzinfo=None)
        assert abs((data["started_at"][i] - started).total_seconds()) < 1e-3
        assert data["duration_seconds"][i] == sub.session.duration_seconds
    assert [data["outcome"][i] for i in range(4)] == [1, 1, 2, 1]  # 1 completed, 2 abandoned


def test_variable_and_value_labels(tmp_path: Path) -> None:
    path = tmp_path / "labels.sav"
    export_to(path, [record(voice_with_changes())])
    data, meta = read_back(path)
    inst = fr()
    labels = meta.column_names_to_labels
    assert labels["q1"] == inst.item(1).text and labels["q27"] == inst.item(27).text  # UTF-8 kept (…, ê)
    assert labels["QL2"] == "Global health status / QoL" and labels["SUMSC"].startswith("Summary score")
    value_labels = meta.variable_value_labels
    assert value_labels["q1"] == {1: "Pas du tout", 2: "Un peu", 3: "Assez", 4: "Beaucoup"}
    assert value_labels["q29"] == {1: "Très mauvais", 7: "Excellent"}
    assert value_labels["q1_mode"] == {1: "touch", 2: "voice"}
    assert value_labels["mode"] == {1: "touch", 2: "voice-on-demand", 3: "voice-continuous"}
    assert value_labels["outcome"] == {1: "completed", 2: "abandoned"}
    assert (data["mode"][0], data["initial_mode"][0]) == (1, 3)
    assert (data["q1_mode"][0], data["q2_mode"][0], data["q9_mode"][0]) == (2, 1, 2)
    assert missing(data["q9"][0])  # "je ne sais pas": system-missing
    assert data["n_voice_answers"][0] == 17
    formats = meta.original_variable_types
    assert formats["session_date"] == "DATE11" and formats["received_at"] == "DATETIME20"
    assert formats["submission_id"] == "A36"


def test_birth_date_and_initials(tmp_path: Path) -> None:
    sub = touch_completed()
    plain = tmp_path / "plain.sav"
    export_to(plain, [record(sub)])
    assert "birth_date" not in read_back(plain)[1].column_names
    with_birth = tmp_path / "birth.sav"
    export_to(with_birth, [record(sub), record(sub, anonymized=True)], include_birth_date=True)
    data, _ = read_back(with_birth)
    assert data["birth_date"][0] == BIRTH
    assert missing(data["birth_date"][1])
    for path in (plain, with_birth):
        assert INITIALS.encode() not in path.read_bytes()


class Unseekable(io.RawIOBase):
    """A response body: write only."""

    def __init__(self) -> None:
        self.data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.data += b
        return len(b)


def test_unseekable_output_leaves_the_case_count_unknown(tmp_path: Path) -> None:
    out = Unseekable()
    subs = all_submissions()
    assert write_export("sav", [record(s) for s in subs], cast(BinaryIO, out), instrument=fr()) == 4
    assert int.from_bytes(out.data[80:84], "little", signed=True) == -1
    path = tmp_path / "stream.sav"
    path.write_bytes(bytes(out.data))
    data, meta = read_back(path)
    assert meta.number_rows == 4 and list(data["submission_id"]) == [str(s.submission_id) for s in subs]


def test_seekable_output_gets_the_case_count(tmp_path: Path) -> None:
    path = tmp_path / "count.sav"
    export_to(path, [record(touch_completed())] * 3)
    assert int.from_bytes(path.read_bytes()[80:84], "little", signed=True) == 3


def test_empty_export_is_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.sav"
    assert export_to(path, []) == 0
    _, meta = read_back(path)
    assert meta.number_rows == 0 and "q30" in meta.column_names


def test_text_too_long_for_its_column_is_refused() -> None:
    with pytest.raises(ExportError, match="legacy_id"):
        write_export("sav", [record(touch_completed(), legacy_id="x" * 300)], io.BytesIO(), instrument=fr())


@pytest.mark.skipif(shutil.which("pspp") is None, reason="PSPP not installed (apt-get install pspp)")
@pytest.mark.parametrize("seekable", [True, False])
def test_pspp_reads_the_file_without_warnings(tmp_path: Path, seekable: bool) -> None:
    """A second, independent reader (GNU PSPP), when the machine has it."""
    subs = all_submissions()
    path = tmp_path / "pspp.sav"
    if seekable:
        export_to(path, [record(s) for s in subs])
    else:
        out = Unseekable()
        write_export("sav", [record(s) for s in subs], cast(BinaryIO, out), instrument=fr())
        path.write_bytes(bytes(out.data))
    syntax = tmp_path / "check.sps"
    syntax.write_text(f"GET FILE='{path}'.\nLIST VARIABLES=submission_id outcome q2 SUMSC.\n", encoding="utf-8")
    result = subprocess.run(
        ["pspp", str(syntax), "-O", "format=txt", "-o", str(tmp_path / "out.txt")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    report = (tmp_path / "out.txt").read_text(encoding="utf-8") + result.stdout + result.stderr
    assert result.returncode == 0, report
    assert "warning" not in report.lower() and "error" not in report.lower(), report
    assert all(str(s.submission_id) in report for s in subs)
