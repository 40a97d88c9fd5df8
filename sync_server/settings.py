"""Server settings, read from the environment (prefix ``QLQ_``) with pydantic-settings.

Every knob the server has lives here, so the deployment files (compose, Kubernetes ConfigMap/Secret) and
``docs/server.md`` can list them from one place. In production (``QLQ_ENVIRONMENT=production``) the server
refuses to start with a placeholder or short secret, or without TLS (its own certificate, or a declared TLS
proxy in front): a misconfigured research server must fail loudly, not run open.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qlq"
DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32
_PLACEHOLDER_MARKERS = ("change", "placeholder", "secret", "example", "xxx", "todo", "insecure", "password")


class SettingsError(ValueError):
    """The settings cannot be used as given (e.g. production with a placeholder secret)."""


class Settings(BaseSettings):
    """All server settings. Field ``foo`` is read from ``QLQ_FOO``."""

    model_config = SettingsConfigDict(env_prefix="QLQ_", extra="ignore", frozen=True)

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(default=DEFAULT_DATABASE_URL,
                              description="SQLAlchemy URL, postgresql+psycopg://user@host:port/db")
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_ingest_pool_size: int = Field(
        default=8, ge=1, le=200,
        description="connections per worker of the asynchronous pool that serves POST /v1/submissions")
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300,
        description="how long a request waits for a database connection before a 503 database_unavailable")
    token_secret: str = Field(default=DEV_SECRET, description="HMAC pepper for token and code hashes")
    researcher_token_ttl_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    enrollment_code_ttl_hours: int = Field(default=24, ge=1, le=24 * 7)
    auth_rate_limit_attempts: int = Field(default=10, ge=1)
    auth_rate_limit_window_seconds: int = Field(default=60, ge=1)
    cors_allow_origins: list[str] = Field(default_factory=list,
                                          description='JSON list, e.g. ["https://stats.example.org"]')
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    batch_max_items: int = Field(default=100, ge=1, le=1000)
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    behind_tls_proxy: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    console_idle_minutes: int = Field(default=30, ge=1, le=24 * 60,
                                      description="web console: sign out after this long without a request")
    export_progress_every: int = Field(default=1000, ge=1)
    releases_dir: str | None = Field(
        default=None, description="folder `qlq-server publish-release` fills and GET /v1/releases/latest serves "
                                  "(unset: no kiosk update is offered)")
    release_public_key: str | None = Field(
        default=None, description="Ed25519 public key (PEM) releases must be signed with (default: the one built "
                                  "into the kiosk, resources/keys/release-public-key.pem)")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_certfile and self.tls_keyfile) or self.behind_tls_proxy

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.is_production:
            problems = production_problems(self)
            if problems:
                raise SettingsError("refusing to start in production: " + "; ".join(problems))
        return self


def production_problems(settings: Settings) -> list[str]:
    """What makes these settings unfit for production (empty when they are fine)."""
    problems = []
    secret = settings.token_secret
    if len(secret) < MIN_SECRET_LENGTH:
        problems.append(f"QLQ_TOKEN_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    if secret == DEV_SECRET or any(marker in secret.lower() for marker in _PLACEHOLDER_MARKERS) \
            or len(set(secret)) < 8:
        problems.append("QLQ_TOKEN_SECRET looks like a placeholder; generate one with "
                        "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`")
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        problems.append("QLQ_TLS_CERTFILE and QLQ_TLS_KEYFILE go together")
    if not settings.tls_enabled:
        problems.append("TLS is required: set QLQ_TLS_CERTFILE and QLQ_TLS_KEYFILE, "
                        "or QLQ_BEHIND_TLS_PROXY=true when a TLS proxy terminates connections")
    if "*" in settings.cors_allow_origins:
        problems.append("QLQ_CORS_ALLOW_ORIGINS must not contain '*'")
    return problems


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI options)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except SettingsError:
        raise
    except ValueError as exc:
        # pydantic wraps a validator's ValueError; surface the reason, not a traceback.
        raise SettingsError(str(exc)) from None
