"""Builders for the server tests: real domain sessions frozen into submissions, and accounts with tokens.

Submissions are made by driving ``kiosk.domain.session.Session`` exactly as the kiosk does and freezing it
with ``build_submission``, so the server is tested against the payloads it will really receive.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import create_engine
from sqlalchemy.orm import Session as DbSession
from sqlalchemy.pool import NullPool

from kiosk.domain.clock import FakeClock
from kiosk.domain.instrument import Instrument, load_instrument
from kiosk.domain.patient import PatientDetails
from kiosk.domain.session import Consent, ConsentKind, Method, Mode, Session, SessionConfig
from kiosk.domain.submission import Submission, build_submission
from sync_server.db import libpq_conninfo
from sync_server.repositories.accounts import UserRepository, UserTokenRepository
from sync_server.repositories.submissions import IngestRepository
from sync_server.security import keyed_hash, new_user_token
from sync_server.services.accounts import AccountService
from sync_server.services.ingest import IngestService
from sync_server.services.instruments import InstrumentRegistry
from sync_server.settings import Settings

INITIALS = "Q-Z"
BIRTH_DATE = date(1958, 7, 19)
TEST_SECRET = "test-secret-for-the-server-suite-0123456789"
# Any argon2 hash: tests that log in for real create their users through the service instead.
_UNUSABLE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"


def instrument_fr() -> Instrument:
    return load_instrument("qlq-c30", "fr")


def make_submission(
    *,
    instrument: Instrument | None = None,
    outcome: str = "completed",
    values: Mapping[int, int | None] | None = None,
    voice_items: Iterable[int] = (),
    confirmed_items: Iterable[int] = (),
    abandon_after: int | None = None,
    started_at: datetime | None = None,
    initials: str = INITIALS,
    birth_date: date = BIRTH_DATE,
    step_seconds: float = 7.0,
) -> Submission:
    """A finished session. Default: every item answered 2 (29–30: 5) by touch."""
    instrument = instrument or instrument_fr()
    voice_items, confirmed_items = set(voice_items), set(confirmed_items)
    clock = FakeClock(started_at or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1), step=step_seconds)
    tick = clock.tick

    voice = bool(voice_items)
    consents = [Consent(ConsentKind.ANSWERS, True, clock.now())]
    if voice:
        consents.append(Consent(ConsentKind.CLOUD_VOICE, True, clock.now()))
    mode = Mode.VOICE_CONTINUOUS if voice else Mode.TOUCH
    session = Session.start(
        session_id=str(uuid.uuid4()),
        instrument=instrument,
        patient=PatientDetails(initials=initials, birth_date=birth_date, session_date=clock.now().date()),
        config=SessionConfig(mode=mode, audio_enabled=voice, language=instrument.language),
        consents=consents,
        now=clock.now(),
    )
    if session.needs_check:
        session = session.record_check(
            audio_ok=True if voice else None, microphone_ok=True if voice else None, now=tick()
        )
    session = session.begin_items(now=tick())
    values = values or {}
    for number in instrument.item_numbers:
        if abandon_after is not None and number > abandon_after:
            session = session.abandon(now=tick(), reason="inactivity")
            break
        value = values.get(number, 5 if number >= 29 else 2) if number in values or not values else None
        if value is None:
            session = session.skip(now=tick())
        elif number in voice_items:
            session = session.answer(
                value,
                now=tick(),
                method=Method.VOICE,
                transcript=str(value),
                confidence=0.7,
                confirmed=number in confirmed_items,
            )
        else:
            session = session.answer(value, now=tick())
    if session.phase.value == "review_prompt":
        session = session.decline_review(now=tick())
    sub = build_submission(session, device_id="kiosk-test-01", app_version="0.1.0", frozen_at=tick())
    assert outcome == sub.outcome, (outcome, sub.outcome)
    return sub


def payload(sub: Submission) -> dict[str, Any]:
    return sub.model_dump(mode="json")


def tampered(sub: Submission, **changes: Any) -> dict[str, Any]:
    """The payload with dotted paths replaced, e.g. ``tampered(sub, **{"scores.PF2": 1.0})``."""
    data = payload(sub)
    for dotted, value in changes.items():
        target: Any = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            target = target[int(part)] if isinstance(target, list) else target[part]
        last = parts[-1]
        if isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return data


class Accounts:
    """Creates sites, devices and users straight in the database (fast: no argon2, no HTTP)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        # NullPool: connections close with their session, nothing lingers between tests.
        self.engine = create_engine(settings.database_url, poolclass=NullPool)

    def _session(self) -> DbSession:
        return DbSession(self.engine, expire_on_commit=False)

    def session(self) -> DbSession:
        """A session for a test's own setup (use ``with accounts.session() as db, db.begin():``)."""
        return self._session()

    def site(self, code: str = "SITE-A", name: str = "Site A") -> str:
        with self._session() as db, db.begin():
            service = AccountService(db, self.settings)
            if service.sites.get_by_code(code) is None:
                service.create_site(code, name)
        return code

    def device(self, site: str = "SITE-A", name: str = "tablette-1") -> tuple[str, uuid.UUID]:
        """Enroll a device the normal way; returns (token, device id)."""
        self.site(site)
        with self._session() as db, db.begin():
            service = AccountService(db, self.settings)
            code = service.create_enrollment_code(site, "test")
            issued = service.enroll(code.code, name)
        return issued.token, issued.device_id

    def store(
        self, site: str, *subs: Submission, registry: InstrumentRegistry | None = None, **options: Any
    ) -> list[str]:
        """Store submissions for ``site`` (created if needed) through the server's ingest service (by default
        as a device without a row of its own: ``device_id=None``); returns each one's status."""
        options.setdefault("device_id", None)
        self.site(site)
        with self._session() as db:
            site_id = AccountService(db, self.settings).sites.get_by_code(site).id

        async def run() -> list[str]:
            async with await AsyncConnection.connect(
                libpq_conninfo(self.settings.database_url), autocommit=True
            ) as connection:
                service = IngestService(IngestRepository(connection), registry or InstrumentRegistry.bundled())
                return [(await service.ingest(sub, site_id=site_id, **options)).status for sub in subs]

        return asyncio.run(run())

    def user_token(
        self, role: str = "researcher", username: str | None = None, ttl: timedelta = timedelta(hours=1)
    ) -> str:
        with self._session() as db, db.begin():
            return user_token_in(db, self.settings, role, username, ttl)


def user_token_in(
    db: DbSession,
    settings: Settings,
    role: str = "researcher",
    username: str | None = None,
    ttl: timedelta = timedelta(hours=1),
) -> str:
    """Create (or reuse) a user and give it a token, inside the caller's transaction."""
    username = username or f"{role}-{uuid.uuid4().hex[:8]}"
    token = new_user_token()
    users = UserRepository(db)
    user = users.get_by_username(username) or users.create(username, _UNUSABLE_HASH, role)
    UserTokenRepository(db).create(user.id, keyed_hash(settings.token_secret, token), datetime.now(UTC) + ttl)
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
