"""The console's plumbing: templates, the session cookie, CSRF tokens, language, who is signed in.

Session cookie ``qlq_console`` = ``<user token>.<last activity, epoch seconds>.<HMAC>``: the user token is the
API's own (``qlqu_…``, see :mod:`sync_server.services.console_sessions`); the HMAC (``QLQ_TOKEN_SECRET``) binds
the last-activity time to it, so the idle limit (``QLQ_CONSOLE_IDLE_MINUTES``) cannot be stretched by the
browser. Every authenticated page renews the time. HttpOnly, SameSite=Strict, Path=/console, Secure unless
``QLQ_ENVIRONMENT=development``.

CSRF: every POST form carries ``csrf_token`` = HMAC(secret, session token) — or, before sign-in, HMAC of a
random pre-session cookie — and every POST handler checks it (:func:`check_csrf`) before anything else.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sync_server.auth import Role
from sync_server.console.i18n import LANGUAGES, Language, pick_language, translate
from sync_server.db import DbSession
from sync_server.security import keyed_hash
from sync_server.services.audit import Actor
from sync_server.services.console_sessions import ConsoleSessionService
from sync_server.settings import Settings
from sync_server.state import server_state

PREFIX = "/console"
SESSION_COOKIE = "qlq_console"
PRE_SESSION_COOKIE = "qlq_console_pre"
LANGUAGE_COOKIE = "qlq_lang"
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


class PageForbidden(Exception):
    def __init__(self, message_key: str, **values: object) -> None:
        super().__init__(message_key)
        self.message_key = message_key
        self.values = values


@dataclass(frozen=True)
class ConsoleUser:
    user_id: int
    username: str
    role: Role
    token: str

    @property
    def actor(self) -> Actor:
        """How the audit table names this user: exactly as for the API (``user:<name>``)."""
        return Actor(f"user:{self.username}", self.role)


def settings_of(request: Request) -> Settings:
    return server_state(request).settings


def language_of(request: Request) -> Language:
    return pick_language(request.cookies.get(LANGUAGE_COOKIE))


def idle_seconds(settings: Settings) -> int:
    return settings.console_idle_minutes * 60


# ---------------------------------------------------------------------------------------------- cookie
def _sign(settings: Settings, token: str, stamp: int) -> str:
    return keyed_hash(settings.token_secret, f"console-session:{token}.{stamp}")


def session_cookie_value(settings: Settings, token: str, now: float | None = None) -> str:
    stamp = int(time.time() if now is None else now)
    return f"{token}.{stamp}.{_sign(settings, token, stamp)}"


def read_session_cookie(settings: Settings, value: str | None, now: float | None = None) -> tuple[str | None, bool]:
    """(token, expired): the token when the cookie is genuine and not idle for too long."""
    if not value or value.count(".") != 2:
        return None, False
    token, stamp_text, signature = value.split(".")
    if not stamp_text.isdigit() or not hmac.compare_digest(signature, _sign(settings, token, int(stamp_text))):
        return None, False
    if (time.time() if now is None else now) - int(stamp_text) > idle_seconds(settings):
        return None, True
    return token, False


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(settings, token),
        httponly=True,
        samesite="strict",
        secure=settings.is_production,
        path=PREFIX,
        max_age=idle_seconds(settings),
    )


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="strict", secure=settings.is_production)


# ---------------------------------------------------------------------------------------------- who
def current_user(request: Request, db: DbSession) -> ConsoleUser:
    """The signed-in user (researcher or admin); raises :class:`LoginRequired` otherwise."""
    settings = settings_of(request)
    token, expired = read_session_cookie(settings, request.cookies.get(SESSION_COOKIE))
    if token is None:
        raise LoginRequired(expired=expired)
    identity = ConsoleSessionService(db, settings).identify(token)
    if identity is None:
        raise LoginRequired(expired=True)
    role: Role = "admin" if identity.role == "admin" else "researcher"
    user = ConsoleUser(identity.user_id, identity.username, role, token)
    request.state.console_user = user
    return user


def require(*roles: Role) -> Any:
    def check(user: Annotated[ConsoleUser, Depends(current_user)]) -> ConsoleUser:
        if user.role not in roles:
            raise PageForbidden("forbidden.role", roles=" / ".join(roles))
        return user

    return Depends(check)


AnyUser = Annotated[ConsoleUser, require("researcher", "admin")]
Researcher = Annotated[ConsoleUser, require("researcher")]
Admin = Annotated[ConsoleUser, require("admin")]


# ---------------------------------------------------------------------------------------------- CSRF
def csrf_token_for(settings: Settings, request: Request) -> str:
    user: ConsoleUser | None = getattr(request.state, "console_user", None)
    if user is not None:
        return keyed_hash(settings.token_secret, f"console-csrf:{user.token}")
    nonce = getattr(request.state, "pre_session", None) or request.cookies.get(PRE_SESSION_COOKIE) or ""
    return keyed_hash(settings.token_secret, f"console-csrf-pre:{nonce}") if nonce else ""


def check_csrf(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> None:
    """Dependency of every POST handler: 403 unless the form's token matches this browser's session."""
    expected = csrf_token_for(settings_of(request), request)
    if not expected or not csrf_token or not hmac.compare_digest(expected, csrf_token):
        raise PageForbidden("forbidden.csrf")


CsrfChecked = Annotated[None, Depends(check_csrf)]


def ensure_pre_session(request: Request) -> str:
    nonce = request.cookies.get(PRE_SESSION_COOKIE) or secrets.token_urlsafe(24)
    request.state.pre_session = nonce
    return nonce


# ---------------------------------------------------------------------------------------------- render
def fmt_datetime(value: datetime | None) -> str:
    return "—" if value is None else value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_percent(value: float | None, language: Language) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.1f}"
    return f"{text.replace('.', ',')} %" if language == "fr" else f"{text} %"


def fmt_number(value: int, language: Language) -> str:
    text = f"{value:,}"
    return text.replace(",", "\u202f") if language == "fr" else text


def fmt_duration(seconds: float | None, language: Language) -> str:
    if seconds is None:
        return "—"
    whole = round(seconds)
    return translate(language, "dash.minutes", minutes=whole // 60, seconds=whole % 60)


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = settings_of(request)
    language = language_of(request)
    user: ConsoleUser | None = getattr(request.state, "console_user", None)

    def t(key: str, **values: object) -> str:
        return translate(language, key, **values)

    other = "en" if language == "fr" else "fr"
    context.setdefault("error", None)
    context.setdefault("done", None)
    html = templates.get_template(name).render(
        t=t,
        lang=language,
        other_lang=other,
        languages=LANGUAGES,
        user=user,
        request=request,
        path=request.url.path,
        csrf_token=csrf_token_for(settings, request),
        prefix=PREFIX,
        dt=fmt_datetime,
        pct=lambda v: fmt_percent(v, language),
        num=lambda v: fmt_number(v, language),
        duration=lambda v: fmt_duration(v, language),
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    finish(response, request)
    return response


def finish(response: Response, request: Request) -> Response:
    """Headers every console response carries, and the renewed session (or pre-session) cookie."""
    settings = settings_of(request)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Content-Security-Policy"] = CSP
    user: ConsoleUser | None = getattr(request.state, "console_user", None)
    if user is not None:
        set_session_cookie(response, settings, user.token)
    pre = getattr(request.state, "pre_session", None)
    if pre and request.cookies.get(PRE_SESSION_COOKIE) != pre:
        response.set_cookie(
            PRE_SESSION_COOKIE, pre, httponly=True, samesite="strict", secure=settings.is_production, path=PREFIX
        )
    return response


def redirect(request: Request, url: str) -> RedirectResponse:
    response = RedirectResponse(url, status_code=303)
    finish(response, request)
    return response


def safe_next(target: str | None) -> str:
    """Only console paths (no open redirect)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return PREFIX + "/dashboard"
