"""Sites, devices, enrollment codes, users and their tokens: everything about who may connect.

Enrollment: an admin (or ``qlq-server enroll``) creates a one-time code for a site, valid
``QLQ_ENROLLMENT_CODE_TTL_HOURS``; the kiosk trades it once for a device token, which is shown once and
stored only as a keyed hash. Users log in with a password (argon2) and get an expiring opaque token.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from sync_server.errors import AppError, Conflict, NotFound, Unprocessable
from sync_server.models import Device, Site, User
from sync_server.repositories.accounts import (
    DeviceRepository,
    EnrollmentCodeRepository,
    SiteRepository,
    UserRepository,
    UserTokenRepository,
)
from sync_server.security import (
    hash_password,
    keyed_hash,
    new_device_token,
    new_enrollment_code,
    new_user_token,
    normalise_enrollment_code,
    verify_password,
)
from sync_server.settings import Settings

SITE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{1,149}$")
MIN_PASSWORD_LENGTH = 12


class InvalidCredentials(AppError):
    status, code = 401, "invalid_credentials"


class InvalidEnrollmentCode(AppError):
    status, code = 401, "invalid_enrollment_code"


@dataclass(frozen=True)
class IssuedCode:
    code: str
    site_code: str
    expires_at: datetime


@dataclass(frozen=True)
class IssuedDeviceToken:
    device_id: uuid.UUID
    token: str
    site_code: str


@dataclass(frozen=True)
class IssuedUserToken:
    token: str
    expires_at: datetime
    role: str


class AccountService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.sites = SiteRepository(session)
        self.devices = DeviceRepository(session)
        self.codes = EnrollmentCodeRepository(session)
        self.users = UserRepository(session)
        self.tokens = UserTokenRepository(session)

    def _hash(self, value: str) -> str:
        return keyed_hash(self.settings.token_secret, value)

    # ------------------------------------------------------------------ sites
    def create_site(self, code: str, name: str) -> Site:
        if not SITE_CODE_RE.match(code):
            raise Unprocessable("a site code is 1-32 letters, digits, '-' or '_'", field="code")
        if self.sites.get_by_code(code) is not None:
            raise Conflict(f"site {code!r} already exists", field="code", code="site_exists")
        return self.sites.create(code, name.strip() or code)

    def site(self, code: str) -> Site:
        site = self.sites.get_by_code(code)
        if site is None:
            raise NotFound(f"no site {code!r}", field="site", code="unknown_site")
        return site

    # ------------------------------------------------------------------ devices
    def create_enrollment_code(self, site_code: str, created_by: str) -> IssuedCode:
        site = self.site(site_code)
        code = new_enrollment_code()
        expires_at = datetime.now(UTC) + timedelta(hours=self.settings.enrollment_code_ttl_hours)
        self.codes.create(site.id, self._hash(code), created_by, expires_at)
        return IssuedCode(code=code, site_code=site.code, expires_at=expires_at)

    def enroll(self, code: str, device_name: str) -> IssuedDeviceToken:
        """Trade a one-time code for a device token (the code is then spent)."""
        site_id = self.codes.claim(self._hash(normalise_enrollment_code(code)))
        if site_id is None:
            raise InvalidEnrollmentCode("unknown, expired or already used enrollment code", field="code")
        token = new_device_token()
        device = self.devices.create(site_id, device_name, self._hash(token))
        site = self.sites.get(site_id)
        assert site is not None
        return IssuedDeviceToken(device_id=device.id, token=token, site_code=site.code)

    def revoke_device(self, device_id: uuid.UUID) -> None:
        if self.devices.get(device_id) is None:
            raise NotFound(f"no device {device_id}", field="device_id", code="unknown_device")
        self.devices.revoke(device_id)

    def list_devices(self, site_code: str | None = None) -> list[tuple[Device, str]]:
        site_id = self.site(site_code).id if site_code else None
        return self.devices.list(site_id)

    # ------------------------------------------------------------------ users
    def create_user(self, username: str, password: str, role: str) -> User:
        if not USERNAME_RE.match(username):
            raise Unprocessable("a username is 2-150 letters, digits or . _ @ -", field="username")
        if role not in ("admin", "researcher"):
            raise Unprocessable("role must be admin or researcher", field="role")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Unprocessable(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
        if self.users.get_by_username(username) is not None:
            raise Conflict(f"user {username!r} already exists", field="username", code="user_exists")
        return self.users.create(username, hash_password(password), role)

    def user(self, username: str) -> User:
        user = self.users.get_by_username(username)
        if user is None:
            raise NotFound(f"no user {username!r}", field="username", code="unknown_user")
        return user

    def _keep_an_admin(self, user: User, acting_user_id: int | None, verb: str) -> None:
        """Refuse to disable or demote oneself, or the last enabled admin."""
        if acting_user_id is not None and user.id == acting_user_id:
            raise Conflict(
                f"you cannot {verb} your own account; ask another admin", field="username", code="cannot_change_self"
            )
        if user.role == "admin" and user.disabled_at is None and self.users.lock_active_admins() == [user.id]:
            raise Conflict(
                f"{user.username!r} is the last enabled admin: create or enable another admin first",
                field="username",
                code="last_admin",
            )

    def disable_user(self, username: str, *, acting_user_id: int | None = None) -> User:
        """Disable an account and revoke its tokens. ``acting_user_id``: the admin doing it (None: the CLI)."""
        user = self.user(username)
        self._keep_an_admin(user, acting_user_id, "disable")
        user.disabled_at = user.disabled_at or datetime.now(UTC)
        self.tokens.revoke_all(user.id)
        self.session.flush()
        return user

    def enable_user(self, username: str) -> User:
        """Re-enable a disabled account (its old tokens stay revoked: the user logs in again)."""
        user = self.user(username)
        user.disabled_at = None
        self.session.flush()
        return user

    def set_role(self, username: str, role: str, *, acting_user_id: int | None = None) -> User:
        if role not in ("admin", "researcher"):
            raise Unprocessable("role must be admin or researcher", field="role")
        user = self.user(username)
        if user.role == "admin" and role != "admin":
            self._keep_an_admin(user, acting_user_id, "demote")
        if user.role != role:
            user.role = role
            self.tokens.revoke_all(user.id)  # open sessions end with the old role: log in again
        self.session.flush()
        return user

    def revoke_user_tokens(self, username: str) -> int:
        """Revoke every active token of a user (e.g. a lost laptop); the account stays enabled."""
        return self.tokens.revoke_all(self.user(username).id)

    def logout(self, token_hash: str) -> None:
        self.tokens.revoke(token_hash)

    def login(self, username: str, password: str) -> IssuedUserToken:
        user = self.users.get_by_username(username)
        ok = verify_password(user.password_hash if user else None, password)
        if user is None or not ok or user.disabled_at is not None:
            raise InvalidCredentials("wrong username or password")
        token = new_user_token()
        expires_at = datetime.now(UTC) + timedelta(minutes=self.settings.researcher_token_ttl_minutes)
        self.tokens.create(user.id, self._hash(token), expires_at)
        return IssuedUserToken(token=token, expires_at=expires_at, role=user.role)
