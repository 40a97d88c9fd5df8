"""``qlq-kiosk parse-answer``: one JSON object on stdout, exit 0 for any outcome, 2 for bad arguments."""

from __future__ import annotations

import json

import pytest

from kiosk.cli.parse_answer import run


def call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object], str]:
    code = run(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out else {}), err


def test_prints_one_json_object(capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--scale", "4", "euh, un peu"])
    out, err = capsys.readouterr()
    assert code == 0 and err == ""
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "kind": "answer",
        "value": 2,
        "needs_confirmation": False,
        "command": None,
        "reason": "exact phrase 'un peu'",
        "matched": "un peu",
    }


@pytest.mark.parametrize(
    ("argv", "kind", "value", "confirm", "command"),
    [
        (["--scale", "4", "pas beaucoup"], "unclear", None, False, None),
        (["--scale", "7", "cette"], "answer", 7, True, None),
        (["--scale", "7", "excellent"], "answer", 7, False, None),
        (["--scale", "4", "excellent"], "unclear", None, False, None),
        (["--scale", "4", "répétez"], "command", None, False, "repeat"),
        (["--scale", "4", "je ne sais pas"], "command", None, False, "dont_know"),
        (["--scale", "4", "question précédente"], "command", None, False, "back"),
        (["--scale", "4", ""], "unclear", None, False, None),
    ],
)
def test_outcomes(
    argv: list[str],
    kind: str,
    value: int | None,
    confirm: bool,
    command: str | None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, result, _ = call(argv, capsys)
    assert code == 0
    assert (result["kind"], result["value"], result["needs_confirmation"], result["command"]) == (
        kind,
        value,
        confirm,
        command,
    )
    assert set(result) == {"kind", "value", "needs_confirmation", "command", "reason", "matched"}


def test_confidence_below_the_threshold_asks_for_confirmation(capsys: pytest.CaptureFixture[str]) -> None:
    _, result, _ = call(["--scale", "4", "--confidence", "0.42", "beaucoup"], capsys)
    assert (result["value"], result["needs_confirmation"]) == (4, True)
    assert "low confidence 0.42 < 0.6" in str(result["reason"])


def test_min_confidence_is_honoured(capsys: pytest.CaptureFixture[str]) -> None:
    _, result, _ = call(["--scale", "4", "--min-confidence", "0.3", "--confidence", "0.42", "beaucoup"], capsys)
    assert result["needs_confirmation"] is False


def test_several_texts_are_alternatives_best_first(capsys: pytest.CaptureFixture[str]) -> None:
    _, result, _ = call(["--scale", "4", "deux", "trois", "--confidence", "0.9", "--confidence", "0.3"], capsys)
    assert (result["value"], result["needs_confirmation"]) == (2, True)
    _, result, _ = call(["--scale", "4", "bonjour", "assez"], capsys)
    assert (result["value"], result["needs_confirmation"]) == (3, True)


def test_fewer_confidences_than_texts_is_fine(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = call(["--scale", "4", "--confidence", "0.95", "assez", "assez"], capsys)
    assert code == 0 and result["needs_confirmation"] is False


def test_text_starting_with_a_dash_after_double_dash(capsys: pytest.CaptureFixture[str]) -> None:
    code, result, _ = call(["--scale", "7", "--", "-3"], capsys)
    assert code == 0 and result["value"] == 3


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["un peu"], "--scale"),
        (["--scale", "4"], "TEXT"),
        (["--scale", "5", "un peu"], "invalid choice"),
        (["--scale", "quatre", "un peu"], "invalid"),
        (["--scale", "4", "--confidence", "1.5", "un peu"], "between 0 and 1"),
        (["--scale", "4", "--confidence", "abc", "un peu"], "not a number"),
        (["--scale", "4", "--min-confidence", "-0.1", "un peu"], "between 0 and 1"),
        (["--scale", "4", "--min-confidence", "nan", "un peu"], "between 0 and 1"),
        (["--scale", "4", "--confidence", "0.5", "--confidence", "0.5", "un peu"], "2 --confidence values for 1"),
        (["--scale", "4", "--bogus", "un peu"], "unrecognized arguments"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = run(argv)
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    assert message in err
    assert "qlq-kiosk parse-answer" in err


def test_help_exits_0_and_describes_the_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["--help"]) == 0
    out = capsys.readouterr().out
    assert "usage: qlq-kiosk parse-answer" in out
    assert "--scale" in out and "--confidence" in out and "needs_confirmation" in out
