"""The web console without a browser: every text key the templates use exists in both languages, the session
cookie's signature and idle limit, and its flags in production."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.responses import Response

from sync_server.console import charts
from sync_server.console.i18n import LANGUAGES, MESSAGES, translate
from sync_server.console.web import SESSION_COOKIE, read_session_cookie, session_cookie_value, set_session_cookie
from sync_server.settings import Settings

TEMPLATES = Path(__file__).resolve().parents[2] / "sync_server" / "console" / "templates"
SOURCES = [*TEMPLATES.glob("*.html"), *TEMPLATES.parent.glob("*.py")]
SECRET = "unit-test-secret-for-the-console-0123456789"


def test_every_key_the_pages_use_is_in_the_table_in_both_languages():
    used = set()
    for path in SOURCES:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.-]+)["']""", path.read_text(encoding="utf-8")))
    assert len(used) > 100
    dynamic = {key for key in used if key.endswith(".")}  # t("export.fmt." ~ fmt), t("role." ~ role)
    assert dynamic == {"export.fmt."}
    from sync_server.exports import FORMATS
    from sync_server.models import ROLES

    used |= {f"export.fmt.{f}" for f in FORMATS} | {f"role.{r}" for r in ROLES}
    assert used - dynamic - set(MESSAGES) == set()
    for key in MESSAGES:
        for language in LANGUAGES:
            assert getattr(MESSAGES[key], language).strip(), (key, language)


def test_french_first_and_placeholders_alike_in_both_languages():
    assert translate("fr", "login.submit") == "Se connecter" and translate("en", "login.submit") == "Sign in"
    for key, message in MESSAGES.items():
        assert set(re.findall(r"{(\w+)}", message.fr)) == set(re.findall(r"{(\w+)}", message.en)), key


def test_the_session_cookie_is_signed_and_expires_when_idle():
    settings = Settings(token_secret=SECRET, console_idle_minutes=30)
    value = session_cookie_value(settings, "qlqu_abc", now=1_000_000)
    assert read_session_cookie(settings, value, now=1_000_000 + 29 * 60) == ("qlqu_abc", False)
    assert read_session_cookie(settings, value, now=1_000_000 + 31 * 60) == (None, True)
    token, _, signature = value.split(".")
    assert read_session_cookie(settings, f"{token}.{1_000_000 + 3600}.{signature}", now=1_000_000) == (None, False)
    other = Settings(token_secret=SECRET[::-1])
    assert read_session_cookie(other, value, now=1_000_000) == (None, False)
    for junk in (None, "", "qlqu_abc", "a.b.c.d", "qlqu_abc.notanumber.00"):
        assert read_session_cookie(settings, junk) == (None, False)


def test_the_cookie_is_secure_httponly_strict_in_production():
    production = Settings(
        environment="production", token_secret="Zq8v-3LmN0pR7sT2uW5xY9aB4cD6eF1gH", behind_tls_proxy=True
    )
    response = Response()
    set_session_cookie(response, production, "qlqu_abc")
    header = response.headers["set-cookie"]
    assert header.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in header and "SameSite=strict" in header and "Secure" in header and "Path=/console" in header
    development = Response()
    set_session_cookie(development, Settings(token_secret=SECRET), "qlqu_abc")
    assert "Secure" not in development.headers["set-cookie"]


def test_chart_text_is_escaped():
    svg = charts.horizontal_bars(
        "c", "<t>", "d&", [charts.Series("s", "<b>", "#000")], [charts.Bar("<script>", (1.0,), ("1",))], stacked=True
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;t&gt;" in svg
