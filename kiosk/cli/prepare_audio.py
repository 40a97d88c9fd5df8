"""``qlq-kiosk prepare-audio``: build or update the audio pack of one language.

Synthesises only what is missing or changed (see :mod:`kiosk.audio.build`), prints one progress line per
prompt on standard error, then a summary; exit status 0 when every prompt has a clip, 1 when some failed
(named, with the reason; the others are kept), 2 on bad arguments or an unusable engine.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.audio.pack import RATES, packs_root

if TYPE_CHECKING:
    from kiosk.secrets.interface import SecretStore


def _secret_store() -> SecretStore | None:
    """The kiosk's secret store (the OS keyring), as the running kiosk opens it; None: the Google environment."""
    from kiosk.secrets.system import open_system_store

    return open_system_store()


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.25 <= value <= 2.0:
        raise argparse.ArgumentTypeError(f"{value} is outside 0.25..2.0 (1.0 = normal pace)")
    return round(value, 3)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk prepare-audio",
        description="Build or update an audio pack: every prompt of the instrument read aloud, as WAV clips bound "
        "to the exact text they speak. Only missing or changed prompts are synthesised.",
    )
    parser.add_argument("--language", required=True, help="instrument language, e.g. fr or en")
    parser.add_argument("--instrument", default="qlq-c30", help="instrument id (default qlq-c30)")
    parser.add_argument(
        "--engine",
        choices=("google", "espeak"),
        default="google",
        help="google: Google Cloud Text-to-Speech (credentials needed); espeak: espeak-ng, offline",
    )
    parser.add_argument("--voice", help="voice name (Google: e.g. fr-FR-Neural2-A; espeak-ng: e.g. fr-fr)")
    parser.add_argument(
        "--rate",
        type=_rate,
        action="append",
        dest="rates",
        help="speaking rate, 1.0 = normal; repeat for several rates (default: every rate the nurse "
        f"can choose: {', '.join(f'{r:g}' for r in RATES)})",
    )
    parser.add_argument("--out", type=Path, help="pack folder (default: <audio packs>/<language>)")
    parser.add_argument("--endpoint", help="Google endpoint, e.g. eu-texttospeech.googleapis.com (default global)")
    parser.add_argument(
        "--plaintext", action="store_true", help="insecure gRPC to a local test server on 127.0.0.1 (tests only)"
    )
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per Google call (default 20)")
    parser.add_argument("--attempts", type=int, default=3, help="Google calls per prompt at most (default 3)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    return parser


def run(argv: list[str], *, synthesizer: Any | None = None, secret_store: Any | None = None) -> int:
    args = build_parser().parse_args(argv)
    from kiosk.audio.build import build_pack
    from kiosk.audio.synth import EspeakSynthesizer, SynthesisError
    from kiosk.domain.instrument import InstrumentError, load_instrument
    from kiosk.domain.prompts import prompt_catalogue

    try:
        instrument = load_instrument(args.instrument, args.language)
    except InstrumentError as exc:
        print(f"prepare-audio: {exc}", file=sys.stderr)
        return 2
    rates = args.rates or list(RATES)
    out = args.out or packs_root() / args.language
    if synthesizer is None:
        try:
            if args.engine == "espeak":
                synthesizer = EspeakSynthesizer()
            else:
                from kiosk.audio.google_tts import GoogleSynthesizer, make_client

                store = secret_store if secret_store is not None else (None if args.plaintext else _secret_store())
                client = make_client(endpoint=args.endpoint, plaintext=args.plaintext, store=store)
                synthesizer = GoogleSynthesizer(client, timeout=args.timeout, attempts=args.attempts)
        except SynthesisError as exc:
            print(f"prepare-audio: engine {args.engine} unusable: {exc}", file=sys.stderr)
            return 2

    def progress(done: int, total: int, prompt_id: str, outcome: str) -> None:
        if not args.quiet or outcome.startswith("failed"):
            print(f"[{done}/{total}] {prompt_id}: {outcome}", file=sys.stderr, flush=True)

    catalogue = prompt_catalogue(instrument)
    report = build_pack(
        catalogue,
        out,
        synthesizer,
        language=args.language,
        voice=args.voice,
        rates=rates,
        progress=progress,
        meta={
            "instrument": {
                "id": instrument.id,
                "version": instrument.version,
                "content_sha256": instrument.content_sha256,
            }
        },
    )
    print(
        f"prepare-audio: {out}: {len(report.synthesised)} synthesised, {len(report.kept)} up to date, "
        f"{len(report.failed)} failed, {len(report.removed)} removed ({args.engine}, rates "
        f"{', '.join(f'{r:g}' for r in rates)})"
    )
    for key, reason in report.failed.items():
        print(f"prepare-audio: FAILED {key}: {reason}", file=sys.stderr)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    return run(list(sys.argv[1:] if argv is None else argv))
