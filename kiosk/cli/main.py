"""``qlq-kiosk``: start the kiosk, or run one of its support sub-commands.

Sub-commands are dispatched before any heavy import, so ``qlq-kiosk parse-answer`` answers fast and works
on a machine without Qt.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from kiosk import __version__


def _parse_answer(argv: list[str]) -> int:
    from kiosk.cli import parse_answer

    return parse_answer.run(argv)


def _parse_confirmation(argv: list[str]) -> int:
    from kiosk.cli import parse_confirmation

    return parse_confirmation.run(argv)


def _detect_speech(argv: list[str]) -> int:
    from kiosk.cli import detect_speech

    return detect_speech.run(argv)


def _prepare_audio(argv: list[str]) -> int:
    from kiosk.cli import prepare_audio

    return prepare_audio.run(argv)


def _verify_release(argv: list[str]) -> int:
    from kiosk.cli import verify_release

    return verify_release.run(argv)


def _submission_schema(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk submission-schema",
        description="Print (or write) the JSON Schema of the submission payload the kiosk sends to the server.",
    )
    parser.add_argument("-o", "--output", type=Path, help="write to this file instead of standard output")
    parser.add_argument(
        "--schema-version",
        type=int,
        choices=(1, 2),
        default=2,
        help="payload version: 2 (sent by this kiosk, with voice details; default) or 1 (older kiosks)",
    )
    args = parser.parse_args(argv)
    from kiosk.domain.submission import submission_json_schema

    text = json.dumps(submission_json_schema(args.schema_version), indent=2, ensure_ascii=False) + "\n"
    if args.output:
        args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def _check_instrument(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk check-instrument",
        description="Validate instrument files (TOML) and print their id, language, item count and content hash.",
    )
    parser.add_argument("paths", nargs="*", type=Path, help="files to check (default: every bundled instrument)")
    args = parser.parse_args(argv)
    from kiosk.domain.instrument import InstrumentError, available_instruments, load_instrument_file

    paths = args.paths or list(available_instruments().values())
    status = 0
    for path in paths:
        try:
            inst = load_instrument_file(path)
        except InstrumentError as exc:
            print(str(exc), file=sys.stderr)
            status = 1
            continue
        print(
            f"{path}: {inst.id} {inst.version} [{inst.language}] {inst.item_count} items, "
            f"sha256 {inst.content_sha256} ({inst.info.verification})"
        )
    return status


def _enroll(argv: list[str]) -> int:
    from kiosk.cli import enroll

    return enroll.run(argv)


def _configure(argv: list[str]) -> int:
    from kiosk.cli import configure

    return configure.run(argv)


def _launch(argv: list[str]) -> int:
    from kiosk.cli import launch

    return launch.run(argv)


def _sync(argv: list[str]) -> int:
    from kiosk.cli import sync

    return sync.run(argv)


SUBCOMMANDS: dict[str, tuple[Callable[[list[str]], int], str]] = {
    "parse-answer": (_parse_answer, "show how the kiosk understands a spoken answer (JSON)"),
    "parse-confirmation": (_parse_confirmation, "show how the kiosk understands a reply to 'Est-ce bien cela ?'"),
    "detect-speech": (_detect_speech, "find where speech starts and ends in a WAV, as the kiosk would (JSON)"),
    "submission-schema": (_submission_schema, "print the JSON Schema of the submission payload"),
    "check-instrument": (_check_instrument, "validate instrument files and print their content hash"),
    "prepare-audio": (_prepare_audio, "build or update an audio pack (Google Text-to-Speech or espeak-ng)"),
    "verify-release": (_verify_release, "check a release archive's signature and signed manifest"),
    "enroll": (_enroll, "enroll this kiosk with the central server (device token in the OS keyring)"),
    "sync": (_sync, "send the queued sessions to the central server now; prints the counts (JSON)"),
    "launch": (_launch, "run the newest kiosk (installed or verified update), again after an update (Windows, macOS)"),
    "configure": (_configure, "write and validate the provisioning file IT pushes (server, site, code, settings)"),
}


def _run_kiosk(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk",
        description="Kiosque QLQ-C30: the EORTC QLQ-C30 questionnaire kiosk. Without a sub-command, starts the "
        "kiosk on its embedded default (local SQLite, no server, no cloud credentials).",
        epilog="sub-commands:\n"
        + "\n".join(f"  {name:<20} {text}" for name, (_, text) in SUBCOMMANDS.items())
        + "\n\nRun 'qlq-kiosk SUB-COMMAND --help' for each one's options.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"qlq-kiosk {__version__}")
    parser.add_argument(
        "--demo",
        action="store_true",
        help="demo mode: no setup, fixed demo PIN shown on screen, touch mode, data in a temp folder",
    )
    parser.add_argument("--windowed", action="store_true", help="run in a window instead of full screen")
    parser.add_argument("--data-dir", type=Path, help="where the kiosk keeps its database (default: app-data folder)")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation offscreen, in a temporary folder, and exit (0: no check failed)",
    )
    parser.add_argument("--json", action="store_true", help="with --self-test: print the results as JSON")
    args = parser.parse_args(argv)
    if args.self_test:
        from kiosk.cli import self_test

        return self_test.run(as_json=args.json)
    try:
        from kiosk.app import run_app
    except ImportError as exc:
        print(f"qlq-kiosk: the kiosk interface is not available: {exc}", file=sys.stderr)
        return 3
    return run_app(demo=args.demo, windowed=args.windowed, data_dir=args.data_dir)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in SUBCOMMANDS:
        handler, _ = SUBCOMMANDS[args[0]]
        return handler(args[1:])
    return _run_kiosk(args)


if __name__ == "__main__":
    sys.exit(main())
