"""``qlq-kiosk sync``: send the queued sessions now, from a shell, with the kiosk's own sync worker.

Runs passes until the queue is empty or only parked (rejected) submissions remain — waiting out the backoff
between passes, for at most ``--timeout`` seconds — or a single pass with ``--once``. Then prints ONE JSON
object: ``sent``, ``already_received``, ``rejected`` (this run), ``waiting`` (still pending), ``parked`` (all
rejected ones), ``last_error`` (French) and its ``last_error_code``, ``clock_warning``.

Exit status: 0 nothing waits; 1 some still wait (server unreachable, timeout); 2 cannot start (database, keyring,
not enrolled); 3 the server refused the device token (enroll again); 4 another sync holds the lock.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.secrets.interface import SecretStore
    from kiosk.storage.sqlite_store import SqliteSessionStore


def open_store(data_dir: Path | None, secrets: SecretStore) -> tuple[SqliteSessionStore, Path]:
    """The kiosk's encrypted database in ``data_dir`` (its key from ``secrets``), as the application opens it."""
    from kiosk.storage import paths
    from kiosk.storage.encryption import open_encrypted_store

    folder = Path(data_dir) if data_dir is not None else paths.data_dir()
    return open_encrypted_store(folder / paths.DATABASE_FILE, secrets), folder


def open_secrets(data_dir: Path | None) -> SecretStore:
    """The kiosk's secret store for that data folder, as the application opens it (kiosk.secrets.system)."""
    from kiosk.secrets.system import open_kiosk_secrets
    from kiosk.storage import paths

    return open_kiosk_secrets(Path(data_dir) if data_dir is not None else paths.data_dir())


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="qlq-kiosk sync", description="Send the kiosk's queued sessions to the central server now."
    )
    parser.add_argument("--once", action="store_true", help="a single pass, even if some are left waiting")
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        help="give up waiting for the server after this many seconds (default 300)",
    )
    parser.add_argument("--data-dir", type=Path, help="the kiosk's data folder (default: the app-data folder)")
    parser.add_argument(
        "--http-timeout", type=float, default=15.0, help="seconds to wait for each server reply (default 15)"
    )
    parser.add_argument(
        "--max-backoff",
        type=float,
        default=300.0,
        help="longest wait between retries after failures, in seconds (default 300)",
    )
    return parser


def run(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    from kiosk.secrets.interface import SecretStoreError
    from kiosk.storage.interface import StorageError
    from kiosk.sync.config import ServerUrlError

    try:
        secrets = open_secrets(args.data_dir)
        store, data_dir = open_store(args.data_dir, secrets)
    except (StorageError, SecretStoreError) as exc:  # includes a database that cannot be opened: never replaced
        print(f"qlq-kiosk sync: {exc.nurse_message}", file=sys.stderr)
        return 2
    try:
        return _sync(args, store, secrets, data_dir)
    except (StorageError, ServerUrlError) as exc:
        print(f"qlq-kiosk sync: {exc.nurse_message}", file=sys.stderr)
        return 2
    finally:
        store.close()


def _sync(args: argparse.Namespace, store: SqliteSessionStore, secrets: SecretStore, data_dir: Path) -> int:
    from kiosk.domain.clock import SYSTEM_CLOCK
    from kiosk.sync import messages
    from kiosk.sync.config import load_enrollment
    from kiosk.sync.engine import BackoffPolicy, PassReport
    from kiosk.sync.setup import build_worker

    if load_enrollment(store) is None:
        print(f"qlq-kiosk sync: {messages.NOT_ENROLLED}", file=sys.stderr)
        return 2
    worker = build_worker(
        store, secrets, data_dir, timeout=args.http_timeout, policy=BackoffPolicy(cap=max(args.max_backoff, 0.1))
    )
    total = PassReport()
    deadline = time.monotonic() + max(args.timeout, 0.0)
    locked_out = False
    while True:
        report = worker.run_pass(force=True) if total.exchanges == 0 else worker.run_pass()
        if report is None:
            locked_out = True
            break
        total.add(report)
        waiting = store.queue_counts().pending
        if args.once or waiting == 0 or report.stopped in ("auth", "not_enrolled", "storage"):
            break
        wake = worker.engine.next_wake()
        pause = 0.0 if wake is None else (wake - SYSTEM_CLOCK.now()).total_seconds()
        if time.monotonic() + pause > deadline:
            break
        time.sleep(max(pause, 0.0))
    status = worker.engine.refresh_counts()
    print(
        json.dumps(
            {
                "sent": total.sent,
                "already_received": total.already_received,
                "rejected": total.rejected,
                "waiting": status.counts.pending,
                "parked": status.counts.rejected,
                "last_error": status.last_error,
                "last_error_code": status.last_error_code,
                "clock_warning": status.clock_warning,
            },
            ensure_ascii=False,
        )
    )
    if locked_out:
        return 4
    if status.needs_enrollment:
        return 3
    return 0 if status.counts.pending == 0 else 1
