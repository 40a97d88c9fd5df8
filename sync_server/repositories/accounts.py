"""Queries on sites, devices, enrollment codes, users and user tokens (everything about who may connect)."""

from __future__ import annotations

import builtins
import uuid
from dataclasses import dataclass
from datetime import datetime

from psycopg import AsyncConnection
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sync_server.models import Device, EnrollmentCode, Site, User, UserToken


@dataclass(frozen=True)
class DeviceIdentity:
    device_id: uuid.UUID
    device_name: str
    site_id: int
    site_code: str
    last_seen_at: datetime | None


@dataclass(frozen=True)
class UserIdentity:
    user_id: int
    username: str
    role: str
    expires_at: datetime


class SiteRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_code(self, code: str) -> Site | None:
        return self.session.scalar(select(Site).where(Site.code == code))

    def get(self, site_id: int) -> Site | None:
        return self.session.get(Site, site_id)

    def list(self) -> list[Site]:
        return list(self.session.scalars(select(Site).order_by(Site.code)))

    def create(self, code: str, name: str) -> Site:
        site = Site(code=code, name=name)
        self.session.add(site)
        self.session.flush()
        return site

    def codes_by_id(self) -> dict[int, str]:
        return dict(self.session.execute(select(Site.id, Site.code)).tuples().all())


# On every kiosk request: plain SQL on the ingest pool's async connection — no statement compilation or
# cache-key walk; psycopg prepares it after a few uses per connection and returns uuid.UUID and aware datetimes.
# Same query as select(Device.id, Device.name, Device.site_id, Site.code, Device.last_seen_at).join(Site).where(…).
DEVICE_LOOKUP_SQL = (
    "SELECT d.id, d.name, d.site_id, s.code, d.last_seen_at FROM devices AS d JOIN sites AS s ON s.id = d.site_id"
    " WHERE d.token_hash = %(token_hash)s AND d.revoked_at IS NULL"
)
TOUCH_DEVICE_SQL = "UPDATE devices SET last_seen_at = now() WHERE id = %(device_id)s"


class DeviceRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, site_id: int, name: str, token_hash: str) -> Device:
        device = Device(id=uuid.uuid4(), site_id=site_id, name=name, token_hash=token_hash)
        self.session.add(device)
        self.session.flush()
        return device

    def get(self, device_id: uuid.UUID) -> Device | None:
        return self.session.get(Device, device_id)

    def list(self, site_id: int | None = None) -> list[tuple[Device, str]]:
        query = select(Device, Site.code).join(Site, Site.id == Device.site_id).order_by(Site.code, Device.name)
        if site_id is not None:
            query = query.where(Device.site_id == site_id)
        return [(d, code) for d, code in self.session.execute(query).tuples()]

    def revoke(self, device_id: uuid.UUID) -> bool:
        result = self.session.execute(
            update(Device).where(Device.id == device_id, Device.revoked_at.is_(None)).values(revoked_at=func.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class DeviceTokenRepository:
    """Device-token authentication, on an async psycopg connection of the ingest pool (autocommit)."""

    def __init__(self, connection: AsyncConnection) -> None:
        self.connection = connection

    async def identity_by_token_hash(self, token_hash: str) -> DeviceIdentity | None:
        """The active (not revoked) device holding this token, with its site."""
        cursor = await self.connection.execute(DEVICE_LOOKUP_SQL, {"token_hash": token_hash})
        row = await cursor.fetchone()
        return DeviceIdentity(*row) if row else None

    async def touch(self, device_id: uuid.UUID) -> None:
        await self.connection.execute(TOUCH_DEVICE_SQL, {"device_id": device_id})


class EnrollmentCodeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, site_id: int, code_hash: str, created_by: str, expires_at: datetime) -> EnrollmentCode:
        code = EnrollmentCode(site_id=site_id, code_hash=code_hash, created_by=created_by, expires_at=expires_at)
        self.session.add(code)
        self.session.flush()
        return code

    def claim(self, code_hash: str) -> int | None:
        """Mark an unused, unexpired code used and return its site id, atomically (single use under races)."""
        return self.session.scalar(
            update(EnrollmentCode)
            .where(
                EnrollmentCode.code_hash == code_hash,
                EnrollmentCode.used_at.is_(None),
                EnrollmentCode.expires_at > func.now(),
            )
            .values(used_at=func.now())
            .returning(EnrollmentCode.site_id)
        )


class UserRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get_by_username(self, username: str) -> User | None:
        return self.session.scalar(select(User).where(User.username == username))

    def get(self, user_id: int) -> User | None:
        return self.session.get(User, user_id)

    def list(self) -> list[User]:
        return list(self.session.scalars(select(User).order_by(User.username)))

    def create(self, username: str, password_hash: str, role: str) -> User:
        user = User(username=username, password_hash=password_hash, role=role)
        self.session.add(user)
        self.session.flush()
        return user

    def lock_active_admins(self) -> builtins.list[int]:
        """The ids of the enabled admins, their rows locked until the transaction ends (so two admins cannot
        concurrently disable or demote each other and leave none)."""
        return list(
            self.session.scalars(
                select(User.id)
                .where(User.role == "admin", User.disabled_at.is_(None))
                .order_by(User.id)
                .with_for_update()
            )
        )


class UserTokenRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def create(self, user_id: int, token_hash: str, expires_at: datetime) -> None:
        self.session.add(UserToken(user_id=user_id, token_hash=token_hash, expires_at=expires_at))
        self.session.flush()

    def identity_by_token_hash(self, token_hash: str) -> UserIdentity | None:
        """The enabled user behind an unexpired, unrevoked token."""
        row = self.session.execute(
            select(User.id, User.username, User.role, UserToken.expires_at)
            .join(User, User.id == UserToken.user_id)
            .where(
                UserToken.token_hash == token_hash,
                UserToken.revoked_at.is_(None),
                UserToken.expires_at > func.now(),
                User.disabled_at.is_(None),
            )
        ).first()
        return UserIdentity(*row) if row else None

    def revoke_all(self, user_id: int) -> int:
        result = self.session.execute(
            update(UserToken)
            .where(UserToken.user_id == user_id, UserToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def revoke(self, token_hash: str) -> bool:
        """Revoke one token (logout). Whether it was active."""
        result = self.session.execute(
            update(UserToken)
            .where(UserToken.token_hash == token_hash, UserToken.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]
