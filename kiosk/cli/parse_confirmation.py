"""``qlq-kiosk parse-confirmation``: how the kiosk understands a reply to "Vous avez répondu : assez. Est-ce bien
cela ?", as one JSON object. Runs :func:`kiosk.domain.confirmation.parse_confirmation`; needs only the domain."""

from __future__ import annotations

import argparse
import json
import sys

from kiosk.cli.parse_answer import _unit_interval
from kiosk.domain.answers import LEXICONS, SCALES, Alternative
from kiosk.domain.confirmation import parse_confirmation

_DESCRIPTION = """\
Show how the kiosk understands a spoken reply to a confirmation question, as one JSON object:
{"kind": "yes"|"no"|"answer"|"command"|"unclear", "value": int|null, "command": str|null}
Only a clear yes confirms; "answer" is a new answer (confirmed in its turn). Several TEXT arguments are the
recogniser's alternatives, best first. Exit status 0 whatever the reply, 2 for bad arguments."""

_EPILOG = """\
examples:
  qlq-kiosk parse-confirmation --scale 4 "oui"
  qlq-kiosk parse-confirmation --scale 4 "non, un peu"
  qlq-kiosk parse-confirmation --scale 7 --proposed 5 "oui, cinq\""""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk parse-confirmation",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scale", type=int, required=True, choices=SCALES, help="4 for items 1-28, 7 for 29-30")
    parser.add_argument("--language", default="fr", choices=sorted(LEXICONS), help="lexicon (default: fr)")
    parser.add_argument("--proposed", type=int, metavar="N", help="the answer being confirmed, if known")
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
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if len(args.confidence) > len(args.texts):
            parser.error(f"{len(args.confidence)} --confidence values for {len(args.texts)} TEXT arguments")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    confidences = [*args.confidence, *[None] * (len(args.texts) - len(args.confidence))]
    heard = [Alternative(t, c) for t, c in zip(args.texts, confidences, strict=True)]
    reply = parse_confirmation(heard, args.scale, language=args.language, proposed=args.proposed)
    sys.stdout.write(json.dumps(reply.to_json_dict()) + "\n")
    return 0
