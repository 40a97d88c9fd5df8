"""``qlq-kiosk parse-answer``: show how the kiosk understands a spoken answer, as one JSON object.

For support staff and for tuning the vocabulary: type what the recogniser heard and see what the kiosk would
do with it (accept, ask for confirmation, treat as a command, or ask again), and why. It runs the very
function the kiosk runs, :func:`kiosk.domain.answers.parse_answer`, and needs nothing but the domain core.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from kiosk.domain.answers import SCALES, Alternative, parse_answer

EXIT_OK = 0
EXIT_USAGE = 2

_DESCRIPTION = """\
Show how the kiosk understands a spoken answer to a QLQ-C30 item, as one JSON object on standard output:
{"kind": "answer"|"command"|"unclear", "value": int|null, "needs_confirmation": bool,
 "command": "repeat"|"back"|"dont_know"|"skip"|null, "reason": str, "matched": str}

Several TEXT arguments are the recogniser's alternatives (n-best list), best first. --confidence may be given
once per TEXT, in the same order (missing ones are unknown). The exit status is 0 whatever the outcome, 2 for
bad arguments. Use '--' before a TEXT that starts with '-'."""

_EPILOG = """\
examples:
  qlq-kiosk parse-answer --scale 4 "euh, un peu"
  qlq-kiosk parse-answer --scale 4 --confidence 0.42 "beaucoup"
  qlq-kiosk parse-answer --scale 7 "cette" "sept" --confidence 0.9 --confidence 0.5"""


def _unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk parse-answer",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scale",
        type=int,
        required=True,
        choices=SCALES,
        help="4 for items 1-28 (pas du tout .. beaucoup), 7 for items 29-30 (1-7)",
    )
    parser.add_argument(
        "--min-confidence",
        type=_unit_interval,
        default=0.6,
        metavar="X",
        help="below this recogniser confidence an answer must be confirmed (default: 0.6)",
    )
    parser.add_argument(
        "--confidence",
        type=_unit_interval,
        action="append",
        default=[],
        metavar="X",
        help="confidence (0..1) of the TEXT at the same position; repeat once per TEXT",
    )
    parser.add_argument("texts", nargs="+", metavar="TEXT", help="what the recogniser heard, best first")
    return parser


def run(argv: list[str]) -> int:
    """Parse ``argv`` (without the sub-command name), print one JSON object, return the exit status."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if len(args.confidence) > len(args.texts):
            parser.error(f"{len(args.confidence)} --confidence values for {len(args.texts)} TEXT arguments")
    except SystemExit as exc:  # argparse has printed the usage and the error (or the help) on its own
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    confidences: list[float | None] = [*args.confidence, *[None] * (len(args.texts) - len(args.confidence))]
    heard = [Alternative(text, conf) for text, conf in zip(args.texts, confidences, strict=True)]
    result = parse_answer(heard, args.scale, min_confidence=args.min_confidence)
    sys.stdout.write(json.dumps(result.to_json_dict()) + "\n")
    return EXIT_OK


def main() -> int:  # pragma: no cover - for `python -m kiosk.cli.parse_answer`
    return run(sys.argv[1:])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
