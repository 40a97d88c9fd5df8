"""Server settings, read from the environment (prefix ``QLQ_``) with pydantic-settings.

Every knob the server has lives here, so the deployment files (compose, Kubernetes ConfigMap/Secret) and
``docs/server.md`` can list them from one place. In production (``QLQ_ENVIRONMENT=production``) the server
refuses to start with a weak or placeholder secret (strength is estimated entropy, with zxcvbn: a long but
repetitive secret is weak), without TLS (its own certificate, or a declared TLS proxy in front), or trusting
forwarded headers from anyone: a misconfigured research server must fail loudly, not run open.

No refusal ever repeats a value it was given (pydantic's own messages do, ``input_value=…``: they are rewritten
by :func:`describe_validation_error`), so a secret never reaches a terminal, a log or a CI report.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from zxcvbn import zxcvbn  # type: ignore[import-untyped]  # no stubs; one call, wrapped below

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/qlq"
DEV_SECRET = "dev-only-insecure-secret-change-me"  # noqa: S105 - refused in production
MIN_SECRET_LENGTH = 32
# zxcvbn's estimate of the guesses needed, as log10: 10^25 ≈ 2^83, beyond any offline search. Not higher: zxcvbn
# reads dates, sequences and repeats into random strings, and a truly random 128-bit secret scores from ~27 up
# (``secrets.token_hex(16)``: lowest 26.9 over 8,000 draws, 6% below 30, the previous threshold, which refused
# them); made-up ones score far lower ("abcdefgh" × 4: 2, "correcthorsebatterystaple1234567": 17).
MIN_SECRET_GUESSES_LOG10 = 25.0
_PLACEHOLDER_MARKERS = ("change", "placeholder", "secret", "example", "xxx", "todo", "insecure", "password")


class SettingsError(ValueError):
    """The settings cannot be used as given (e.g. production with a placeholder secret)."""


class Settings(BaseSettings):
    """All server settings. Field ``foo`` is read from ``QLQ_FOO``.

    Construction errors are :class:`SettingsError` whose message names each field and what is wrong with it,
    never the value given."""

    model_config = SettingsConfigDict(env_prefix="QLQ_", extra="ignore", frozen=True)

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as exc:
            raise SettingsError(describe_validation_error(exc)) from None

    environment: Literal["development", "production"] = "development"
    database_url: str = Field(
        default=DEFAULT_DATABASE_URL, repr=False, description="SQLAlchemy URL, postgresql+psycopg://user@host:port/db"
    )
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    db_ingest_pool_size: int = Field(
        default=8,
        ge=1,
        le=200,
        description="connections per worker of the asynchronous pool that serves POST /v1/submissions",
    )
    ingest_group_max: int = Field(
        default=64,
        ge=1,
        le=1000,
        description="most submissions a worker stores in one transaction, from requests that arrive while its "
        "earlier ones are being stored (group commit; 1: each submission in its own transaction)",
    )
    ingest_groups_in_flight: int = Field(
        default=2,
        ge=1,
        le=200,
        description="groups of submissions a worker stores at once, each on a connection of its ingest pool",
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="how long a request waits for a database connection before a 503 database_unavailable",
    )
    token_secret: str = Field(default=DEV_SECRET, repr=False, description="HMAC pepper for token and code hashes")
    researcher_token_ttl_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    enrollment_code_ttl_hours: int = Field(default=24, ge=1, le=24 * 7)
    auth_rate_limit_attempts: int = Field(
        default=10,
        ge=1,
        description="login/enrollment attempts per client address within the window (all accounts together)",
    )
    auth_rate_limit_account_attempts: int = Field(
        default=10, ge=1, description="login attempts per account within the window (all addresses together)"
    )
    auth_rate_limit_window_seconds: int = Field(default=60, ge=1)
    device_cache_seconds: float = Field(
        default=60,
        ge=0,
        le=3600,
        description="how long a worker trusts a device token it looked up before looking it up again, on the "
        "submission endpoints (0: every request); a revoked device can never store a submission meanwhile",
    )
    clock_skew_seconds: int = Field(
        default=900,
        ge=0,
        le=86_400,
        description="how far in the future a submission's times may be (a kiosk clock slightly ahead)",
    )
    api_docs: Literal["public", "admin", "off"] | None = Field(
        default=None,
        description="who sees /docs, /redoc and /openapi.json: public (development default), "
        "admin (an admin bearer token; production may choose it) or off (production default)",
    )
    metrics_token: str | None = Field(
        default=None, repr=False, description="a bearer token the Prometheus scraper sends to read /metrics"
    )
    metrics_allow_ips: list[str] = Field(
        default_factory=list,
        description="JSON list of addresses/networks that may read /metrics without a "
        'token, e.g. ["10.0.0.0/8"]. In production /metrics is closed when neither this nor the token is set',
    )
    cors_allow_origins: list[str] = Field(
        default_factory=list, description='JSON list, e.g. ["https://stats.example.org"]'
    )
    max_body_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    batch_max_items: int = Field(default=100, ge=1, le=1000)
    tls_certfile: str | None = None
    tls_keyfile: str | None = None
    behind_tls_proxy: bool = False
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        description="comma-separated addresses/networks of the proxies whose X-Forwarded-For is trusted "
        "(the ingress's range, e.g. 10.0.0.0/8); never * in production",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_json: bool = True
    console_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60, description="web console: sign out after this long without a request"
    )
    export_progress_every: int = Field(default=1000, ge=1)
    releases_dir: str | None = Field(
        default=None,
        description="folder `qlq-server publish-release` fills and GET /v1/releases/latest serves "
        "(unset: no kiosk update is offered)",
    )
    release_public_key: str | None = Field(
        default=None,
        description="Ed25519 public key (PEM) releases must be signed with (default: the one built "
        "into the kiosk, resources/keys/release-public-key.pem)",
    )

    @property
    def is_production(self) -> bool:
        return self.environment == "production"

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @property
    def docs_access(self) -> Literal["public", "admin", "off"]:
        if self.api_docs is not None:
            return self.api_docs
        return "off" if self.is_production else "public"

    @property
    def tls_enabled(self) -> bool:
        return bool(self.tls_certfile and self.tls_keyfile) or self.behind_tls_proxy

    @field_validator("metrics_allow_ips")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                raise ValueError("each entry must be an IP address or network, e.g. 10.0.0.0/8") from None
        return values

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
    generate = "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
    if len(secret) < MIN_SECRET_LENGTH:
        problems.append(f"QLQ_TOKEN_SECRET must be at least {MIN_SECRET_LENGTH} characters; {generate}")
    elif secret == DEV_SECRET or any(marker in secret.lower() for marker in _PLACEHOLDER_MARKERS):
        problems.append(f"QLQ_TOKEN_SECRET looks like a placeholder; {generate}")
    elif secret_strength(secret) < MIN_SECRET_GUESSES_LOG10:
        problems.append(
            f"QLQ_TOKEN_SECRET is too predictable (repeats, sequences, words or few distinct "
            f"characters: about 10^{secret_strength(secret):.0f} guesses, 10^"
            f"{MIN_SECRET_GUESSES_LOG10:.0f} needed); {generate}"
        )
    if settings.metrics_token is not None and secret_strength(settings.metrics_token) < MIN_SECRET_GUESSES_LOG10:
        problems.append(f"QLQ_METRICS_TOKEN is too predictable; {generate}")
    if any(part.strip() == "*" for part in settings.forwarded_allow_ips.split(",")):
        problems.append(
            "QLQ_FORWARDED_ALLOW_IPS must not be '*' (anyone could forge X-Forwarded-For and dodge "
            "the rate limits): give the proxies' addresses or network, e.g. 10.0.0.0/8"
        )
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        problems.append("QLQ_TLS_CERTFILE and QLQ_TLS_KEYFILE go together")
    if not settings.tls_enabled:
        problems.append(
            "TLS is required: set QLQ_TLS_CERTFILE and QLQ_TLS_KEYFILE, "
            "or QLQ_BEHIND_TLS_PROXY=true when a TLS proxy terminates connections"
        )
    if "*" in settings.cors_allow_origins:
        problems.append("QLQ_CORS_ALLOW_ORIGINS must not contain '*'")
    return problems


def secret_strength(secret: str) -> float:
    """log10 of the guesses zxcvbn estimates an attacker needs (it looks at the first 100 characters)."""
    return float(zxcvbn(secret[:100])["guesses_log10"])


def describe_validation_error(exc: ValidationError) -> str:
    """Each failing setting and why, as ``QLQ_FIELD: reason``; never the value that was given."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        loc = ".".join(str(part) for part in error.get("loc", ()))
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"QLQ_{loc.upper()}: {message}" if loc else message)
    return "; ".join(parts) or "invalid settings"


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment, with explicit overrides (tests, CLI options)."""
    return Settings(**overrides)
