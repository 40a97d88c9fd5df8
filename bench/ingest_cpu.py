"""The server's CPU per received session, step by step (no database): one command, prints medians.

    uv run python bench/ingest_cpu.py [--repeat 7]

For a completed 30-item session with voice answers (the payload kiosks send): parsing it into the domain model
(pydantic), the plausibility rule alone, and the whole preparation the ingest runs before its INSERT
(``prepare_submission``: instrument checks, rescoring, plausibility, canonical JSON and its sha256, the row).
Each figure is the median over ``--repeat`` rounds of the best of 3 timings of 200 calls. These are the Python
parts of what ``bench/sync_drain.py`` and ``bench/server_ingest.py`` measure end to end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk.domain.plausibility import plausibility_problems
from kiosk.domain.submission import Submission
from sync_server.services.ingest import prepare_submission
from sync_server.services.instruments import InstrumentRegistry
from tests.integration.server.factories import make_submission, payload


def per_call_ms(fn: Callable[[], object], repeat: int, number: int = 200) -> float:
    rounds = [min(timeit.repeat(fn, number=number, repeat=3)) / number * 1000 for _ in range(repeat)]
    return statistics.median(rounds)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    body = json.loads(json.dumps(payload(make_submission(voice_items=range(1, 6), confirmed_items=[1]))))
    sub = Submission.model_validate(body)
    registry = InstrumentRegistry.bundled()
    figures = {
        "parse (pydantic)": per_call_ms(lambda: Submission.model_validate(body), args.repeat),
        "plausibility rule": per_call_ms(lambda: plausibility_problems(sub, now=sub.frozen_at), args.repeat),
        "prepare_submission (all checks + row)": per_call_ms(
            lambda: prepare_submission(registry, sub, site_id=1, device_id=None), args.repeat
        ),
    }
    assert not plausibility_problems(sub, now=sub.frozen_at)
    for name, ms in figures.items():
        print(f"{name:40s} {ms:.3f} ms per session (median of {args.repeat})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
