"""POST /v1/submissions and /v1/submissions:batch: idempotency, conflicts, every refusal code, races."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from psycopg import AsyncConnection
from sqlalchemy import func, select

from sync_server.db import libpq_conninfo
from sync_server.models import Answer, Score, StoredSubmission
from sync_server.repositories.accounts import SiteRepository
from sync_server.repositories.submissions import IngestRepository
from sync_server.services.ingest import IngestService
from sync_server.services.instruments import InstrumentRegistry
from tests.integration.server.factories import (
    BIRTH_DATE,
    INITIALS,
    bearer,
    make_submission,
    payload,
    tampered,
)

pytestmark = pytest.mark.anyio
REGISTRY = InstrumentRegistry.bundled()


@pytest.fixture
def device(accounts) -> str:
    return accounts.device("SITE-A")[0]


async def post(client, token, body):
    return await client.post("/v1/submissions", json=body, headers=bearer(token))


async def test_first_duplicate_conflict(client, device, accounts):
    sub = make_submission(voice_items=[3, 4], confirmed_items=[4])
    first = await post(client, device, payload(sub))
    assert first.status_code == 201
    assert first.json() == {"submission_id": str(sub.submission_id), "status": "received"}
    again = await post(client, device, payload(sub))
    assert (again.status_code, again.json()["status"]) == (200, "already_received")
    other = tampered(sub, **{"abandon_reason": "changed"})
    conflict = await post(client, device, other)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "submission_conflict"
    assert conflict.json()["error"]["field"] == "submission_id"
    with accounts.session() as db:
        row = db.scalar(select(StoredSubmission))
        assert row.content_sha256 == sub.content_sha256()
        assert row.payload == payload(sub)
        assert (row.source, row.legacy_id, row.anonymized, row.age_band) == ("kiosk", None, False, "60-69")
        assert db.scalar(select(func.count()).select_from(Answer)) == 30
        assert db.scalar(select(func.count()).select_from(Score)) == len(sub.scores)
        voice = db.scalar(select(Answer).where(Answer.item == 4))
        assert (voice.method, voice.confirmed, voice.confidence) == ("voice", True, 0.7)


async def test_site_comes_from_the_token_and_other_site_cannot_replay(client, accounts):
    token_a, device_a = accounts.device("SITE-A", "a")
    token_b, _ = accounts.device("SITE-B", "b")
    sub = make_submission()
    assert (await post(client, token_a, payload(sub))).status_code == 201
    replay = await post(client, token_b, payload(sub))
    assert replay.status_code == 409
    with accounts.session() as db:
        row = db.scalar(select(StoredSubmission))
        assert row.device_id == device_a


async def test_abandoned_session_is_stored(client, device):
    sub = make_submission(outcome="abandoned", abandon_after=10)
    response = await post(client, device, payload(sub))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"answers.0.value": 9}, "answer_out_of_range", "answers[0].value"),
        ({"answers.28.value": 8}, "answer_out_of_range", "answers[28].value"),
        ({"answers.0.item": 31}, "unknown_item", "answers[0].item"),
        ({"answers.1.item": 1}, "duplicate_item", "answers[1].item"),
        ({"scores.PF2": 12.5}, "scores_mismatch", "scores.PF2"),
        ({"patient.age_at_session": 30}, "implausible_date", "patient.age_at_session"),
        ({"patient.birth_date": "2090-01-01"}, "implausible_date", "patient.birth_date"),
        ({"session.session_date": "2999-01-01"}, "implausible_date", "session.session_date"),
        ({"consents": []}, "consent_missing", "consents"),
        ({"instrument.content_sha256": "0" * 64}, "unknown_instrument", "instrument.content_sha256"),
        ({"instrument.language": "de"}, "unknown_instrument", "instrument.language"),
        ({"instrument.id": "qlq-x"}, "unknown_instrument", "instrument.id"),
        ({"outcome": "maybe"}, "invalid_payload", "outcome"),
        ({"answers.0.transcript": "a\x00b"}, "invalid_text", "answers[0].transcript"),
        ({"answers.0.times_shown": 10**6}, "invalid_value", None),
        ({"submission_id": "not-a-uuid"}, "invalid_payload", "submission_id"),
        ({"answers.2.confidence": 3}, "invalid_payload", "answers[2].confidence"),
        ({"frozen_at": "2024-01-01T10:00:00"}, "invalid_payload", "frozen_at"),
    ],
)
async def test_refusals_name_code_and_field(client, device, changes, code, field):
    response = await post(client, device, tampered(make_submission(), **changes))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["field"]) == (code, field)


async def test_answered_before_shown_is_implausible(client, device):
    sub = make_submission()
    shown = sub.answers[0].answered_at + timedelta(seconds=1)
    response = await post(client, device, tampered(sub, **{"answers.0.first_shown_at": shown.isoformat()}))
    assert response.json()["error"]["code"] == "implausible_date"
    assert response.json()["error"]["field"] == "answers[0].answered_at"


async def test_malformed_json_and_wrong_types(client, device):
    response = await client.post(
        "/v1/submissions", content=b"{not json", headers={**bearer(device), "Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_payload"
    response = await post(client, device, [1, 2])
    assert response.status_code == 422


async def test_body_refusals_come_in_fastapi_order(client, device, accounts):
    """FastAPI reads the ``payload: Submission`` body: malformed JSON is refused before authentication, the rest
    after it (401, then 403, then the payload's 422)."""
    body = payload(make_submission())
    as_text = await client.post("/v1/submissions", json=body, headers={**bearer(device), "Content-Type": "text/plain"})
    assert (as_text.status_code, as_text.json()["error"]["code"]) == (422, "invalid_payload")
    empty = await client.post(
        "/v1/submissions", content=b"", headers={**bearer(device), "Content-Type": "application/json"}
    )
    assert (empty.status_code, empty.json()["error"]["code"]) == (422, "invalid_payload")
    assert (
        await client.post(
            "/v1/submissions",
            content=b"{not json",
            headers={"Authorization": "Bearer qlqd_unknown", "Content-Type": "application/json"},
        )
    ).status_code == 422
    assert (await post(client, "qlqd_unknown", {"submission_id": "x"})).status_code == 401
    assert (await post(client, accounts.user_token("researcher"), {"submission_id": "x"})).status_code == 403
    wrong = (await post(client, device, {**body, "outcome": "maybe"})).json()["error"]
    assert (wrong["code"], wrong["field"]) == ("invalid_payload", "outcome")
    ok = await client.post(
        "/v1/submissions", json=body, headers={**bearer(device), "Content-Type": "application/vnd.qlq+json"}
    )
    assert ok.status_code == 201 and ok.json() == {"submission_id": body["submission_id"], "status": "received"}


async def test_body_size_limit(client, device):
    huge = b"{" + b" " * (3 * 1024 * 1024) + b"}"
    response = await client.post(
        "/v1/submissions", content=huge, headers={**bearer(device), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"

    async def chunks():
        for _ in range(40):
            yield b" " * (100 * 1024)

    response = await client.post(
        "/v1/submissions", content=chunks(), headers={**bearer(device), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


async def test_batch_mixed_results(client, device, accounts):
    good = make_submission()
    duplicate = make_submission()
    assert (await post(client, device, payload(duplicate))).status_code == 201
    items = [
        payload(good),
        payload(duplicate),
        tampered(make_submission(), **{"scores.EF": 1.0}),
        {"submission_id": "x"},
        tampered(duplicate, abandon_reason="other"),
        payload(make_submission()),
    ]
    response = await client.post("/v1/submissions:batch", json=items, headers=bearer(device))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["status"] for r in results] == [
        "received",
        "already_received",
        "rejected",
        "rejected",
        "rejected",
        "received",
    ]
    assert [r["http_status"] for r in results] == [201, 200, 422, 422, 409, 201]
    assert results[2]["error"]["code"] == "scores_mismatch"
    assert results[2]["error"]["field"] == "scores.EF"
    assert results[3]["error"]["code"] == "invalid_payload"
    assert results[4]["error"]["code"] == "submission_conflict"
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 3
        assert db.scalar(select(func.count()).select_from(Answer)) == 90


@pytest.mark.parametrize("refused_at", [0, 2, 5])
async def test_a_value_the_database_refuses_rejects_only_its_item(client, device, accounts, refused_at):
    """A batch is stored by group commit, one statement per group; a value PostgreSQL cannot hold (times_shown beyond a
    smallint) aborts it, and the batch is stored again item by item: only that item is rejected, every other
    one is stored whole — wherever the refused item is in the batch."""
    subs = [make_submission() for _ in range(6)]
    items = [payload(sub) for sub in subs]
    items[refused_at] = tampered(subs[refused_at], **{"answers.0.times_shown": 10**6})
    items.append({"submission_id": "not-a-uuid"})  # a schema refusal after it: reported once, as before
    response = await client.post("/v1/submissions:batch", json=items, headers=bearer(device))
    assert response.status_code == 200, response.text
    results = response.json()["results"]
    assert [r["index"] for r in results] == list(range(7))
    assert [r["status"] for r in results] == ["rejected" if i == refused_at else "received" for i in range(6)] + [
        "rejected"
    ]
    assert results[refused_at]["error"]["code"] == "invalid_value"
    assert results[6]["error"]["code"] == "invalid_payload"
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 5
        assert db.scalar(select(func.count()).select_from(Answer)) == 150
    again = await client.post("/v1/submissions:batch", json=items[:6], headers=bearer(device))  # a retry
    assert [r["status"] for r in again.json()["results"]] == [
        "rejected" if i == refused_at else "already_received" for i in range(6)
    ]


async def test_the_same_submission_twice_in_one_batch(client, device, accounts):
    sub = make_submission()
    response = await client.post("/v1/submissions:batch", json=[payload(sub), payload(sub)], headers=bearer(device))
    assert [r["status"] for r in response.json()["results"]] == ["received", "already_received"]
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 1


async def test_batch_limits(client, device):
    response = await client.post("/v1/submissions:batch", json=[{}] * 101, headers=bearer(device))
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "batch_too_large"
    response = await client.post("/v1/submissions:batch", json={"not": "a list"}, headers=bearer(device))
    assert response.status_code == 422
    response = await client.post("/v1/submissions:batch", json=[], headers=bearer(device))
    assert response.json() == {"results": []}


async def test_two_identical_submissions_at_once(client, device, accounts):
    sub = make_submission()
    responses = await asyncio.gather(*(post(client, device, payload(sub)) for _ in range(2)))
    assert sorted(r.status_code for r in responses) == [200, 201]
    with accounts.session() as db:
        assert db.scalar(select(func.count()).select_from(StoredSubmission)) == 1


async def test_race_waits_for_the_first_transaction(accounts, settings):
    """A second insert of the same id blocks on the first, uncommitted one, then reports a retry."""
    sub = make_submission()
    accounts.site("SITE-A")
    with accounts.session() as db:
        site_id = SiteRepository(db).get_by_code("SITE-A").id
    conninfo = libpq_conninfo(settings.database_url)
    async with (
        await AsyncConnection.connect(conninfo) as first,
        await AsyncConnection.connect(conninfo, autocommit=True) as other,
    ):
        async with first.transaction():
            received = await IngestService(IngestRepository(first), REGISTRY).ingest(
                sub, site_id=site_id, device_id=None
            )
            assert received.status == "received"
            second = asyncio.create_task(
                IngestService(IngestRepository(other), REGISTRY).ingest(sub, site_id=site_id, device_id=None)
            )
            await asyncio.sleep(0.3)
            assert not second.done()  # blocked on the first transaction's row
        result = await asyncio.wait_for(second, 5)
    assert result.status == "already_received"


async def test_logs_never_carry_patient_data(client, device, caplog):
    sub = make_submission(initials="X-W", birth_date=date(1949, 2, 27))
    caplog.set_level(logging.DEBUG)
    from sync_server.logging import JsonFormatter

    formatter = JsonFormatter()
    await post(client, device, payload(sub))
    await post(client, device, tampered(sub, **{"patient.age_at_session": 3}))
    await post(client, device, tampered(sub, **{"patient.birth_date": "not a date"}))
    lines = [formatter.format(record) for record in caplog.records]
    text = "\n".join(lines)
    assert lines, "the requests were logged"
    assert "X-W" not in text and "1949-02-27" not in text and "27/02/1949" not in text
    assert any('"request_id"' in line and '"route": "/v1/submissions"' in line for line in lines)


async def test_request_id_round_trip_and_security_headers(client):
    response = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert "strict-transport-security" not in response.headers  # no TLS in development
    minted = await client.get("/health", headers={"X-Request-ID": "bad id with spaces"})
    assert minted.headers["x-request-id"] != "bad id with spaces"
    docs = await client.get("/docs")
    assert docs.status_code == 200 and "content-security-policy" not in docs.headers
    cors = await client.options(
        "/v1/stats", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in cors.headers


async def test_metrics_count_submissions(client, device):
    sub = make_submission()
    await post(client, device, payload(sub))
    await post(client, device, payload(sub))
    await post(client, device, tampered(sub, **{"scores.PF2": 1.0, "submission_id": str(uuid.uuid4())}))
    text = (await client.get("/metrics")).text
    assert 'qlq_submissions_received_total{source="kiosk"}' in text
    assert "qlq_submissions_duplicate_total" in text
    assert 'qlq_submissions_rejected_total{code="scores_mismatch"}' in text
    assert 'qlq_http_requests_total{method="POST",route="/v1/submissions",status="201"}' in text
    assert "qlq_http_request_duration_seconds_bucket" in text


async def test_ready_reports_pending_migration(app, client):
    assert (await client.get("/ready")).json()["status"] == "ready"
    saved = app.state.head_revision
    app.state.head_revision = "9999"
    try:
        response = await client.get("/ready")
    finally:
        app.state.head_revision = saved
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "migration_pending"


def test_age_band():
    from sync_server.services.ingest import age_band

    assert [age_band(a) for a in (18, 60, 69, 70, 101)] == ["10-19", "60-69", "60-69", "70-79", "100-109"]
    assert datetime.now(UTC).date() > BIRTH_DATE and INITIALS
