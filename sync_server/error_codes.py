"""Every stable error code the server answers with: its HTTP status and what it means. The one list.

Clients (the kiosk, scripts) switch on ``code``; the message is for humans and may change. :class:`AppError`
takes its status from here when raised with a ``code``; the submission checks of the domain
(``kiosk.domain.submission`` and ``kiosk.domain.plausibility``) are 422 with their own codes. The table of
``docs/server.md`` is generated from this list (``python -m sync_server.error_codes``) and a test keeps them
equal; another test finds every code the server's and the domain's source raise and checks it is listed here.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ErrorCode:
    code: str
    status: int
    meaning: str


_ALL: Final = (
    # authentication and access
    ErrorCode("not_authenticated", 401, "no bearer token was sent"),
    ErrorCode("invalid_token", 401, "the bearer token is unknown, expired or revoked"),
    ErrorCode("invalid_credentials", 401, "wrong username or password, or the account is disabled"),
    ErrorCode("invalid_enrollment_code", 401, "the enrollment code is unknown, expired or already used"),
    ErrorCode("forbidden", 403, "the caller's role may not do this"),
    ErrorCode("metrics_forbidden", 403, "/metrics is open only to QLQ_METRICS_ALLOW_IPS or QLQ_METRICS_TOKEN"),
    ErrorCode("rate_limited", 429, "too many attempts from this address or on this account; see Retry-After"),
    # not found and conflicts
    ErrorCode("not_found", 404, "no such path or object"),
    ErrorCode("method_not_allowed", 405, "the path exists but not with this HTTP method"),
    ErrorCode("unknown_site", 404, "no site with this code"),
    ErrorCode("unknown_device", 404, "no device with this id"),
    ErrorCode("unknown_user", 404, "no user with this name"),
    ErrorCode("unknown_session", 404, "no stored session with this submission id"),
    ErrorCode("instrument_not_found", 404, "an export names an instrument/language the server does not have"),
    ErrorCode("unknown_export_format", 404, "the export format is not csv-wide, csv-long, sav or fhir"),
    ErrorCode("conflict", 409, "the request conflicts with the stored state"),
    ErrorCode("site_exists", 409, "a site with this code already exists"),
    ErrorCode("user_exists", 409, "a user with this name already exists"),
    ErrorCode("last_admin", 409, "this would leave no enabled admin"),
    ErrorCode("cannot_change_self", 409, "an admin cannot disable or demote their own account"),
    ErrorCode("submission_conflict", 409, "this submission id was already received with other content"),
    ErrorCode("no_release", 404, "no kiosk release is published for this OS and architecture"),
    ErrorCode("release_file_not_found", 404, "no published release file has this name"),
    ErrorCode("release_exists", 409, "publish-release: this archive name is published with other contents"),
    # request bodies and parameters
    ErrorCode("bad_request", 400, "the request was refused"),
    ErrorCode("payload_too_large", 413, "the request body is larger than QLQ_MAX_BODY_BYTES"),
    ErrorCode("batch_too_large", 413, "a batch holds more than QLQ_BATCH_MAX_ITEMS submissions"),
    ErrorCode("invalid_payload", 422, "the body or a parameter does not match the schema (field names where)"),
    ErrorCode("invalid_value", 422, "the database refused a value (e.g. a number beyond its column)"),
    ErrorCode("invalid_filter", 422, "the export or statistics filter is inconsistent ('from' after 'to')"),
    ErrorCode("invalid_date", 422, "a console form field is not a date (YYYY-MM-DD)"),
    ErrorCode("invalid_uuid", 422, "a console form field is not a session id (UUID)"),
    ErrorCode("confirm_mismatch", 422, "the console's deletion form: the id typed again differs"),
    ErrorCode("unexportable_session", 422, "a stored session this export format cannot represent (before any byte)"),
    ErrorCode(
        "invalid_release",
        422,
        "publish-release: the release does not verify (the verifier's code first: "
        "missing_signature, wrong_key, tampered_file, manifest_mismatch, …)",
    ),
    ErrorCode("missing_sbom", 422, "publish-release: no CycloneDX SBOM (ARCHIVE.cdx.json) beside the archive"),
    ErrorCode("releases_not_configured", 422, "publish-release: QLQ_RELEASES_DIR is not set"),
    ErrorCode("unknown_instrument", 422, "no bundled instrument has this id, language and content hash"),
    # a submission that fits the schema but not its instrument or reality (kiosk.domain)
    ErrorCode("instrument_mismatch", 422, "the submission names another version of the instrument file"),
    ErrorCode("invalid_instrument_version", 422, "the instrument version is not a dotted version number"),
    ErrorCode("consent_missing", 422, "no consent to the processing of answers (or of voice) was recorded"),
    ErrorCode("duplicate_item", 422, "an item is answered twice"),
    ErrorCode("unknown_item", 422, "an item number is not in the instrument"),
    ErrorCode("answer_out_of_range", 422, "an answer is outside its item's scale"),
    ErrorCode("answer_inconsistent", 422, "a skipped or 'don't know' item carries a value"),
    ErrorCode("voice_inconsistent", 422, "a voice answer's record contradicts it (no alternative, confirmation)"),
    ErrorCode("scores_mismatch", 422, "the submitted scores differ from the recomputed ones"),
    ErrorCode("implausible_date", 422, "a date or time is out of range, in the future or out of order"),
    ErrorCode("implausible_time_zone", 422, "a time carries a UTC offset beyond ±14:00"),
    ErrorCode("implausible_duration", 422, "a duration does not match the start, end and pause times"),
    ErrorCode("implausible_number", 422, "a number is not finite"),
    ErrorCode("invalid_initials", 422, "the initials are not 1-4 letters as the kiosk's start form accepts"),
    ErrorCode("invalid_text", 422, "a text holds a control, unassigned, private-use or bidi-override character"),
    # the server and its database
    ErrorCode("not_ready", 503, "the server is not ready"),
    ErrorCode("database_unreachable", 503, "/ready: the database does not answer (engine or ingest pool)"),
    ErrorCode("migration_pending", 503, "/ready: the schema is not at the latest migration"),
    ErrorCode("database_unavailable", 503, "no database connection in time; nothing was stored, retry later"),
    ErrorCode("http_error", 400, "another HTTP-level refusal (its status is the response's)"),
    ErrorCode("internal_error", 500, "a bug: logged with the request id"),
)

ERRORS: Final[dict[str, ErrorCode]] = {e.code: e for e in _ALL}
assert len(ERRORS) == len(_ALL), "an error code is listed twice"


def status_of(code: str) -> int:
    """The HTTP status of a registered code (KeyError for an unregistered one: register it above)."""
    return ERRORS[code].status


def markdown_table() -> str:
    """The error table of ``docs/server.md``."""
    lines = ["| code | HTTP status | meaning |", "| --- | --- | --- |"]
    lines += [f"| `{e.code}` | {e.status} | {e.meaning} |" for e in _ALL]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown_table())
