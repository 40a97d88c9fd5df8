"""``qlq-kiosk configure``: write and validate the provisioning file IT pushes to the tablets.

    qlq-kiosk configure --server https://qlq.hopital.fr --site LYON-01 --code K7Q2-9XMP [--language fr]
                        [--ca-bundle /etc/ssl/hopital-ca.pem] [--update-url https://…]
                        [--set speech_rate_percent=80 ...] [--unset NAME ...]
                        [--file PATH] [--show]

Merges the given fields into the file (default: the per-machine place the kiosk reads, ``$QLQ_PROVISIONING_FILE``
overriding it), keeps its comments and other fields, and writes it atomically only when every field is valid —
by the same checks the kiosk applies at start. Prints the resulting fields as JSON (the enrollment code masked).
``--show`` only reads and checks the file. Exit status: 0 written (or valid), 2 a value refused (each named, in
French, on standard error; the file left as it was).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk configure", description="Write and validate the kiosk's provisioning file (TOML)."
    )
    parser.add_argument("--file", type=Path, help="the provisioning file (default: where the kiosk reads it)")
    parser.add_argument("--server", help="the centre's server, https://…")
    parser.add_argument("--site", help="the site code at the centre")
    parser.add_argument("--code", help="a one-time enrollment code (qlq-server enroll); erased once used")
    parser.add_argument("--language", help="the language the start form proposes (fr, en)")
    parser.add_argument("--ca-bundle", help="PEM file of the hospital's certificate authorities")
    parser.add_argument(
        "--update-url", help="where to ask for signed updates, https://… (default: the centre's server)"
    )
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a kiosk setting, e.g. speech_rate_percent=80, default_mode=touch (repeatable)",
    )
    parser.add_argument("--unset", action="append", default=[], metavar="NAME", help="remove a field (repeatable)")
    parser.add_argument("--show", action="store_true", help="only read and check the file")
    return parser


def _value(text: str) -> Any:
    """``80`` → 80, ``0.9`` → 0.9, ``true`` → True, anything else (or a quoted TOML string) → the text."""
    import tomlkit
    from tomlkit.exceptions import ParseError

    try:
        return tomlkit.parse(f"v = {text}").unwrap()["v"]
    except ParseError:
        return text


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    import logging

    logging.getLogger().addHandler(logging.NullHandler())  # the French lines below are the report
    from kiosk.domain.instrument import available_instruments
    from kiosk.viewmodels import provisioning

    path = args.file or provisioning.default_path()
    languages = tuple(sorted({lang for (_id, lang) in available_instruments()})) or provisioning.LANGUAGES
    if args.show:
        found = provisioning.load(path, languages=languages)
        if found.problems:
            print(found.french(), file=sys.stderr)
        _print(found)
        return 2 if found.problems else 0
    values: dict[str, Any] = {}
    for name, given in (
        ("server_url", args.server),
        ("site", args.site),
        ("enrollment_code", args.code),
        ("language", args.language),
        ("ca_bundle", args.ca_bundle),
        ("update_url", args.update_url),
    ):
        if given is not None:
            values[name] = given
    for item in args.set:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            print(f"qlq-kiosk configure: --set {item!r} : la forme attendue est NOM=VALEUR", file=sys.stderr)
            return 2
        values[name.strip()] = _value(text.strip())
    for name in args.unset:
        values[name.strip()] = None
    try:
        written = provisioning.write(path, values, languages=languages)
    except ValueError as exc:
        print(f"qlq-kiosk configure: rien n'a été écrit dans {path}.\n{exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"qlq-kiosk configure: {path} ne peut pas être écrit ({exc.strerror or exc})", file=sys.stderr)
        return 2
    _print(written)
    return 0


def _print(found: Any) -> None:
    connection = dict(found.connection)
    if "enrollment_code" in connection:
        connection["enrollment_code"] = connection["enrollment_code"][:2] + "…"
    settings = {name: getattr(value, "value", value) for name, value in found.settings.items()}
    print(json.dumps({"file": str(found.path), **connection, **settings}, ensure_ascii=False))
