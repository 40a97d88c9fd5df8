"""The found cases of a hostile device (issue: "the centre survives a hostile or broken device"), each posted on
the production path (the app's lifespan running: the async ingest pool), each refused with its stable code and
the field it concerns, and nothing stored. Plus the kiosk side: the same rule refuses to freeze such a session.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from kiosk.domain.plausibility import ImplausibleSubmission
from kiosk.domain.submission import build_submission
from tests.integration.server.factories import bearer, make_submission, tampered

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

NOW = datetime.now(UTC)


@pytest.fixture
def device(accounts) -> str:
    token, _ = accounts.device("SITE-A")
    return token


def _stored(settings) -> int:
    engine = create_engine(settings.database_url, poolclass=NullPool)
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM submissions")).scalar_one()
    engine.dispose()
    return int(count)


FOUND = [
    # 1. a BC timestamp through an extreme offset
    ({"session.started_at": "0001-01-01T00:00:00+23:59"}, "implausible_time_zone", "session.started_at"),
    ({"session.started_at": "0001-01-01T00:00:00+00:00"}, "implausible_date", "session.started_at"),
    ({"answers.0.answered_at": "1999-12-31T23:59:59+00:00"}, "implausible_date", "answers[0].answered_at"),
    ({"consents.0.at": "2000-01-01T00:00:00-14:01"}, "implausible_time_zone", "consents[0].at"),
    # 2. non-finite and absurd numbers
    ({"session.duration_seconds": "Infinity"}, "implausible_number", "session.duration_seconds"),
    ({"session.paused_seconds": "Infinity"}, "implausible_number", "session.paused_seconds"),
    ({"session.duration_seconds": 1e308}, "implausible_duration", "session.duration_seconds"),
    ({"session.duration_seconds": 12.5}, "implausible_duration", "session.duration_seconds"),
    ({"session.paused_seconds": 30.0}, "implausible_duration", "session.paused_seconds"),
    ({"scores.QL2": "Infinity"}, "implausible_number", "scores.QL2"),
    # 8. implausible although schema-valid
    ({"patient.initials": "<script>"}, "invalid_initials", "patient.initials"),
    ({"patient.initials": "J\u202eD"}, "invalid_text", "patient.initials"),
    ({"patient.initials": "J\U0001f600"}, "invalid_initials", "patient.initials"),
    ({"patient.initials": "Jean Dupont"}, "invalid_initials", "patient.initials"),
    ({"patient.initials": "jd"}, "invalid_initials", "patient.initials"),  # not as the kiosk stores them
    ({"frozen_at": "2999-01-01T00:00:00+00:00"}, "implausible_date", "frozen_at"),
    ({"answers.3.answered_at": "2999-06-01T10:00:00+00:00"}, "implausible_date", "answers[3].answered_at"),
    ({"session.session_date": "0100-06-01"}, "implausible_date", "session.session_date"),
    ({"session.session_date": "2999-01-01"}, "implausible_date", "session.session_date"),
    ({"instrument.version": "9.9 <x>"}, "invalid_instrument_version", "instrument.version"),
    ({"instrument.version": "9.9"}, "instrument_mismatch", "instrument"),
    ({"device.app_version": "0.1\x1b[31m"}, "invalid_text", "device.app_version"),
    ({"answers.0.transcript": "\u2066=cmd\u2069"}, "invalid_text", "answers[0].transcript"),
    # event order
    ({"session.ended_at": (NOW - timedelta(days=2)).isoformat()}, "implausible_date", None),
]


@pytest.mark.parametrize(("changes", "code", "field"), FOUND)
async def test_each_found_case_is_refused_and_nothing_stored(client, device, settings, changes, code, field):
    response = await client.post("/v1/submissions", headers=bearer(device), json=tampered(make_submission(), **changes))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    if field is not None:
        assert error["field"] == field, error
    assert _stored(settings) == 0


async def test_a_future_time_within_the_clock_skew_is_accepted_beyond_it_refused(client, device, app):
    skew = app.state.settings.clock_skew
    assert skew == timedelta(minutes=15)  # the default
    # a kiosk clock 5 min ahead: the whole session (≈ 4 min of answers) ends before now + skew
    ahead = make_submission(started_at=datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=5))
    assert (
        await client.post("/v1/submissions", headers=bearer(device), json=ahead.model_dump(mode="json"))
    ).status_code == 201
    late = make_submission(started_at=datetime.now(UTC).replace(microsecond=0) + skew + timedelta(minutes=1))
    refused = await client.post("/v1/submissions", headers=bearer(device), json=late.model_dump(mode="json"))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "implausible_date"


async def test_the_skew_allowance_is_a_setting(accounts, settings):
    import httpx

    from sync_server.app import create_app

    strict = create_app(settings.model_copy(update={"clock_skew_seconds": 0}))
    token, _ = accounts.device("SITE-A", "strict")
    sub = make_submission(started_at=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=3))
    async with (
        strict.router.lifespan_context(strict),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=strict), base_url="http://t") as c,
    ):
        response = await c.post("/v1/submissions", headers=bearer(token), json=sub.model_dump(mode="json"))
    strict.state.engine.dispose()
    # make_submission's frozen_at is ~1 min after its start + 31 answers × 7 s: > 3 min, so in the future
    assert response.status_code == 422 and response.json()["error"]["code"] == "implausible_date"


async def test_gdpr_and_cli_work_on_what_ingest_accepted(client, device, accounts, capsys):
    """What is accepted at the edges of the rules (oldest allowed day, widest offsets) can be shown and erased."""
    from sync_server.cli import main

    sub = make_submission(started_at=datetime(2000, 1, 1, 0, 0, tzinfo=UTC), birth_date=datetime(1960, 1, 1).date())
    data = tampered(sub, **{"session.started_at": "2000-01-01T14:00:00+14:00"})  # the same instant, at +14:00
    response = await client.post("/v1/submissions", headers=bearer(device), json=data)
    assert response.status_code == 201, response.text
    admin = accounts.user_token("admin")
    assert (await client.get(f"/v1/admin/sessions/{sub.submission_id}", headers=bearer(admin))).status_code == 200
    assert (
        main(["--database-url", accounts.settings.database_url, "gdpr", "delete", str(sub.submission_id), "--yes"]) == 0
    )
    assert "deleted" in capsys.readouterr().out


def test_the_kiosk_refuses_to_freeze_what_the_server_would_refuse():
    """build_submission (called by the kiosk before queueing) applies the same plausibility rule."""
    from tests.integration.server.factories import instrument_fr

    # a tablet whose clock reset to 1970 (flat clock battery) cannot freeze its session
    with pytest.raises(ImplausibleSubmission) as caught:
        make_submission(started_at=datetime(1970, 1, 1, tzinfo=UTC), birth_date=datetime(1920, 1, 1).date())
    assert any(p.code == "implausible_date" for p in caught.value.problems)
    # and a frozen time before the session's end is refused too
    sub_session = _finished_session(instrument_fr())
    with pytest.raises(ImplausibleSubmission) as caught:
        build_submission(sub_session, device_id="k", app_version="1", frozen_at=sub_session.started_at)
    assert [(p.code, p.field) for p in caught.value.problems] == [("implausible_date", "frozen_at")]


def _finished_session(instrument):
    from kiosk.domain.patient import PatientDetails
    from kiosk.domain.session import Consent, ConsentKind, Mode, Session, SessionConfig

    start = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    session = Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails("Q-Z", datetime(1958, 7, 19).date(), start.date()),
        config=SessionConfig(mode=Mode.TOUCH, audio_enabled=False, language="fr"),
        consents=[Consent(ConsentKind.ANSWERS, True, start)],
        now=start,
    )
    return session.abandon(now=start + timedelta(minutes=1), reason="inactivity")
