"""Enrollment, login, rate limiting, revocation, and the audited GDPR actions (HTTP and CLI)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError

from sync_server.app import create_app
from sync_server.cli import main as cli
from sync_server.models import Answer, AuditEvent, EnrollmentCode, StoredSubmission
from tests.integration.server.factories import BIRTH_DATE, INITIALS, bearer, make_submission, payload

pytestmark = pytest.mark.anyio


async def test_enrollment_code_is_single_use_and_expires(client, accounts, settings):
    accounts.site("SITE-A")
    admin = accounts.user_token("admin")
    issued = await client.post("/v1/admin/sites/SITE-A/enrollment-codes", headers=bearer(admin))
    assert issued.status_code == 201
    code = issued.json()["code"]
    enrolled = await client.post(
        "/v1/devices/enroll", json={"code": code.lower().replace("-", " "), "device_name": "tablette-3"}
    )
    assert enrolled.status_code == 201, enrolled.text
    body = enrolled.json()
    assert body["site"] == "SITE-A" and body["device_token"].startswith("qlqd_")
    again = await client.post("/v1/devices/enroll", json={"code": code, "device_name": "tablette-4"})
    assert again.status_code == 401
    # the token works for submitting and for nothing else
    sub = make_submission()
    token = body["device_token"]
    assert (await client.post("/v1/submissions", json=payload(sub), headers=bearer(token))).status_code == 201
    assert (await client.get("/v1/stats", headers=bearer(token))).status_code == 403
    # an expired code is refused
    second = (await client.post("/v1/admin/sites/SITE-A/enrollment-codes", headers=bearer(admin))).json()["code"]
    with accounts.session() as db, db.begin():
        db.execute(
            update(EnrollmentCode)
            .where(EnrollmentCode.used_at.is_(None))
            .values(expires_at=datetime.now(UTC) - timedelta(minutes=1))
        )
    late = await client.post("/v1/devices/enroll", json={"code": second, "device_name": "tablette-5"})
    assert late.status_code == 401
    # the database keeps hashes only
    with accounts.session() as db:
        stored = db.execute(text("SELECT code_hash FROM enrollment_codes")).scalars().all()
        tokens = db.execute(text("SELECT token_hash FROM devices")).scalars().all()
    assert code not in stored and token not in tokens and all(len(h) == 64 for h in stored + tokens)


async def test_revoked_device_is_refused_at_once(client, accounts):
    token, device_id = accounts.device()
    admin = accounts.user_token("admin")
    listed = (await client.get("/v1/admin/devices", headers=bearer(admin))).json()
    assert [d["id"] for d in listed] == [str(device_id)]
    assert (await client.post(f"/v1/admin/devices/{device_id}:revoke", headers=bearer(admin))).status_code == 204
    response = await client.post("/v1/submissions", json=payload(make_submission()), headers=bearer(token))
    assert response.status_code == 401
    missing = await client.post(f"/v1/admin/devices/{uuid.uuid4()}:revoke", headers=bearer(admin))
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_device"


async def test_login_expiry_disable_and_rate_limit(client, accounts, settings):
    admin = accounts.user_token("admin")
    created = await client.post(
        "/v1/admin/users",
        headers=bearer(admin),
        json={"username": "alice", "password": "correct horse battery", "role": "researcher"},
    )
    assert created.status_code == 201
    duplicate = await client.post(
        "/v1/admin/users",
        headers=bearer(admin),
        json={"username": "alice", "password": "correct horse battery", "role": "researcher"},
    )
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "user_exists"
    login = await client.post("/v1/auth/token", json={"username": "alice", "password": "correct horse battery"})
    assert login.status_code == 200
    token = login.json()["access_token"]
    assert login.json()["role"] == "researcher"
    assert (await client.get("/v1/stats", headers=bearer(token))).status_code == 200
    wrong = await client.post("/v1/auth/token", json={"username": "alice", "password": "wrong"})
    assert wrong.status_code == 401
    assert (await client.post("/v1/admin/users/alice:disable", headers=bearer(admin))).status_code == 200
    assert (await client.get("/v1/stats", headers=bearer(token))).status_code == 401
    # rate limit: a dedicated app with a tiny budget
    # per account here (per client address: test_hardening_auth.py); the counters are shared in the database
    limited = create_app(settings.model_copy(update={"auth_rate_limit_account_attempts": 3}))
    limited.state.auth_limiter.reset()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=limited), base_url="http://t") as c:
        codes = [
            (await c.post("/v1/auth/token", json={"username": "bob", "password": "x"})).status_code for _ in range(4)
        ]
        other_user = await c.post("/v1/auth/token", json={"username": "carol", "password": "x"})
    limited.state.engine.dispose()
    assert codes == [401, 401, 401, 429]
    assert other_user.status_code == 401


async def test_gdpr_show_anonymize_delete_are_audited(client, accounts, settings):
    device, _ = accounts.device()
    admin = accounts.user_token("admin", "admin-1")
    sub = make_submission()
    await client.post("/v1/submissions", json=payload(sub), headers=bearer(device))
    sid = sub.submission_id
    shown = await client.get(f"/v1/admin/sessions/{sid}", headers=bearer(admin))
    assert shown.status_code == 200
    held = shown.json()
    assert held["patient"]["initials"] == INITIALS and held["patient"]["birth_date"] == BIRTH_DATE.isoformat()
    assert len(held["answers"]) == 30 and held["payload"]["submission_id"] == str(sid)
    anonymized = await client.post(f"/v1/admin/sessions/{sid}:anonymize", headers=bearer(admin))
    assert anonymized.json() == {"submission_id": str(sid), "anonymized": True, "changed": True}
    after = (await client.get(f"/v1/admin/sessions/{sid}", headers=bearer(admin))).json()
    assert after["patient"] == {"initials": None, "birth_date": None, "age_at_session": None, "age_band": "60-69"}
    assert INITIALS not in str(after) and BIRTH_DATE.isoformat() not in str(after)
    # the kiosk retrying the original is recognised, not re-created
    retry = await client.post("/v1/submissions", json=payload(sub), headers=bearer(device))
    assert retry.status_code == 200
    assert (await client.delete(f"/v1/admin/sessions/{sid}", headers=bearer(admin))).status_code == 204
    assert (await client.get(f"/v1/admin/sessions/{sid}", headers=bearer(admin))).status_code == 404
    audit = (await client.get("/v1/admin/audit", headers=bearer(admin))).json()
    assert [(a["action"], a["row_count"]) for a in reversed(audit)] == [
        ("show", 1),
        ("anonymize", 1),
        ("show", 1),
        ("delete", 1),
    ]
    assert all(a["actor"] == "user:admin-1" and a["submission_ids"] == [str(sid)] for a in audit)
    assert INITIALS not in str(audit)
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(Answer)) == 0


def test_audit_table_is_append_only(accounts):
    with accounts.session() as db, db.begin():
        db.add(AuditEvent(actor="x", actor_role="admin", action="show", row_count=0, submission_ids=[], detail={}))
    for statement in ("UPDATE audit_events SET actor = 'y'", "DELETE FROM audit_events", "TRUNCATE audit_events"):
        with accounts.session() as db, pytest.raises(DBAPIError, match="append-only"):
            db.execute(text(statement))
    with accounts.session() as db:
        assert db.scalar(select(AuditEvent.actor)) == "x"


def test_cli_gdpr_and_purge(accounts, settings, capsys):
    old = make_submission(started_at=datetime.now(UTC) - timedelta(days=400))
    recent = make_submission()
    accounts.store("SITE-A", old, recent)
    url = ["--database-url", settings.database_url]
    assert cli([*url, "gdpr", "show", str(recent.submission_id)]) == 0
    assert INITIALS in capsys.readouterr().out
    assert cli([*url, "gdpr", "anonymize", str(recent.submission_id)]) == 0
    assert cli([*url, "gdpr", "purge", "--older-than", "365", "--dry-run"]) == 0
    assert "would delete 1 session" in capsys.readouterr().out
    assert cli([*url, "gdpr", "purge", "--older-than", "365", "--yes"]) == 0
    assert "deleted 1 session" in capsys.readouterr().out
    assert cli([*url, "gdpr", "delete", str(old.submission_id), "--yes"]) == 1
    assert "unknown_session" in capsys.readouterr().err
    with accounts.session() as db:
        remaining = db.scalars(select(StoredSubmission.submission_id)).all()
        actions = db.execute(
            select(AuditEvent.action, AuditEvent.actor, AuditEvent.row_count).order_by(AuditEvent.id)
        ).all()
    assert remaining == [recent.submission_id]
    assert [a for a, _, _ in actions] == ["show", "anonymize", "purge"]
    assert actions[2][2] == 1 and all(actor.startswith("cli:") for _, actor, _ in actions)
