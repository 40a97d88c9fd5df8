"""``qlq-server export``: the console twin of ``GET /v1/exports/{format}``, kept out of ``cli.py`` for size.

The audit row is committed first (own transaction), then the export streams from a second one bounded to the
audited sessions. Output goes to a file (``-o``) or to standard output; progress goes to standard error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from sync_server.errors import NotFound


def run_export(args: argparse.Namespace, settings: Any, session_scope: Callable[[Any], Any], actor: Any) -> int:
    from sync_server.repositories.accounts import SiteRepository
    from sync_server.repositories.submissions import SubmissionFilter
    from sync_server.services.exports import ExportJob, audit_export, check_format, write_job
    from sync_server.services.instruments import InstrumentRegistry

    check_format(args.format)
    instrument = InstrumentRegistry.bundled().by_language(args.instrument, args.language)
    if instrument is None:
        raise NotFound(
            f"no instrument {args.instrument}/{args.language}", field="instrument", code="instrument_not_found"
        )
    with session_scope(settings) as session:
        site_id = None
        if args.site:
            site = SiteRepository(session).get_by_code(args.site)
            if site is None:
                raise NotFound(f"no site {args.site!r}", field="site", code="unknown_site")
            site_id = site.id
        where = SubmissionFilter(
            site_id=site_id,
            date_from=args.date_from,
            date_to=args.date_to,
            instrument_id=args.instrument,
            instrument_language=args.language,
            completed_only=args.completed_only,
        )
        filters = {
            "site": args.site,
            "from": str(args.date_from) if args.date_from else None,
            "to": str(args.date_to) if args.date_to else None,
            "completed_only": args.completed_only,
        }
        job = audit_export(
            session,
            ExportJob(
                fmt=args.format,
                instrument=instrument,
                where=where,
                include_birth_date=args.include_birth_date,
                filters=filters,
            ),
            actor,
        )
    every = settings.export_progress_every

    def progress(count: int) -> None:
        if count % every == 0:
            sys.stderr.write(f"… {count} sessions exported\n")
            sys.stderr.flush()

    with session_scope(settings) as session:
        if args.output:
            tmp = args.output.with_name(args.output.name + ".part")
            try:
                with tmp.open("wb") as out:
                    rows = write_job(session, job, out, progress)
                tmp.replace(args.output)
            finally:
                tmp.unlink(missing_ok=True)
        else:
            rows = write_job(session, job, sys.stdout.buffer, progress)
            sys.stdout.buffer.flush()
    target = args.output or "standard output"
    sys.stderr.write(f"exported {rows} row(s) in {args.format} to {target}\n")
    return 0
