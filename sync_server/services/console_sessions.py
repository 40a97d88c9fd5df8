"""Console sign-in: the web console's session is an ordinary user token (``qlqu_…``, the very token
``POST /v1/auth/token`` issues, same argon2 check, same expiry, same revocation), carried in a cookie instead of
an ``Authorization`` header. A device token (``qlqd_…``) is never accepted here."""

from __future__ import annotations

from sqlalchemy.orm import Session

from sync_server.repositories.accounts import UserIdentity, UserTokenRepository
from sync_server.security import USER_TOKEN_PREFIX, keyed_hash
from sync_server.services.accounts import AccountService, IssuedUserToken
from sync_server.settings import Settings


class ConsoleSessionService:
    def __init__(self, session: Session, settings: Settings) -> None:
        self.session = session
        self.settings = settings
        self.tokens = UserTokenRepository(session)

    def login(self, username: str, password: str) -> IssuedUserToken:
        """As the API's login (raises ``InvalidCredentials`` for a wrong password or a disabled user)."""
        return AccountService(self.session, self.settings).login(username, password)

    def identify(self, token: str) -> UserIdentity | None:
        """The enabled user behind an unexpired, unrevoked user token; None for anything else."""
        if not token.startswith(USER_TOKEN_PREFIX):
            return None
        return self.tokens.identity_by_token_hash(keyed_hash(self.settings.token_secret, token))

    def logout(self, token: str) -> None:
        if token.startswith(USER_TOKEN_PREFIX):
            self.tokens.revoke(keyed_hash(self.settings.token_secret, token))
