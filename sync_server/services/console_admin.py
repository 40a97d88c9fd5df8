"""What the admin pages of the web console need beyond :class:`~sync_server.services.accounts.AccountService`:
devices with their last delivered session, password reset and role change, and the audit log by pages.

Resetting a password or changing a role revokes the user's tokens (API bearer tokens and console sessions
alike), so the change applies on their next request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from sync_server.errors import NotFound, Unprocessable
from sync_server.models import AuditEvent, Device, User
from sync_server.repositories.accounts import UserRepository, UserTokenRepository
from sync_server.repositories.audit_log import AuditFilter, AuditLogRepository
from sync_server.repositories.device_activity import DeviceActivityRepository
from sync_server.security import hash_password
from sync_server.services.accounts import MIN_PASSWORD_LENGTH, AccountService
from sync_server.settings import Settings

AUDIT_PAGE_SIZE = 50


@dataclass(frozen=True)
class DeviceView:
    device: Device
    site_code: str
    last_submission_at: datetime | None


@dataclass(frozen=True)
class AuditPage:
    events: list[AuditEvent]
    next_before_id: int | None  # pass as ``before`` for the next (older) page; None on the last page


class ConsoleAdminService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.accounts = AccountService(session, settings)
        self.users = UserRepository(session)
        self.tokens = UserTokenRepository(session)

    def devices(self, site_code: str | None = None) -> list[DeviceView]:
        last = DeviceActivityRepository(self.session).last_submission_at()
        return [DeviceView(device, code, last.get(device.id)) for device, code in self.accounts.list_devices(site_code)]

    def device(self, device_id: uuid.UUID) -> DeviceView:
        for view in self.devices():
            if view.device.id == device_id:
                return view
        raise NotFound(f"no device {device_id}", field="device_id", code="unknown_device")

    def _user(self, username: str) -> User:
        user = self.users.get_by_username(username)
        if user is None:
            raise NotFound(f"no user {username!r}", field="username", code="unknown_user")
        return user

    def reset_password(self, username: str, password: str) -> User:
        if len(password) < MIN_PASSWORD_LENGTH:
            raise Unprocessable(f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password")
        user = self._user(username)
        user.password_hash = hash_password(password)
        self.tokens.revoke_all(user.id)
        self.session.flush()
        return user

    def set_role(self, username: str, role: str, *, acting_user_id: int) -> User:
        """The API's rule (:meth:`AccountService.set_role`): never demote oneself or the last enabled admin."""
        return self.accounts.set_role(username, role, acting_user_id=acting_user_id)

    def audit_page(self, where: AuditFilter, before_id: int | None = None, size: int = AUDIT_PAGE_SIZE) -> AuditPage:
        events, more = AuditLogRepository(self.session).page(where, before_id=before_id, size=size)
        return AuditPage(events, events[-1].id if more and events else None)
