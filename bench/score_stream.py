"""Benchmark ``qlq-score`` on a large generated file: throughput, and memory that does not grow with rows.

    uv run python bench/score_stream.py              # 1,000,000 rows
    uv run python bench/score_stream.py --rows 200000

Generates CSV files in a temporary directory (a pool of random answer rows, ~5 % of cells missing, unique
ids and a carried column), runs the real ``qlq-score`` command on each in a subprocess, and prints rows/s,
the child's CPU time and its peak RSS from ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss``. That figure is
the peak of all children waited for so far, so the runs go from small to large: the 8-row example (the
baseline: interpreter, pydantic and the instrument), 100,000 rows, then the requested count. Memory is
"constant" when the large run needs less than 80 MB more than the 100,000-row run; the only thing that grows
is the duplicate-id table (16-byte digest + 4-byte line number per slot, at most 75 % full).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REFERENCE_ROWS = 100_000
GROWTH_LIMIT_MB = 80.0
EXAMPLE = Path(__file__).resolve().parent.parent / "resources" / "examples" / "qlq-c30-example.csv"


def command() -> list[str]:
    script = Path(sys.executable).parent / "qlq-score"
    if script.exists():
        return [str(script)]
    found = shutil.which("qlq-score")
    return [found] if found else [sys.executable, "-m", "kiosk.cli.score"]


def generate(path: Path, rows: int, seed: int = 2026) -> None:
    rng = random.Random(seed)

    def answers() -> list[str]:
        cells = []
        for n in range(1, 31):
            if rng.random() < 0.05:
                cells.append("")
            else:
                cells.append(str(rng.randint(1, 7 if n >= 29 else 4)))
        return cells

    pool = [",".join(answers()) for _ in range(4096)]
    sites = ["Lyon", "Paris", "Lille", "Nantes"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write("id,site," + ",".join(f"q{n}" for n in range(1, 31)) + "\n")
        buffer = []
        for i in range(rows):
            buffer.append(f"S{i:08d},{sites[i % 4]},{pool[rng.randrange(4096)]}\n")
            if len(buffer) == 10_000:
                handle.writelines(buffer)
                buffer.clear()
        handle.writelines(buffer)


def peak_children_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB elsewhere


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(source: Path, out: Path, rows: int) -> tuple[float, float, float]:
    """Score ``source`` into ``out``; return (wall seconds, CPU seconds, peak RSS in MB of the children so far)."""
    cpu = children_cpu()
    start = time.perf_counter()
    done = subprocess.run([*command(), str(source), "-o", str(out)], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    cpu = children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"qlq-score failed ({done.returncode}): {done.stderr.strip()}")
    with out.open(encoding="utf-8", newline="") as handle:
        written = sum(1 for _ in csv.reader(handle)) - 1
    if written != rows:
        sys.exit(f"expected {rows} scored rows, found {written}")
    return seconds, cpu, peak_children_mb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows in the main run (default: %(default)s)")
    args = parser.parse_args()
    print(
        f"command: {' '.join(command())}; load average before: {os.getloadavg()[0]:.1f} "
        f"on {os.cpu_count()} CPUs (rows/s suffers when the machine is busy; rows per CPU-second less so)"
    )
    with tempfile.TemporaryDirectory(prefix="qlq-bench-") as folder:
        work = Path(folder)
        *_, baseline = run(EXAMPLE, work / "example-out.csv", 8)
        print(f"baseline (8-row example): peak RSS {baseline:.1f} MB")
        results: dict[int, float] = {}
        for rows in sorted({REFERENCE_ROWS, args.rows}):  # small first: ru_maxrss is a running maximum
            source = work / f"in-{rows}.csv"
            started = time.perf_counter()
            generate(source, rows)
            size = source.stat().st_size / 1e6
            print(f"generated {rows:,} rows ({size:.0f} MB) in {time.perf_counter() - started:.1f} s")
            seconds, cpu, peak = run(source, work / f"out-{rows}.csv", rows)
            results[rows] = peak
            print(
                f"{rows:>9,} rows: {seconds:6.1f} s wall, {rows / seconds:7,.0f} rows/s; {cpu:6.1f} s CPU, "
                f"{rows / cpu:7,.0f} rows per CPU-second; peak RSS {peak:6.1f} MB"
            )
            source.unlink()
            (work / f"out-{rows}.csv").unlink()
    growth = results[args.rows] - results[REFERENCE_ROWS]
    verdict = "PASS" if growth < GROWTH_LIMIT_MB else "FAIL"
    print(
        f"{verdict}: constant memory: RSS growth {args.rows:,} vs {REFERENCE_ROWS:,} rows = {growth:.1f} MB "
        f"(limit {GROWTH_LIMIT_MB:.0f} MB; the duplicate-id digests are the only part that grows)"
    )
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main())
