"""The ``qlq-score`` command: CSV in, scores out, bad input refused with line and column, no partial file."""

from __future__ import annotations

import csv
import io
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli.score import SeenIds, main
from kiosk.domain.instrument import load_instrument
from kiosk.domain.resources import instruments_dir, resources_dir
from kiosk.domain.scoring import score_answers

SCORES = ["QL2", "PF2", "RF2", "EF", "CF", "SF", "FA", "NV", "PA", "DY", "SL", "AP", "CO", "DI", "FI", "SUMSC"]
ITEMS = [f"q{n}" for n in range(1, 31)]
EXAMPLE = resources_dir() / "examples" / "qlq-c30-example.csv"
QLQ = load_instrument("qlq-c30", "fr")


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def answers_row(ident: str, value: str = "2", **cells: str) -> dict[str, str]:
    row = {"id": ident} | {column: ("5" if column in ("q29", "q30") else value) for column in ITEMS}
    return row | cells


def table(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    header = header or list(rows[0])
    return write_csv(path, header, [[row.get(column, "") for column in header] for row in rows])


def read_output(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_scores(row: dict[str, str]) -> dict[str, str]:
    answers = {n: (int(row[f"q{n}"]) if row[f"q{n}"].strip() else None) for n in range(1, 31)}
    return {code: ("" if v is None else repr(v)) for code, v in score_answers(QLQ, answers).as_dict().items()}


# --- scoring a file -------------------------------------------------------------------------------


def test_bundled_example(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "scores.csv"
    assert main([str(EXAMPLE), "-o", str(out)]) == 0
    assert "8 rows" in capsys.readouterr().err
    with out.open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert header == ["id", "visit_date", *SCORES]
    source = read_output(EXAMPLE)
    result = read_output(out)
    assert [r["id"] for r in result] == [r["id"] for r in source]
    for given, scored in zip(source, result, strict=True):
        assert scored["visit_date"] == given["visit_date"]
        assert {code: scored[code] for code in SCORES} == expected_scores(given)
    by_id = {r["id"]: r for r in result}
    assert by_id["P002"]["PF2"] == "100.0" and by_id["P002"]["SUMSC"] == "100.0"
    assert all(by_id["P007"][code] == "" for code in SCORES)  # nothing answered: all empty, never 0
    assert by_id["P005"]["RF2"] == "" and by_id["P005"]["SUMSC"] == ""
    assert by_id["P006"]["PF2"] != "" and by_id["P006"]["EF"] == ""
    assert by_id["P008"]["PF2"] == "" and by_id["P008"]["FA"] != ""


def test_full_precision(tmp_path: Path) -> None:
    source = table(tmp_path / "in.csv", [answers_row("a", "2", q29="3", q30="6")])
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    row = read_output(out)[0]
    assert row["PF2"] == "66.66666666666667"
    assert row["FA"] == "33.333333333333336"
    assert row["QL2"] == repr(175 / 3)


def test_any_column_order_and_carried_columns(tmp_path: Path) -> None:
    header = ["site", *reversed(ITEMS[15:]), "visit", " id ", *ITEMS[:15], "note"]
    row = answers_row("P1", "3", site="Lyon", visit="J0", note='dit "ça va", puis\u00a0rien')
    row[" id "] = row.pop("id")
    source = table(tmp_path / "in.csv", [row], header)
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["id", "site", "visit", "note", *SCORES]
    assert lines[1][:4] == ["P1", "Lyon", "J0", 'dit "ça va", puis\u00a0rien']
    assert dict(zip(SCORES, lines[1][4:], strict=True)) == expected_scores(row)


def test_blank_and_spaced_cells_are_missing(tmp_path: Path) -> None:
    row = answers_row("x", "2", q1="", q2=" ", q20="\t", q6=" 3 ", q7="4.0", q8="")
    source = table(tmp_path / "in.csv", [row])
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    scored = read_output(out)[0]
    assert scored["PF2"] == "66.66666666666667"  # 3 of 5 answered
    assert scored["CF"] == "66.66666666666667"  # 1 of 2 answered
    assert scored["RF2"] == repr(100 / 6)  # " 3 " and "4.0" read as 3 and 4: RS 3.5
    assert scored["DY"] == ""
    assert scored["SUMSC"] == ""


def test_blank_lines_and_crlf(tmp_path: Path) -> None:
    header = ",".join(["id", *ITEMS])
    row = ",".join(["a", *(["1"] * 28), "7", "7"])
    source = tmp_path / "in.csv"
    source.write_bytes(f"{header}\r\n\r\n{row}\r\n\r\n".encode())
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    assert [r["SUMSC"] for r in read_output(out)] == ["100.0"]


def test_header_only_gives_header_only(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["id", "extra", *ITEMS], [])
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == ",".join(["id", "extra", *SCORES]) + "\n"


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    source = table(tmp_path / "in.csv", [answers_row("é1", "1")])
    source.write_bytes(b"\xef\xbb\xbf" + source.read_bytes())
    out = tmp_path / "out.csv"
    assert main([str(source), "-o", str(out)]) == 0
    assert out.read_bytes().startswith(b"id,QL2,")  # BOM not carried into the first column name
    assert read_output(out)[0]["id"] == "é1"


def test_stdin_to_stdout(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = "\ufeff" + EXAMPLE.read_text(encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode("utf-8")), encoding="utf-8"))
    assert main(["-"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    assert [r["id"] for r in rows] == [f"P00{i}" for i in range(1, 9)]
    assert rows[1]["QL2"] == "100.0"


def test_text_only_stdin_with_bom(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("\ufeff" + EXAMPLE.read_text(encoding="utf-8")))
    assert main(["-"]) == 0
    assert capsys.readouterr().out.startswith("id,visit_date,QL2,")


def test_output_dash_is_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLE), "-o", "-"]) == 0
    assert capsys.readouterr().out.startswith("id,visit_date,QL2,PF2,")
    assert not (Path.cwd() / "-").exists()


def test_existing_output_is_replaced_and_keeps_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("old\n", encoding="utf-8")
    out.chmod(0o640)
    assert main([str(EXAMPLE), "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("id,visit_date,")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_new_output_gets_the_umask_mode(tmp_path: Path) -> None:
    out = tmp_path / "new.csv"
    old = os.umask(0o022)
    try:
        assert main([str(EXAMPLE), "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644


def test_instrument_file_path(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    path = instruments_dir() / "qlq-c30.en.toml"
    assert main([str(EXAMPLE), "-o", str(out), "--instrument", str(path)]) == 0
    reference = tmp_path / "ref.csv"
    assert main([str(EXAMPLE), "-o", str(reference)]) == 0
    assert out.read_bytes() == reference.read_bytes()


# --- bad input: message with line and column, exit 1, nothing left behind -------------------------


def good_rows(n: int = 3) -> list[dict[str, str]]:
    return [answers_row(f"P{i}", str(1 + i % 4), site=f"s{i}") for i in range(1, n + 1)]


def run_failing(tmp_path: Path, source: Path, capsys: pytest.CaptureFixture[str]) -> str:
    out = tmp_path / "out" / "scores.csv"
    out.parent.mkdir()
    code = main([str(source), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert list(out.parent.iterdir()) == []  # neither the output nor a temporary file
    assert err.count("\n") == 1 and err.startswith(f"qlq-score: {source}, ")
    return err


@pytest.mark.parametrize(
    ("cell", "words"),
    [
        ("5", ["'5'", "1..4"]),
        ("0", ["'0'", "1..4"]),
        ("-1", ["'-1'"]),
        ("2.5", ["'2.5'", "not a whole number"]),
        ("abc", ["'abc'", "not a whole number"]),
        ("Un peu", ["'Un peu'"]),
        ("٣", ["not a whole number"]),  # an Arabic-Indic digit: int() would take it, we do not
        ("1_0", ["not a whole number"]),
    ],
)
def test_bad_value(tmp_path: Path, capsys: pytest.CaptureFixture[str], cell: str, words: list[str]) -> None:
    rows = good_rows()
    rows[1]["q7"] = cell
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 3, column 'q7'" in err
    for word in words:
        assert word in err


def test_value_out_of_the_global_scale(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[2]["q30"] = "8"
    rows[0]["q29"] = "7"  # fine for items 29-30
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 4, column 'q30'" in err and "1..7" in err


def test_first_bad_cell_is_the_leftmost(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[0] |= {"q2": "9", "q20": "x"}
    header = ["id", "q20", *(c for c in ITEMS if c != "q20"), "site"]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows, header), capsys)
    assert "line 2, column 'q20'" in err


@pytest.mark.parametrize("column", ["id", "q1", "q17", "q30"])
def test_missing_column(tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str) -> None:
    header = [c for c in ["id", *ITEMS, "site"] if c != column]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", good_rows(), header), capsys)
    assert f"line 1, column '{column}': missing column" in err


def test_several_missing_columns_are_all_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = ["identifier", *ITEMS[:28]]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", good_rows(), header), capsys)
    assert "line 1, column 'id': missing column (also missing: q29, q30)" in err


def test_semicolon_file_gets_a_hint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_text(";".join(["id", *ITEMS]) + "\n" + ";".join(["a"] + ["1"] * 30) + "\n", encoding="utf-8")
    err = run_failing(tmp_path, source, capsys)
    assert "line 1, column 'id'" in err and "';'" in err


@pytest.mark.parametrize("column", ["q3", "site", "id"])
def test_duplicated_column(tmp_path: Path, capsys: pytest.CaptureFixture[str], column: str) -> None:
    header = ["id", *ITEMS, "site", column]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", good_rows(), header), capsys)
    assert f"line 1, column '{column}': duplicated column" in err


def test_unnamed_columns_are_carried(tmp_path: Path) -> None:
    header = ["", "id", *ITEMS, "", ""]
    rows = [[str(i), f"P{i}", *(["2"] * 28), "4", "4", "", "x"] for i in (1, 2)]
    out = tmp_path / "out.csv"
    assert main([str(write_csv(tmp_path / "in.csv", header, rows)), "-o", str(out)]) == 0
    with out.open(encoding="utf-8", newline="") as handle:
        lines = list(csv.reader(handle))
    assert lines[0] == ["id", "", "", "", *SCORES]
    assert lines[2][:4] == ["P2", "2", "", "x"]


def test_column_named_like_a_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = ["id", *ITEMS, "PF2"]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", good_rows(), header), capsys)
    assert "line 1, column 'PF2'" in err


def test_duplicated_id_names_both_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [*good_rows(5), answers_row("P2", "1")]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 7, column 'id'" in err and "'P2'" in err and "line 3" in err


def test_ids_differing_only_by_spaces_are_duplicates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [*good_rows(2), answers_row(" P1 ", "1")]
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 4, column 'id'" in err and "line 2" in err


def test_empty_id(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[1]["id"] = "  "
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 3, column 'id': empty id" in err


@pytest.mark.parametrize("change", [1, -1])
def test_wrong_number_of_fields(tmp_path: Path, capsys: pytest.CaptureFixture[str], change: int) -> None:
    source = table(tmp_path / "in.csv", good_rows())
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2] + ",extra" if change > 0 else lines[2].rsplit(",", 1)[0]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = run_failing(tmp_path, source, capsys)
    if change > 0:
        assert "line 3: 33 fields where the header has 32: field 33 has no column (after 'site')" in err
    else:
        assert "line 3, column 'site': 31 fields where the header has 32" in err


def test_line_numbers_are_physical_lines(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[0]["site"] = "two\nlines"
    rows[1]["site"] = "three\nphysical\nlines"
    rows[2]["q5"] = "7"
    err = run_failing(tmp_path, table(tmp_path / "in.csv", rows), capsys)
    assert "line 7, column 'q5'" in err  # header 1, row 1 on 2-3, row 2 on 4-6, row 3 on 7


def test_not_utf8(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[1]["site"] = "Orléans"
    source = table(tmp_path / "in.csv", rows)
    source.write_bytes(source.read_bytes().replace("é".encode(), "é".encode("latin-1")))
    err = run_failing(tmp_path, source, capsys)
    assert "line 3, column 'site'" in err and "UTF-8" in err


def test_malformed_quoting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = table(tmp_path / "in.csv", good_rows())
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("P2", '"P"2', 1)
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = run_failing(tmp_path, source, capsys)
    assert "line 3" in err and "malformed CSV" in err


def test_unclosed_quote_names_the_line_where_it_opens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = table(tmp_path / "in.csv", good_rows(5))
    lines = source.read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3].replace(",s3", ',"s3')
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    err = run_failing(tmp_path, source, capsys)
    assert "line 4: malformed CSV" in err


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"")
    err = run_failing(tmp_path, source, capsys)
    assert "line 1" in err and "empty" in err


def test_failed_run_leaves_an_existing_output_untouched(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = good_rows()
    rows[2]["q1"] = "x"
    source = table(tmp_path / "in.csv", rows)
    out = tmp_path / "out.csv"
    out.write_text("previous results\n", encoding="utf-8")
    assert main([str(source), "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


def test_bad_stdin_rows_already_written_stay_on_stdout(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = good_rows()
    rows[2]["q1"] = "x"
    text = "\n".join(",".join(r[c] for c in ["id", *ITEMS, "site"]) for r in rows)
    data = ",".join(["id", *ITEMS, "site"]) + "\n" + text + "\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data.encode("utf-8")), encoding="utf-8"))
    assert main(["-"]) == 1
    captured = capsys.readouterr()
    assert "qlq-score: <stdin>, line 4, column 'q1'" in captured.err
    assert [r["id"] for r in csv.DictReader(io.StringIO(captured.out))] == ["P1", "P2"]  # documented


# --- usage errors: exit 2 -------------------------------------------------------------------------


def test_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    text = capsys.readouterr().out
    assert "usage: qlq-score" in text and "-o" in text and "standard output" in text


@pytest.mark.parametrize("argv", [[], ["a.csv", "b.csv"], ["--bogus", "x.csv"]])
def test_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    assert "usage: qlq-score" in capsys.readouterr().err


def test_unreadable_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(tmp_path / "absent.csv"), "-o", str(tmp_path / "out.csv")]) == 2
    assert "absent.csv" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_unknown_instrument(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLE), "--instrument", "qlq-xx"]) == 2
    err = capsys.readouterr().err
    assert "qlq-xx" in err and "qlq-c30" in err


def test_output_is_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "out.csv").mkdir()
    assert main([str(EXAMPLE), "-o", str(tmp_path / "out.csv")]) == 2
    assert "out.csv" in capsys.readouterr().err
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_output_directory_missing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(EXAMPLE), "-o", str(tmp_path / "nowhere" / "out.csv")]) == 2
    assert "nowhere" in capsys.readouterr().err


# --- the installed command and the id store -------------------------------------------------------


def test_runs_as_a_program(tmp_path: Path) -> None:
    rows = good_rows()
    rows[1]["q3"] = "9"
    source = table(tmp_path / "in.csv", rows)
    command = [sys.executable, "-m", "kiosk.cli.score"]
    bad = subprocess.run(
        [*command, str(source), "-o", str(tmp_path / "o.csv")], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and "line 3, column 'q3'" in bad.stderr
    assert not (tmp_path / "o.csv").exists()
    good = subprocess.run([*command, "-"], input=EXAMPLE.read_bytes(), capture_output=True, check=False)
    assert good.returncode == 0
    assert good.stdout.decode("utf-8").splitlines()[0] == ",".join(["id", "visit_date", *SCORES])


def test_seen_ids_grow_and_remember_first_lines() -> None:
    seen = SeenIds(capacity=4)
    for i in range(5000):
        assert seen.add(f"id-{i}", i + 2) is None
    assert len(seen) == 5000
    assert seen.add("id-0", 9999) == 2
    assert seen.add("id-4321", 9999) == 4323
    assert seen.add("", 10) is None
    assert seen.add("", 11) == 10
