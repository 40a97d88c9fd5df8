"""The web console in a real browser (Debian Chromium + Playwright) against a real server and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import psycopg
import pytest

from sync_server.console.web import SESSION_COOKIE, session_cookie_value
from tests.browser.conftest import PASSWORD, RATE_LIMIT_ATTEMPTS, Server, axe_violations, login, screenshot
from tests.browser.helpers import ALL_BUT_7, at, post_session
from tests.conftest_pg import libpq_dsn
from tests.integration.server.factories import BIRTH_DATE, INITIALS, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def audit_rows(server: Server, action: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq_dsn(server.settings.database_url)) as conn:
        return conn.execute(
            "SELECT actor, actor_role, row_count, submission_ids, detail, include_birth_date "
            "FROM audit_events WHERE action = %s ORDER BY id",
            (action,),
        ).fetchall()


def seed_dashboard(server: Server) -> dict[str, Any]:
    """Two sites, two months, known numbers (worked out by hand below)."""
    server.accounts.site("LYON-01", "Centre Léon Bérard")
    server.accounts.site("NICE-02", "Centre Antoine Lacassagne")
    lyon, _ = server.accounts.device("LYON-01", "tablette-lyon")
    nice, _ = server.accounts.device("NICE-02", "tablette-nice")
    ids = []
    # LYON-01, 2026-10: 3 completed (one by voice on items 1–4, two of them confirmed; one with item 7 skipped),
    # 1 abandoned after item 10
    ids.append(
        post_session(
            server.base,
            lyon,
            started_at=at(2026, 10, 5),
            voice_items=(1, 2, 3, 4),
            confirmed_items=(1, 2),
            step_seconds=10,
        )
    )
    ids.append(post_session(server.base, lyon, started_at=at(2026, 10, 12), values=ALL_BUT_7, step_seconds=6))
    ids.append(post_session(server.base, lyon, started_at=at(2026, 10, 20), step_seconds=8))
    ids.append(post_session(server.base, lyon, started_at=at(2026, 10, 21), outcome="abandoned", abandon_after=10))
    # LYON-01, 2026-11: 1 completed, item 7 skipped
    ids.append(post_session(server.base, lyon, started_at=at(2026, 11, 3), values=ALL_BUT_7))
    # NICE-02, 2026-11: 2 completed, all by touch
    ids.append(post_session(server.base, nice, started_at=at(2026, 11, 4)))
    ids.append(post_session(server.base, nice, started_at=at(2026, 11, 9)))
    return {"ids": ids}


# ----------------------------------------------------------------------------------------------- sign in
def test_login_and_logout(page: Any, server: Server) -> None:
    researcher = server.user("researcher")
    page.goto("/console/dashboard")
    assert urlparse(page.url).path == "/console/login"  # not signed in: sent to the login page
    login(page, researcher)
    assert urlparse(page.url).path == "/console/dashboard"
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord de la collecte"
    cookie = next(c for c in page.context.cookies() if c["name"] == SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    assert not cookie["secure"]  # development server over plain HTTP; Secure everywhere else (unit test)
    assert cookie["value"].startswith("qlqu_")  # the API's own user token kind
    stolen = cookie["value"]

    page.get_by_role("button", name="Se déconnecter").click()
    page.wait_for_url("**/console/login?notice=logged_out")
    assert "Vous êtes déconnecté" in page.inner_text("main")
    assert not [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE]
    page.goto("/console/dashboard")
    assert urlparse(page.url).path == "/console/login"
    # the token behind the old cookie is revoked server-side, not just forgotten by the browser
    replay = httpx.get(f"{server.base}/console/dashboard", cookies={SESSION_COOKIE: stolen}, follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/console/login")


def test_wrong_password_then_the_rate_limit(page: Any, server: Server) -> None:
    researcher = server.user("researcher")
    for _ in range(RATE_LIMIT_ATTEMPTS - 1):
        login(page, researcher, "not the password at all")
        assert "Identifiant ou mot de passe incorrect." in page.inner_text("[role=alert]")
    assert urlparse(page.url).path == "/console/login"
    # the budget is the API's: the console used 5 of 6, the API's login takes the sixth ...
    api = httpx.post(f"{server.base}/v1/auth/token", json={"username": researcher, "password": "wrong-again-wrong"})
    assert api.status_code == 401
    # ... and now even the right password is refused, in the console and in the API
    login(page, researcher, PASSWORD)
    assert "Trop de tentatives" in page.inner_text("[role=alert]")
    assert urlparse(page.url).path == "/console/login"
    assert (
        httpx.post(f"{server.base}/v1/auth/token", json={"username": researcher, "password": PASSWORD}).status_code
        == 429
    )


def test_a_device_token_never_opens_the_console(page: Any, server: Server) -> None:
    device, _ = server.accounts.device("SITE-D", "tablette-d")
    # a correctly signed console cookie carrying a device token, and the token as a bearer header: both refused
    forged = session_cookie_value(server.settings, device)
    attempts: tuple[dict[str, Any], ...] = ({"cookies": {SESSION_COOKIE: forged}}, {"headers": bearer(device)})
    for kwargs in attempts:
        response = httpx.get(f"{server.base}/console/dashboard", follow_redirects=False, **kwargs)
        assert response.status_code == 303 and response.headers["location"].startswith("/console/login")
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": forged, "url": f"{server.base}/console/"}])
    page.goto("/console/dashboard")
    assert urlparse(page.url).path == "/console/login"


def test_idle_session_expires(page: Any, server: Server) -> None:
    token = server.accounts.user_token("researcher")
    idle = session_cookie_value(server.settings, token, now=time.time() - 31 * 60)
    fresh = session_cookie_value(server.settings, token)
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": idle, "url": f"{server.base}/console/"}])
    page.goto("/console/dashboard")
    assert urlparse(page.url).path == "/console/login"
    assert "Votre session a expiré" in page.inner_text("main")
    page.context.add_cookies([{"name": SESSION_COOKIE, "value": fresh, "url": f"{server.base}/console/"}])
    page.goto("/console/dashboard")
    assert urlparse(page.url).path == "/console/dashboard"
    # a cookie whose time was pushed forward by hand fails its signature
    value, _stamp, signature = idle.split(".")
    tampered = f"{value}.{int(time.time())}.{signature}"
    response = httpx.get(f"{server.base}/console/dashboard", cookies={SESSION_COOKIE: tampered}, follow_redirects=False)
    assert response.status_code == 303


# ----------------------------------------------------------------------------------------------- research
def _bars(page: Any, chart: str) -> dict[tuple[str, str], str]:
    return {
        (row.get_attribute("data-label"), bar.get_attribute("data-series")): bar.get_attribute("data-value")
        for row in page.locator(f"#{chart} .bar-row").all()
        for bar in row.locator(".bar").all()
    }


def _table(page: Any) -> dict[tuple[str, str], dict[str, str]]:
    out = {}
    for row in page.locator("#stats-table tbody tr").all():
        cells = {cell.get_attribute("data-col"): cell.inner_text() for cell in row.locator("td[data-col]").all()}
        out[(row.get_attribute("data-site"), row.get_attribute("data-month"))] = cells
    return out


def test_dashboard_charts_and_table_show_the_seeded_numbers(page: Any, server: Server) -> None:
    seed_dashboard(server)
    login(page, server.user("researcher"))
    page.goto("/console/dashboard")
    sessions = _bars(page, "chart-sessions")
    assert sessions == {
        ("LYON-01 · 2026-10", "completed"): "3",
        ("LYON-01 · 2026-10", "abandoned"): "1",
        ("LYON-01 · 2026-11", "completed"): "1",
        ("LYON-01 · 2026-11", "abandoned"): "0",
        ("NICE-02 · 2026-11", "completed"): "2",
        ("NICE-02 · 2026-11", "abandoned"): "0",
    }
    voice = _bars(page, "chart-voice")
    # LYON-01 2026-10: answer records 30 + 29 + 30 + 10 = 99 (the skipped item 7 still has its record), 4 by voice,
    # 2 of those confirmed
    assert voice[("LYON-01 · 2026-10", "voice")] == f"{4 / 99 * 100:.1f} %".replace(".", ",")
    assert voice[("LYON-01 · 2026-10", "confirmed")] == "50,0 %"
    assert voice[("NICE-02 · 2026-11", "voice")] == "0,0 %"
    assert voice[("NICE-02 · 2026-11", "confirmed")] == "—"
    missing = _bars(page, "chart-missing")
    # item 7 skipped in 2 of the 6 completed sessions; the abandoned one does not count
    assert missing[("7", "missing")] == "2"
    assert all(value == "0" for (item, _), value in missing.items() if item != "7")
    assert len(missing) == 30
    table = _table(page)
    assert table[("LYON-01", "2026-10")] == {
        "started": "4",
        "completed": "3",
        "abandoned": "1",
        "median": "4 min 8 s",  # 31 clock steps of 8 s: the middle one of 10/6/8 s
        "voice": "4,0 %",
        "confirm": "50,0 %",
    }
    assert page.inner_text("#total-started") == "7" and page.inner_text("#total-completed") == "6"

    # the same numbers as GET /v1/stats
    token = server.accounts.user_token("researcher")
    api = httpx.get(f"{server.base}/v1/stats", headers=bearer(token)).json()["rows"]
    for row in api:
        cells = table[(row["site"], row["month"])]
        assert (int(cells["started"]), int(cells["completed"]), int(cells["abandoned"])) == (
            row["sessions_started"],
            row["sessions_completed"],
            row["sessions_abandoned"],
        )

    # filters: one site, then a date range
    page.get_by_label("Site", exact=True).select_option("NICE-02")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**site=NICE-02**")
    assert set(_table(page)) == {("NICE-02", "2026-11")}
    page.goto("/console/dashboard?from=2026-10-01&to=2026-10-31")
    assert set(_table(page)) == {("LYON-01", "2026-10")}
    assert _bars(page, "chart-missing")[("7", "missing")] == "1"
    page.goto("/console/dashboard?from=2026-11-01&to=2026-10-01")
    assert "La date de début est après la date de fin." in page.inner_text("[role=alert]")


@pytest.mark.parametrize("fmt", ["csv-wide", "csv-long"])
def test_export_from_the_page_equals_the_api_and_is_audited(
    page: Any, server: Server, tmp_path: Path, fmt: str
) -> None:
    seed_dashboard(server)
    researcher = server.user("researcher")
    login(page, researcher)
    page.goto("/console/export")
    page.get_by_label({"csv-wide": "CSV large", "csv-long": "CSV long"}[fmt], exact=False).check()
    page.get_by_label("Site", exact=True).select_option("LYON-01")
    page.get_by_label("Du", exact=True).fill("2026-10-01")
    page.get_by_label("Au", exact=True).fill("2026-11-30")
    page.get_by_label("Sessions complétées seulement").check()
    with page.expect_download() as waiting:
        page.get_by_role("button", name="Télécharger").click()
    download = waiting.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert download.suggested_filename == f"qlq-qlq-c30-fr-{fmt}.csv"

    token = server.accounts.user_token("researcher")
    api = httpx.get(
        f"{server.base}/v1/exports/{fmt}",
        headers=bearer(token),
        params={"site": "LYON-01", "from": "2026-10-01", "to": "2026-11-30", "completed_only": "true"},
    )
    assert api.status_code == 200
    assert saved.read_bytes() == api.content
    assert len(api.content) > 1000

    console_row, api_row = audit_rows(server, "export")
    assert console_row[0] == f"user:{researcher}" and console_row[1] == "researcher"
    assert console_row[2] == api_row[2] == 4  # LYON-01's completed sessions in Oct–Nov
    assert sorted(console_row[3]) == sorted(api_row[3])
    assert console_row[4] == api_row[4]  # same format, instrument and filters recorded
    assert console_row[5] is False


# ----------------------------------------------------------------------------------------------- admin
def test_enrollment_code_is_accepted_by_a_kiosk_and_revoking_blocks_its_next_submission(
    page: Any, server: Server
) -> None:
    server.accounts.site("LYON-01", "Centre Léon Bérard")
    login(page, server.user("admin"))
    page.goto("/console/admin/devices")
    page.get_by_label("Site", exact=True).select_option("LYON-01")
    page.get_by_role("button", name="Créer un code d'enrôlement").click()
    code = page.inner_text("#enrollment-code").strip()
    assert len(code) == 14 and code.count("-") == 2
    qr = page.locator("svg.qr")
    assert qr.count() == 1 and qr.bounding_box()["width"] >= 150  # drawn on the page
    assert f"#{code}" in page.inner_text("figcaption")

    enrolled = httpx.post(f"{server.base}/v1/devices/enroll", json={"code": code, "device_name": "tablette-3"})
    assert enrolled.status_code == 201, enrolled.text
    device_token = enrolled.json()["device_token"]
    post_session(server.base, device_token)
    # the code was single use
    again = httpx.post(f"{server.base}/v1/devices/enroll", json={"code": code, "device_name": "tablette-4"})
    assert again.status_code == 401

    page.goto("/console/admin/devices")
    row = page.locator("#devices-table tbody tr", has_text="tablette-3")
    assert "UTC" in row.locator("[data-col=last-submission]").inner_text()
    row.get_by_role("link", name="Révoquer tablette-3").click()
    assert "Révoquer la tablette tablette-3 ?" in page.inner_text("h1")
    page.get_by_role("button", name="Oui, révoquer").click()
    page.wait_for_url("**/console/admin/devices?done=**")
    assert "révoquée le" in page.locator("#devices-table tbody tr", has_text="tablette-3").inner_text()
    from tests.integration.server.factories import make_submission, payload

    refused = httpx.post(f"{server.base}/v1/submissions", json=payload(make_submission()), headers=bearer(device_token))
    assert refused.status_code == 401


def test_sites_and_users_administration(page: Any, server: Server) -> None:
    admin = server.user("admin")
    login(page, admin)
    page.goto("/console/admin/sites")
    page.get_by_label("Code", exact=True).fill("BREST-03")
    page.get_by_label("Nom", exact=True).fill("CHU de Brest")
    page.get_by_role("button", name="Créer un site").click()
    assert "site BREST-03 créé" in page.inner_text("[role=status]")
    assert "CHU de Brest" in page.inner_text("#sites-table")
    page.get_by_label("Code", exact=True).fill("BREST-03")
    page.get_by_role("button", name="Créer un site").click()
    assert "Ce site existe déjà." in page.inner_text("[role=alert]")

    page.goto("/console/admin/users")
    page.get_by_label("Identifiant", exact=True).fill("claire.martin")
    page.get_by_label("Mot de passe (12 caractères au moins)").fill("first password 123")
    page.get_by_role("button", name="Créer un utilisateur").click()
    assert "utilisateur claire.martin créé" in page.inner_text("[role=status]")
    api = httpx.post(
        f"{server.base}/v1/auth/token", json={"username": "claire.martin", "password": "first password 123"}
    )
    assert api.status_code == 200 and api.json()["role"] == "researcher"
    old_token = api.json()["access_token"]

    row = page.locator("#users-table tr[data-user='claire.martin']")
    row.get_by_label("Nouveau mot de passe pour claire.martin").fill("second password 456")
    row.get_by_role("button", name="Réinitialiser").click()
    assert "mot de passe de claire.martin réinitialisé" in page.inner_text("[role=status]")
    assert httpx.get(f"{server.base}/v1/stats", headers=bearer(old_token)).status_code == 401  # tokens revoked
    assert (
        httpx.post(
            f"{server.base}/v1/auth/token", json={"username": "claire.martin", "password": "second password 456"}
        ).status_code
        == 200
    )

    row = page.locator("#users-table tr[data-user='claire.martin']")
    row.get_by_label("Rôle de claire.martin").select_option("admin")
    row.get_by_role("button", name="Changer").click()
    assert "rôle de claire.martin : administrateur" in page.inner_text("[role=status]")
    relogin = httpx.post(
        f"{server.base}/v1/auth/token", json={"username": "claire.martin", "password": "second password 456"}
    )
    assert relogin.json()["role"] == "admin"

    page.locator("#users-table tr[data-user='claire.martin']").get_by_role(
        "button", name="Désactiver claire.martin"
    ).click()
    assert "utilisateur claire.martin désactivé" in page.inner_text("[role=status]")
    assert (
        httpx.post(
            f"{server.base}/v1/auth/token", json={"username": "claire.martin", "password": "second password 456"}
        ).status_code
        == 401
    )
    # a disabled account can be enabled again (its old tokens stay revoked: it logs in anew)
    page.locator("#users-table tr[data-user='claire.martin']").get_by_role(
        "button", name="Réactiver claire.martin"
    ).click()
    assert "utilisateur claire.martin réactivé" in page.inner_text("[role=status]")
    again = httpx.post(
        f"{server.base}/v1/auth/token", json={"username": "claire.martin", "password": "second password 456"}
    )
    assert again.status_code == 200
    page.locator("#users-table tr[data-user='claire.martin']").get_by_role(
        "button", name="Fermer les sessions de claire.martin"
    ).click()
    assert "sessions de claire.martin fermées" in page.inner_text("[role=status]")
    assert httpx.get(f"{server.base}/v1/stats", headers=bearer(again.json()["access_token"])).status_code == 401
    # the signed-in admin cannot demote themselves (the API's rule, not a second copy of it)
    me = (
        page.locator("#users-table tr[data-user]")
        .filter(has=page.get_by_role("button", name="Changer"))
        .filter(has_not=page.get_by_role("button", name="Désactiver", exact=False))
        .first
    )
    me.get_by_role("combobox").select_option("researcher")
    me.get_by_role("button", name="Changer").click()
    assert "votre propre compte" in page.inner_text("[role=alert]")
    # a too-short password is refused with the reason, in French
    page.get_by_label("Identifiant", exact=True).fill("paul.durand")
    page.get_by_label("Mot de passe (12 caractères au moins)").fill("short")
    page.locator("#new-password").evaluate("e => e.removeAttribute('minlength')")
    page.get_by_role("button", name="Créer un utilisateur").click()
    assert "12 characters" in page.inner_text("[role=alert]")


def test_audit_log_filters_and_pages(page: Any, server: Server) -> None:
    seed_dashboard(server)
    with psycopg.connect(libpq_dsn(server.settings.database_url)) as conn:
        for i in range(60):
            conn.execute(
                "INSERT INTO audit_events (actor, actor_role, action, row_count, submission_ids, detail) "
                "VALUES (%s, 'researcher', 'export', %s, '{}', '{}')",
                (f"user:r{i % 2}", i),
            )
        conn.execute(
            "INSERT INTO audit_events (actor, actor_role, action, row_count, submission_ids, detail) "
            "VALUES ('cli:root', 'cli', 'purge', 0, '{}', '{\"older_than_days\": 3650}')"
        )
    login(page, server.user("admin"))
    page.goto("/console/admin/audit")
    assert page.locator("#audit-table tbody tr").count() == 50
    page.get_by_role("link", name="Page suivante (plus anciens)").click()
    assert page.locator("#audit-table tbody tr").count() == 11
    assert page.get_by_role("link", name="Page suivante (plus anciens)").count() == 0
    page.goto("/console/admin/audit")
    page.get_by_label("Action", exact=True).select_option("purge")
    page.get_by_role("button", name="Filtrer").click()
    assert page.locator("#audit-table tbody tr").count() == 1
    assert "older_than_days" in page.inner_text("#audit-table")
    page.goto("/console/admin/audit?actor=user:r1")
    assert page.locator("#audit-table tbody tr").count() == 30


def test_gdpr_show_anonymize_delete_and_purge(page: Any, server: Server) -> None:
    ids = seed_dashboard(server)["ids"]
    target, other = ids[0], ids[1]
    login(page, server.user("admin"))
    page.goto("/console/admin/gdpr")
    page.get_by_label("Identifiant de session (UUID)").fill(target)
    page.get_by_role("button", name="Afficher tout ce qui est conservé").click()
    assert page.inner_text("#held-initials") == INITIALS
    assert page.inner_text("#held-birth-date") == BIRTH_DATE.isoformat()
    assert len(audit_rows(server, "show")) == 1

    # delete: a mistyped id deletes nothing
    page.get_by_label("Identifiant de la session, retapé").fill(other)
    page.get_by_role("button", name="Supprimer définitivement").click()
    assert "ne correspond pas" in page.inner_text("[role=alert]")
    assert not audit_rows(server, "delete")
    page.get_by_label("Identifiant de session (UUID)").fill(target)
    page.get_by_role("button", name="Afficher tout ce qui est conservé").click()
    page.get_by_label("Identifiant de la session, retapé").fill(target)
    page.get_by_role("button", name="Supprimer définitivement").click()
    assert f"session {target} supprimée" in page.inner_text("[role=status]")
    deleted = audit_rows(server, "delete")
    assert len(deleted) == 1 and [str(s) for s in deleted[0][3]] == [target]
    page.get_by_label("Identifiant de session (UUID)").fill(target)
    page.get_by_role("button", name="Afficher tout ce qui est conservé").click()
    assert "Aucune session avec cet identifiant." in page.inner_text("[role=alert]")

    # anonymize
    page.get_by_label("Identifiant de session (UUID)").fill(other)
    page.get_by_role("button", name="Afficher tout ce qui est conservé").click()
    page.get_by_role("button", name="Anonymiser").click()
    assert "session anonymisée" in page.inner_text("[role=status]")
    assert page.inner_text("#held-initials") == "—" and page.inner_text("#held-birth-date") == "—"
    assert page.inner_text("#held-anonymized") == "oui"

    # retention purge: dry run first (nothing deleted, nothing audited), then the purge
    days = (time.time() - at(2026, 10, 25).timestamp()) // 86400  # older than 25 Oct: the four October sessions
    page.get_by_label("Plus anciennes que (jours)").fill(str(int(days)))
    page.get_by_role("button", name="Essai à blanc").click()
    assert "3 session(s)" in page.inner_text("#dry-run-result")  # one of the four was deleted above
    assert not audit_rows(server, "purge")
    page.get_by_role("button", name="Supprimer ces 3 session(s)").click()
    assert "3 session(s) supprimée(s)" in page.inner_text("[role=status]")
    purged = audit_rows(server, "purge")
    assert len(purged) == 1 and purged[0][2] == 3


def test_a_form_without_its_csrf_token_is_refused(page: Any, server: Server) -> None:
    login(page, server.user("admin"))
    page.goto("/console/admin/sites")
    request = page.context.request  # the browser's own cookies: only the token is missing
    for data in ({"code": "EVIL-1", "name": "x"}, {"code": "EVIL-2", "name": "x", "csrf_token": "0" * 64}):
        response = request.post(f"{server.base}/console/admin/sites", form=data, max_redirects=0)
        assert response.status == 403
        assert "jeton de sécurité" in response.text()
    page.goto("/console/admin/sites")
    assert "EVIL" not in page.inner_text("main")
    # the token of another session is no good either
    other = httpx.get(f"{server.base}/console/login")
    assert other.status_code == 200
    # and sign-in itself needs the pre-session token
    response = httpx.post(f"{server.base}/console/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403


ADMIN_GETS = [
    "/console/admin/sites",
    "/console/admin/devices",
    "/console/admin/users",
    "/console/admin/audit",
    "/console/admin/gdpr",
    "/console/admin/devices/00000000-0000-0000-0000-000000000000/revoke",
]
ADMIN_POSTS = [
    "/console/admin/sites",
    "/console/admin/enrollment-codes",
    "/console/admin/users",
    "/console/admin/users/someone/disable",
    "/console/admin/users/someone/password",
    "/console/admin/users/someone/role",
    "/console/admin/gdpr/show",
    "/console/admin/gdpr/anonymize",
    "/console/admin/gdpr/delete",
    "/console/admin/gdpr/purge",
    "/console/admin/devices/00000000-0000-0000-0000-000000000000/revoke",
]


def test_a_researcher_cannot_reach_any_admin_page(page: Any, server: Server) -> None:
    ids = seed_dashboard(server)["ids"]
    login(page, server.user("researcher"))
    nav = page.get_by_role("navigation", name="Navigation principale").inner_text()
    assert "Tableau de bord" in nav and "Export" in nav
    assert not any(word in nav for word in ("Sites", "Tablettes", "Utilisateurs", "Journal", "RGPD"))
    for path in ADMIN_GETS:
        page.goto(path)
        assert "Accès refusé" in page.inner_text("h1"), path
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path in ADMIN_POSTS:
        response = page.context.request.post(
            f"{server.base}{path}",
            max_redirects=0,
            form={
                "csrf_token": csrf,
                "code": "X",
                "site": "LYON-01",
                "username": "u",
                "password": "p" * 12,
                "role": "admin",
                "submission_id": ids[0],
                "confirm_id": ids[0],
                "older_than_days": "1",
                "mode": "purge",
            },
        )
        assert response.status == 403, path
    # nothing happened: no site, no GDPR action, the sessions are all there
    assert not audit_rows(server, "delete") and not audit_rows(server, "purge") and not audit_rows(server, "show")
    token = server.accounts.user_token("researcher")
    assert len(httpx.get(f"{server.base}/v1/stats", headers=bearer(token)).json()["rows"]) == 3
    # patient identifiers appear on no page a researcher sees
    for path in ("/console/dashboard", "/console/export"):
        page.goto(path)
        assert INITIALS not in page.content() and BIRTH_DATE.isoformat() not in page.content()


def test_an_admin_cannot_export_as_in_the_api(page: Any, server: Server) -> None:
    login(page, server.user("admin"))
    page.goto("/console/export")
    assert "Accès refusé" in page.inner_text("h1")


def test_english_version(page: Any, server: Server) -> None:
    login(page, server.user("admin"))
    page.goto("/console/admin/users")
    page.get_by_role("link", name="Read this page in English").click()
    assert urlparse(page.url).path == "/console/admin/users"
    assert page.get_by_role("heading", level=1).inner_text() == "Users"
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/console/dashboard")
    assert page.get_by_role("heading", level=1).inner_text() == "Collection dashboard"
    page.get_by_role("link", name="Lire cette page en français").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tableau de bord de la collecte"


# ----------------------------------------------------------------------------------------------- accessibility
def _pages(server: Server, ids: list[str]) -> list[tuple[str, str, Callable[[Any], None]]]:
    """(name, role, how to get there) for every page of the console."""

    def goto(path: str) -> Callable[[Any], None]:
        return lambda page: page.goto(path)

    def enrollment(page: Any) -> None:
        page.goto("/console/admin/devices")
        page.get_by_role("button", name="Créer un code d'enrôlement").click()

    def gdpr_session(page: Any) -> None:
        page.goto("/console/admin/gdpr")
        page.get_by_label("Identifiant de session (UUID)").fill(ids[0])
        page.get_by_role("button", name="Afficher tout ce qui est conservé").click()
        page.locator("details").first.evaluate("e => e.open = true")

    def dry_run(page: Any) -> None:
        page.goto("/console/admin/gdpr")
        page.get_by_label("Plus anciennes que (jours)").fill("30")
        page.get_by_role("button", name="Essai à blanc").click()

    def revoke(page: Any) -> None:
        page.goto("/console/admin/devices")
        page.locator("#devices-table a.danger").first.click()

    def login_error(page: Any) -> None:
        page.goto("/console/login")
        page.get_by_label("Identifiant", exact=True).fill("nobody")
        page.get_by_label("Mot de passe").fill("wrong password")
        page.get_by_role("button", name="Se connecter").click()

    def forbidden(page: Any) -> None:
        page.goto("/console/admin/users")

    return [
        ("login", "", goto("/console/login")),
        ("login-error", "", login_error),
        ("dashboard", "researcher", goto("/console/dashboard")),
        ("dashboard-en", "researcher-en", goto("/console/dashboard")),
        ("export", "researcher", goto("/console/export")),
        ("forbidden", "researcher", forbidden),
        ("sites", "admin", goto("/console/admin/sites")),
        ("devices", "admin", goto("/console/admin/devices")),
        ("enrollment-code", "admin", enrollment),
        ("revoke-device", "admin", revoke),
        ("users", "admin", goto("/console/admin/users")),
        ("audit", "admin", goto("/console/admin/audit")),
        ("gdpr", "admin", goto("/console/admin/gdpr")),
        ("gdpr-session", "admin", gdpr_session),
        ("gdpr-dry-run", "admin", dry_run),
    ]


def test_every_page_has_no_serious_accessibility_violation(browser: Any, server: Server) -> None:
    ids = seed_dashboard(server)["ids"]
    users = {"researcher": server.user("researcher"), "admin": server.user("admin")}
    with psycopg.connect(libpq_dsn(server.settings.database_url)) as conn:
        conn.execute(
            "INSERT INTO audit_events (actor, actor_role, action, row_count, submission_ids, detail) "
            "VALUES ('user:r', 'researcher', 'export', 6, %s, "
            '\'{"format": "csv-wide", "site": "LYON-01"}\')',
            (ids[:6],),
        )
    from tests.browser.conftest import VIEWPORT

    failures = {}
    contexts: dict[str, Any] = {}
    try:
        for name, role, visit in _pages(server, ids):
            if role not in contexts:
                contexts[role] = browser.new_context(viewport=VIEWPORT, base_url=server.base, locale="fr-FR")
                tab = contexts[role].new_page()
                if role:
                    login(tab, users[role.removesuffix("-en")])
                if role.endswith("-en"):
                    tab.goto("/console/lang/en?next=/console/dashboard")
            tab = contexts[role].pages[0]
            visit(tab)
            tab.wait_for_load_state()
            violations = axe_violations(tab)
            if violations:
                failures[name] = violations
            screenshot(tab, name)
    finally:
        for context in contexts.values():
            context.close()
    assert not failures, failures


def test_keyboard_alone_signs_in_and_reaches_the_dashboard(page: Any, server: Server) -> None:
    researcher = server.user("researcher")
    page.goto("/console/login")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.className") == "skip"
    for _ in range(5):  # then the language link, then the username field
        if page.evaluate("document.activeElement.id") == "username":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "username"
    page.keyboard.type(researcher)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/console/dashboard")
    assert page.get_by_role("heading", level=1).is_visible()


def test_responses_carry_the_console_security_headers(server: Server) -> None:
    response = httpx.get(f"{server.base}/console/login")
    assert response.headers["cache-control"] == "no-store"
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "form-action 'self'" in csp and "script-src" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    pre = response.cookies.get("qlq_console_pre")
    assert pre


def test_the_accessibility_check_does_find_violations(browser: Any) -> None:
    """Negative control: the same axe run on a page with known faults reports them."""
    context = browser.new_context()
    try:
        tab = context.new_page()
        tab.set_content(
            '<html><body><img src="data:,"><input type="text">'
            '<p style="color:#bbb;background:#fff">faint text</p></body></html>'
        )
        found = {v["id"] for v in axe_violations(tab)}
    finally:
        context.close()
    assert {"image-alt", "label", "color-contrast"} <= found, found


def test_sav_and_fhir_exports_from_the_page_equal_the_api_but_for_their_creation_time(
    page: Any, server: Server, tmp_path: Path
) -> None:
    """.sav and FHIR files carry the time they were written (the .sav header's creation date and time, the
    Bundle's ``timestamp``); everything else is byte for byte the API's."""
    import json

    seed_dashboard(server)
    login(page, server.user("researcher"))
    token = server.accounts.user_token("researcher")
    for fmt, label in (("sav", "SPSS (.sav)"), ("fhir", "FHIR R4")):
        page.goto("/console/export")
        page.get_by_label(label).check()
        with page.expect_download() as waiting:
            page.get_by_role("button", name="Télécharger").click()
        saved = tmp_path / waiting.value.suggested_filename
        waiting.value.save_as(saved)
        api = httpx.get(f"{server.base}/v1/exports/{fmt}", headers=bearer(token))
        assert api.status_code == 200
        mine, theirs = saved.read_bytes(), api.content
        if fmt == "sav":
            assert mine[:4] == b"$FL2" and len(mine) == len(theirs)
            differing = [i for i, (a, b) in enumerate(zip(mine, theirs, strict=True)) if a != b]
            # the header's creation date (9 bytes at 92: "06 Dec 26") and time (8 at 101: "02:00:08"); the range
            # used to stop at 101, so the test failed whenever the two files were written in different seconds
            assert all(92 <= i < 109 for i in differing), differing[:10]
        else:
            ours, api_json = json.loads(mine), json.loads(theirs)
            assert ours.pop("timestamp") and api_json.pop("timestamp")
            assert ours == api_json and len(ours["entry"]) == 1 + 7  # the Questionnaire and 7 responses
    assert len(audit_rows(server, "export")) == 4  # two from the page, two from the API
