"""``qlq-kiosk detect-speech FILE.wav``: where the patient's turn starts and ends in a recording, found by the
kiosk's own endpointing (same detector, same settings as the capture side: :mod:`kiosk.speech.endpointing`).

Prints one JSON object: ``{"speech": true|false, "start_ms": int|null, "end_ms": int|null}``. Support staff use
it on a recording from a tablet that "does not hear". Exit status 0, 1 for an unreadable file, 2 for bad
arguments."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from kiosk.speech.endpointing import EndpointConfig, WavError, detect_speech, read_wav_mono16k


def build_parser() -> argparse.ArgumentParser:
    defaults = EndpointConfig()
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk detect-speech", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "wav", type=Path, metavar="FILE.wav", help="PCM WAV, 8-32 bit, any common rate (8-192 kHz), mono or stereo"
    )
    parser.add_argument(
        "--trailing-silence-ms",
        type=int,
        default=defaults.trailing_silence_ms,
        help=f"silence that ends the turn (default {defaults.trailing_silence_ms}, as the kiosk)",
    )
    parser.add_argument(
        "--start-timeout-ms",
        type=int,
        default=defaults.start_timeout_ms,
        help=f"no speech before this: no turn (default {defaults.start_timeout_ms}, as the kiosk)",
    )
    return parser


def run(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    try:
        config = EndpointConfig(
            trailing_silence_ms=args.trailing_silence_ms, start_timeout_ms=args.start_timeout_ms
        ).checked()
    except ValueError as exc:
        print(f"qlq-kiosk detect-speech: {exc}", file=sys.stderr)
        return 2
    try:
        pcm = read_wav_mono16k(args.wav)
    except WavError as exc:
        print(f"qlq-kiosk detect-speech: {exc}", file=sys.stderr)
        return 1
    sys.stdout.write(json.dumps(detect_speech(pcm, config=config).to_json_dict()) + "\n")
    return 0
