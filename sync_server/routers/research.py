"""What researchers read: statistics per site and month, and streamed exports (audited)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import StreamingResponse

from sync_server import exports
from sync_server.auth import ResearcherCaller, StatsCaller
from sync_server.db import DbSession
from sync_server.errors import NotFound, Unprocessable
from sync_server.repositories.accounts import SiteRepository
from sync_server.repositories.submissions import SubmissionFilter
from sync_server.routers.deps import Instruments
from sync_server.schemas.api import ErrorResponse, StatsResponse
from sync_server.services.audit import Actor
from sync_server.services.exports import ExportJob, ExportStream, audit_export, check_format
from sync_server.services.stats import StatsService
from sync_server.state import server_state

router = APIRouter(tags=["research"])
_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorResponse} for code in (401, 403, 404, 422)}

SiteQ = Annotated[str | None, Query(max_length=32, description="Site code")]
FromQ = Annotated[date | None, Query(alias="from", description="First session date (inclusive)")]
ToQ = Annotated[date | None, Query(alias="to", description="Last session date (inclusive)")]


def _filter(
    db: DbSession, site: str | None, date_from: date | None, date_to: date | None, **extra: Any
) -> SubmissionFilter:
    site_id = None
    if site:
        found = SiteRepository(db).get_by_code(site)
        if found is None:
            raise NotFound(f"no site {site!r}", field="site", code="unknown_site")
        site_id = found.id
    if date_from and date_to and date_from > date_to:
        raise Unprocessable("'from' is after 'to'", field="from", code="invalid_filter")
    return SubmissionFilter(site_id=site_id, date_from=date_from, date_to=date_to, **extra)


@router.get(
    "/v1/stats", response_model=StatsResponse, responses=_ERRORS, summary="Sessions and voice use per site and month"
)
def stats(
    *, caller: StatsCaller, db: DbSession, site: SiteQ = None, date_from: FromQ = None, date_to: ToQ = None
) -> StatsResponse:
    rows = StatsService(db).by_site_month(_filter(db, site, date_from, date_to))
    return StatsResponse.model_validate({"rows": rows})


@router.get(
    "/v1/exports/{fmt}",
    responses={
        **_ERRORS,
        200: {"content": {"text/csv": {}, "application/x-spss-sav": {}, "application/fhir+json": {}}},
    },
    response_class=StreamingResponse,
    summary="Stream an export (csv-wide, csv-long, sav, fhir)",
)
def export(
    *,
    request: Request,
    caller: ResearcherCaller,
    db: DbSession,
    instruments: Instruments,
    fmt: Annotated[str, Path(description="csv-wide, csv-long, sav or fhir", max_length=16)],
    site: SiteQ = None,
    date_from: FromQ = None,
    date_to: ToQ = None,
    instrument: Annotated[str, Query(max_length=64)] = "qlq-c30",
    language: Annotated[str, Query(max_length=8)] = "fr",
    completed_only: bool = False,
    include_birth_date: bool = False,
) -> StreamingResponse:
    check_format(fmt)
    found = instruments.by_language(instrument, language)
    if found is None:
        raise NotFound(f"no instrument {instrument}/{language}", field="instrument", code="instrument_not_found")
    where = _filter(
        db,
        site,
        date_from,
        date_to,
        instrument_id=instrument,
        instrument_language=language,
        completed_only=completed_only,
    )
    filters = {
        "site": site,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "completed_only": completed_only,
    }
    job = audit_export(
        db,
        ExportJob(fmt=fmt, instrument=found, where=where, include_birth_date=include_birth_date, filters=filters),
        Actor(caller.actor, caller.role),
    )
    db.commit()  # the audit row, before anything is read for the export (and kept if preparing it fails)
    name = f"qlq-{instrument}-{language}-{fmt}{exports.file_extension(fmt)}"
    stream = ExportStream.open(server_state(request).sessionmaker, job)  # all that can fail before the first byte
    return StreamingResponse(
        iter(stream),
        media_type=exports.media_type(fmt),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
