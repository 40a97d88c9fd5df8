"""The console's pages. Like the API routers, they translate HTTP to service calls and back: no SQL here, and
the same services, roles, tokens and audit as ``/v1`` (an export is the API's own audited export job)."""

from __future__ import annotations

import io
import json
import uuid
from datetime import date
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from sync_server import exports
from sync_server.console import views
from sync_server.console.i18n import LANGUAGES, MESSAGES, translate
from sync_server.console.web import (
    LANGUAGE_COOKIE,
    PREFIX,
    SESSION_COOKIE,
    Admin,
    AnyUser,
    ConsoleUser,
    CsrfChecked,
    Researcher,
    clear_session_cookie,
    ensure_pre_session,
    finish,
    language_of,
    read_session_cookie,
    redirect,
    render,
    safe_next,
    set_session_cookie,
    settings_of,
)
from sync_server.db import DbSession
from sync_server.errors import AppError, RateLimited, Unprocessable
from sync_server.routers.deps import Instruments, client_ip, enforce_rate_limit
from sync_server.services.accounts import AccountService, InvalidCredentials
from sync_server.services.audit import ACTIONS
from sync_server.services.console_admin import ConsoleAdminService
from sync_server.services.console_sessions import ConsoleSessionService
from sync_server.services.dashboard import DashboardService
from sync_server.services.exports import ExportJob, ExportStream, audit_export, check_format
from sync_server.services.gdpr import GdprService
from sync_server.state import server_state

router = APIRouter(prefix=PREFIX, include_in_schema=False)
Text = Annotated[str, Form(max_length=500)]
OptText = Annotated[str, Form(max_length=500)]


def error_text(request: Request, exc: AppError) -> str:
    """A service's refusal in the page's language (its stable code), else its own message."""
    key = f"error.{exc.code}"
    language = language_of(request)
    return translate(language, key) if key in MESSAGES else exc.message


# ================================================================================================ sign in/out
@router.get("", response_class=HTMLResponse)
@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    token, _ = read_session_cookie(settings_of(request), request.cookies.get(SESSION_COOKIE))
    return RedirectResponse(f"{PREFIX}/dashboard" if token else f"{PREFIX}/login", status_code=303)


@router.get("/lang/{language}")
def switch_language(request: Request, language: str, next: Annotated[str | None, Query()] = None) -> Response:
    response = RedirectResponse(safe_next(next), status_code=303)
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            samesite="strict",
            path=PREFIX,
            max_age=365 * 86400,
            secure=settings_of(request).is_production,
            httponly=True,
        )
    return response


@router.get("/login", response_class=HTMLResponse)
def login_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    notice: Annotated[str | None, Query(max_length=32)] = None,
) -> Response:
    ensure_pre_session(request)
    notices = {"expired": "login.expired", "logged_out": "login.logged_out"}
    return render(
        request, "login.html", next=safe_next(next), error=None, notice=notices.get(notice or ""), username=""
    )


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    db: DbSession,
    _: CsrfChecked,
    username: Text,
    password: Text,
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    ensure_pre_session(request)
    settings = settings_of(request)
    language = language_of(request)
    try:
        # the very keys of POST /v1/auth/token: console and API attempts share one budget per address and
        # one per account
        enforce_rate_limit(request, f"login-ip:{client_ip(request)}", settings.auth_rate_limit_attempts)
        enforce_rate_limit(request, f"login-account:{username.lower()}", settings.auth_rate_limit_account_attempts)
        issued = ConsoleSessionService(db, settings).login(username, password)
    except RateLimited as exc:
        seconds = (exc.headers or {}).get("Retry-After", "60")
        return render(
            request,
            "login.html",
            status_code=429,
            next=safe_next(next),
            notice=None,
            error=translate(language, "login.rate_limited", seconds=seconds),
            username=username,
            headers_retry=seconds,
        )
    except InvalidCredentials:
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            notice=None,
            error=translate(language, "login.failed"),
            username=username,
        )
    if issued.role not in ("admin", "researcher"):  # pragma: no cover - the users table allows no other role
        return render(
            request,
            "login.html",
            status_code=401,
            next=safe_next(next),
            notice=None,
            error=translate(language, "login.failed"),
            username=username,
        )
    response = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(response, settings, issued.token)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/logout")
def logout(request: Request, db: DbSession, user: AnyUser, _: CsrfChecked) -> Response:
    settings = settings_of(request)
    ConsoleSessionService(db, settings).logout(user.token)
    response = RedirectResponse(f"{PREFIX}/login?notice=logged_out", status_code=303)
    clear_session_cookie(response, settings)
    request.state.console_user = None
    return finish(response, request)


# ================================================================================================ research
def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Unprocessable(f"{field}: not a date", field=field, code="invalid_date") from None


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request,
    *,
    db: DbSession,
    user: AnyUser,
    instruments: Instruments,
    site: Annotated[str | None, Query(max_length=32)] = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
) -> Response:
    settings = settings_of(request)
    sites = AccountService(db, settings).sites.list()
    error = None
    board = None
    try:
        where = views.submission_filter(db, site or None, _date(date_from, "from"), _date(date_to, "to"))
        instrument = instruments.by_language("qlq-c30", "fr")
        items = list(instrument.item_numbers) if instrument else list(range(1, 31))
        board = DashboardService(db).build(where, items)
    except AppError as exc:
        error = error_text(request, exc)
    language = language_of(request)
    charts = views.dashboard_charts(board, language) if board else None
    return render(
        request,
        "dashboard.html",
        board=board,
        charts=charts,
        sites=sites,
        error=error,
        site=site or "",
        date_from=date_from or "",
        date_to=date_to or "",
    )


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, db: DbSession, user: Researcher, instruments: Instruments) -> Response:
    return render(
        request,
        "export.html",
        sites=AccountService(db, settings_of(request)).sites.list(),
        formats=exports.FORMATS,
        instruments=instruments.keys(),
        error=None,
        form={},
    )


@router.post("/export")
def export(
    request: Request,
    *,
    db: DbSession,
    user: Researcher,
    _: CsrfChecked,
    instruments: Instruments,
    fmt: Text,
    instrument: Text = "qlq-c30/fr",
    site: OptText = "",
    date_from: OptText = "",
    date_to: OptText = "",
    completed_only: OptText = "",
    include_birth_date: OptText = "",
) -> Response:
    """The API's export (``GET /v1/exports/{fmt}``) step for step: the same checks, the same audited job
    (:func:`~sync_server.services.exports.audit_export`, committed before the first byte), the same stream."""
    form = {
        "fmt": fmt,
        "instrument": instrument,
        "site": site,
        "from": date_from,
        "to": date_to,
        "completed_only": bool(completed_only),
        "include_birth_date": bool(include_birth_date),
    }
    try:
        check_format(fmt)
        instrument_id, _slash, language = instrument.partition("/")
        found = instruments.by_language(instrument_id, language)
        if found is None:
            raise Unprocessable(f"no instrument {instrument}", field="instrument", code="unknown_instrument")
        start, end = _date(date_from, "from"), _date(date_to, "to")
        where = views.submission_filter(
            db,
            site or None,
            start,
            end,
            instrument_id=instrument_id,
            instrument_language=language,
            completed_only=bool(completed_only),
        )
    except AppError as exc:
        return render(
            request,
            "export.html",
            status_code=exc.status if exc.status < 500 else 400,
            sites=AccountService(db, settings_of(request)).sites.list(),
            formats=exports.FORMATS,
            instruments=instruments.keys(),
            error=error_text(request, exc),
            form=form,
        )
    filters = {
        "site": site or None,
        "from": start.isoformat() if start else None,
        "to": end.isoformat() if end else None,
        "completed_only": bool(completed_only),
    }
    job = audit_export(
        db,
        ExportJob(fmt=fmt, instrument=found, where=where, include_birth_date=bool(include_birth_date), filters=filters),
        user.actor,
    )
    db.commit()  # the audit row, before anything is read for the export (as GET /v1/exports/{fmt})
    name = f"qlq-{instrument_id}-{language}-{fmt}{exports.file_extension(fmt)}"
    stream = ExportStream.open(server_state(request).sessionmaker, job)  # all that can fail before the first byte
    response = StreamingResponse(
        iter(stream),
        media_type=exports.media_type(fmt),
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
    return finish(response, request)


# ================================================================================================ admin: sites
@router.get("/admin/sites", response_class=HTMLResponse)
def sites_page(request: Request, db: DbSession, user: Admin, done: Annotated[str | None, Query()] = None) -> Response:
    return render(
        request,
        "sites.html",
        sites=AccountService(db, settings_of(request)).sites.list(),
        error=None,
        done=done,
        form={},
    )


@router.post("/admin/sites", response_class=HTMLResponse)
def create_site(
    request: Request, db: DbSession, user: Admin, _: CsrfChecked, code: Text, name: OptText = ""
) -> Response:
    service = AccountService(db, settings_of(request))
    try:
        service.create_site(code.strip(), name)
    except AppError as exc:
        return render(
            request,
            "sites.html",
            status_code=exc.status,
            sites=service.sites.list(),
            error=error_text(request, exc),
            done=None,
            form={"code": code, "name": name},
        )
    return redirect(request, f"{PREFIX}/admin/sites?done={code.strip()}")


# ================================================================================================ admin: devices
@router.get("/admin/devices", response_class=HTMLResponse)
def devices_page(
    request: Request, db: DbSession, user: Admin, done: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    settings = settings_of(request)
    return render(
        request,
        "devices.html",
        devices=ConsoleAdminService(db, settings).devices(),
        sites=AccountService(db, settings).sites.list(),
        ttl_hours=settings.enrollment_code_ttl_hours,
        error=None,
        done=done,
    )


@router.post("/admin/enrollment-codes", response_class=HTMLResponse)
def create_enrollment_code(request: Request, db: DbSession, user: Admin, _: CsrfChecked, site: Text) -> Response:
    settings = settings_of(request)
    try:
        issued = AccountService(db, settings).create_enrollment_code(site, user.actor.name)
    except AppError as exc:
        return render(
            request,
            "devices.html",
            status_code=exc.status,
            devices=ConsoleAdminService(db, settings).devices(),
            sites=AccountService(db, settings).sites.list(),
            ttl_hours=settings.enrollment_code_ttl_hours,
            error=error_text(request, exc),
            done=None,
        )
    # as `qlq-server enroll --server-url`: the kiosk's scanner reads the server's address and the code
    content = f"qlq-enroll:{str(request.base_url).rstrip('/')}#{issued.code}"
    svg = io.BytesIO()
    segno.make(content, error="m").save(
        svg,
        kind="svg",
        scale=6,
        border=4,
        xmldecl=False,
        svgns=True,
        title=translate(language_of(request), "devices.code_qr", code=issued.code),
        dark="#000000",
        light="#ffffff",
    )
    return render(
        request, "enrollment_code.html", issued=issued, qr_svg=views.inline_svg(svg.getvalue()), qr_content=content
    )


@router.get("/admin/devices/{device_id}/revoke", response_class=HTMLResponse)
def revoke_confirm(request: Request, db: DbSession, user: Admin, device_id: uuid.UUID) -> Response:
    view = ConsoleAdminService(db, settings_of(request)).device(device_id)
    return render(request, "revoke_device.html", view=view)


@router.post("/admin/devices/{device_id}/revoke")
def revoke_device(request: Request, db: DbSession, user: Admin, _: CsrfChecked, device_id: uuid.UUID) -> Response:
    service = ConsoleAdminService(db, settings_of(request))
    view = service.device(device_id)
    service.accounts.revoke_device(device_id)
    return redirect(request, f"{PREFIX}/admin/devices?done={view.device.name}")


# ================================================================================================ admin: users
def _users_page(
    request: Request,
    db: DbSession,
    *,
    status_code: int = 200,
    error: str | None = None,
    done: str | None = None,
    form: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "users.html",
        status_code=status_code,
        users=AccountService(db, settings_of(request)).users.list(),
        error=error,
        done=done,
        form=form or {},
    )


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(
    request: Request, db: DbSession, user: Admin, done: Annotated[str | None, Query(max_length=300)] = None
) -> Response:
    return _users_page(request, db, done=done)


def _user_action(
    request: Request, db: DbSession, action: Any, done_key: str, form: dict[str, str] | None = None, **values: str
) -> Response:
    try:
        action()
    except AppError as exc:
        db.rollback()
        return _users_page(request, db, status_code=exc.status, error=error_text(request, exc), form=form)
    done = translate(language_of(request), done_key, **values)
    return redirect(request, f"{PREFIX}/admin/users?" + views.query(done=done))


@router.post("/admin/users", response_class=HTMLResponse)
def create_user(
    request: Request, *, db: DbSession, user: Admin, _: CsrfChecked, username: Text, password: Text, role: Text
) -> Response:
    service = AccountService(db, settings_of(request))
    return _user_action(
        request,
        db,
        lambda: service.create_user(username.strip(), password, role),
        "users.created",
        form={"username": username, "role": role},
        name=username.strip(),
    )


@router.post("/admin/users/{username}/disable", response_class=HTMLResponse)
def disable_user(request: Request, db: DbSession, user: Admin, _: CsrfChecked, username: str) -> Response:
    service = AccountService(db, settings_of(request))
    return _user_action(
        request,
        db,
        lambda: service.disable_user(username, acting_user_id=user.user_id),
        "users.disabled",
        name=username,
    )


@router.post("/admin/users/{username}/enable", response_class=HTMLResponse)
def enable_user(request: Request, db: DbSession, user: Admin, _: CsrfChecked, username: str) -> Response:
    service = AccountService(db, settings_of(request))
    return _user_action(request, db, lambda: service.enable_user(username), "users.enabled_done", name=username)


@router.post("/admin/users/{username}/revoke-tokens", response_class=HTMLResponse)
def revoke_user_tokens(request: Request, db: DbSession, user: Admin, _: CsrfChecked, username: str) -> Response:
    service = AccountService(db, settings_of(request))
    return _user_action(
        request, db, lambda: service.revoke_user_tokens(username), "users.tokens_revoked", name=username
    )


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
def reset_password(
    request: Request, db: DbSession, user: Admin, _: CsrfChecked, username: str, password: Text
) -> Response:
    service = ConsoleAdminService(db, settings_of(request))
    return _user_action(
        request, db, lambda: service.reset_password(username, password), "users.password_reset", name=username
    )


@router.post("/admin/users/{username}/role", response_class=HTMLResponse)
def change_role(request: Request, *, db: DbSession, user: Admin, _: CsrfChecked, username: str, role: Text) -> Response:
    service = ConsoleAdminService(db, settings_of(request))
    role_name = translate(language_of(request), f"role.{role}") if f"role.{role}" in MESSAGES else role
    return _user_action(
        request,
        db,
        lambda: service.set_role(username, role, acting_user_id=user.user_id),
        "users.role_changed",
        name=username,
        role=role_name,
    )


# ================================================================================================ admin: audit
@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    *,
    db: DbSession,
    user: Admin,
    action: Annotated[str | None, Query(max_length=32)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[str | None, Query(alias="from", max_length=10)] = None,
    date_to: Annotated[str | None, Query(alias="to", max_length=10)] = None,
    session: Annotated[str | None, Query(max_length=64)] = None,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    error, page = None, None
    filters = {
        "action": action or "",
        "actor": actor or "",
        "from": date_from or "",
        "to": date_to or "",
        "session": session or "",
    }
    try:
        where = views.audit_filter(action, actor, _date(date_from, "from"), _date(date_to, "to"), session)
        page = ConsoleAdminService(db, settings_of(request)).audit_page(where, before)
    except AppError as exc:
        error = error_text(request, exc)
    next_url = None
    if page is not None and page.next_before_id is not None:
        next_url = f"{PREFIX}/admin/audit?" + views.query(**filters, before=str(page.next_before_id))
    first_url = f"{PREFIX}/admin/audit?" + views.query(**filters) if before else None
    return render(
        request,
        "audit.html",
        page=page,
        error=error,
        filters=filters,
        actions=ACTIONS,
        next_url=next_url,
        first_url=first_url,
        detail_json=lambda d: json.dumps(d, ensure_ascii=False, sort_keys=True),
    )


# ================================================================================================ admin: GDPR
def _gdpr_page(
    request: Request,
    *,
    status_code: int = 200,
    held: dict[str, Any] | None = None,
    error: str | None = None,
    done: str | None = None,
    purge: dict[str, Any] | None = None,
    session_id: str = "",
) -> Response:
    return render(
        request,
        "gdpr.html",
        status_code=status_code,
        held=held,
        error=error,
        done=done,
        purge=purge,
        session_id=session_id,
        payload_json=json.dumps(held["payload"], ensure_ascii=False, indent=2) if held else "",
    )


def _session_id(text: str) -> uuid.UUID:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        raise Unprocessable("not a session id", field="submission_id", code="invalid_uuid") from None


@router.get("/admin/gdpr", response_class=HTMLResponse)
def gdpr_page(request: Request, user: Admin, done: Annotated[str | None, Query(max_length=300)] = None) -> Response:
    return _gdpr_page(request, done=done)


@router.post("/admin/gdpr/show", response_class=HTMLResponse)
def gdpr_show(request: Request, db: DbSession, user: Admin, _: CsrfChecked, submission_id: Text) -> Response:
    try:
        sid = _session_id(submission_id)
        held = GdprService(db).show(sid, user.actor)  # audited ("show"), as GET /v1/admin/sessions/{id}
    except AppError as exc:
        return _gdpr_page(request, status_code=exc.status, error=error_text(request, exc), session_id=submission_id)
    return _gdpr_page(request, held=held, session_id=str(sid))


@router.post("/admin/gdpr/anonymize", response_class=HTMLResponse)
def gdpr_anonymize(request: Request, db: DbSession, user: Admin, _: CsrfChecked, submission_id: Text) -> Response:
    try:
        sid = _session_id(submission_id)
        service = GdprService(db)
        changed = service.anonymize(sid, user.actor)
        held = service.show(sid, user.actor)
    except AppError as exc:
        return _gdpr_page(request, status_code=exc.status, error=error_text(request, exc), session_id=submission_id)
    done = translate(language_of(request), "gdpr.anonymized" if changed else "gdpr.already_anonymized")
    return _gdpr_page(request, held=held, done=done, session_id=str(sid))


@router.post("/admin/gdpr/delete", response_class=HTMLResponse)
def gdpr_delete(
    request: Request, db: DbSession, user: Admin, _: CsrfChecked, submission_id: Text, confirm_id: OptText = ""
) -> Response:
    try:
        sid = _session_id(submission_id)
        if confirm_id.strip().lower() != str(sid):
            raise Unprocessable("the id typed again does not match", field="confirm_id", code="confirm_mismatch")
        GdprService(db).delete(sid, user.actor)
    except AppError as exc:
        return _gdpr_page(request, status_code=exc.status, error=error_text(request, exc), session_id=submission_id)
    done = translate(language_of(request), "gdpr.deleted", id=str(sid))
    return redirect(request, f"{PREFIX}/admin/gdpr?" + views.query(done=done))


@router.post("/admin/gdpr/purge", response_class=HTMLResponse)
def gdpr_purge(
    request: Request, db: DbSession, user: Admin, _: CsrfChecked, older_than_days: Text, mode: Text = "dry-run"
) -> Response:
    language = language_of(request)
    if not older_than_days.strip().isdigit() or not 1 <= int(older_than_days) <= 36_500:
        return _gdpr_page(request, status_code=422, error=translate(language, "error.invalid_days"))
    days = int(older_than_days)
    dry_run = mode != "purge"
    ids = GdprService(db).purge(days, user.actor, dry_run=dry_run)
    if dry_run:
        return _gdpr_page(request, purge={"days": days, "count": len(ids)})
    done = translate(language, "gdpr.purged", n=len(ids))
    return redirect(request, f"{PREFIX}/admin/gdpr?" + views.query(done=done))


__all__ = ["ConsoleUser", "router"]
