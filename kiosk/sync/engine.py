"""One sync pass: send the due submissions oldest first, read each answer, and record every outcome.

Outcomes (docs/sync.md):

- ``received`` / ``already_received`` → "sent", the receipt kept (the server is idempotent by submission id and
  content, so resending after a lost reply is safe: that is how nothing is ever doubled);
- 409 / 422 (and 413 for one submission) → parked as "rejected" with the server's code and message, never
  retried blindly, never deleted; the pass goes on with the others;
- 401 / 403 → the pass stops, nothing is marked, the status asks the admin to re-enroll;
- 5xx, 429, 503 with ``Retry-After``, timeouts, connection errors, certificate problems → the submissions of that
  exchange are due again after an exponential backoff with jitter (capped), or after ``Retry-After`` when the
  server gave one; the pass stops (the server is unwell: no point hammering it with the rest).

Several due submissions go in one ``POST /v1/submissions:batch`` (at most ``batch_size``); a single one goes to
``POST /v1/submissions``. All results of an exchange are written in one transaction.

Each reply's ``Date`` header is compared with the kiosk's clock; beyond ``skew_warning`` the status carries a
French warning (a tablet clock a day ahead makes "implausible date" rejections).

Not thread-safe by itself: :class:`~kiosk.sync.worker.SyncWorker` runs it on its one thread, under a file lock.
"""

from __future__ import annotations

import email.utils
import json
import logging
import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from kiosk.domain.clock import SYSTEM_CLOCK, Clock
from kiosk.storage.interface import QueueCounts, QueuedSubmission, SendResult, SessionStore
from kiosk.sync import messages
from kiosk.sync.transport import Reply, Transport, TransportFailure

log = logging.getLogger(__name__)

SINGLE_PATH = "/v1/submissions"
BATCH_PATH = "/v1/submissions:batch"
FOREVER = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class BackoffPolicy:
    """Delay before retrying after the n-th consecutive failure: min(cap, base·2ⁿ⁻¹), jittered to [½, 1]×."""

    base: float = 2.0
    cap: float = 300.0
    retry_after_cap: float = 3600.0  # a Retry-After beyond this is read as this

    def delay(self, failures: int, rng: random.Random, retry_after: float | None = None) -> float:
        if retry_after is not None:
            wait = min(max(retry_after, 0.0), self.retry_after_cap)
            return wait + rng.uniform(0, min(1.0, wait * 0.1))  # never earlier than asked; spread a little
        raw = min(self.cap, self.base * 2 ** max(failures - 1, 0))
        return rng.uniform(raw / 2, raw)


@dataclass(frozen=True)
class SyncStatus:
    """What the nurse and admin screens show, and what ``qlq-kiosk sync`` prints."""

    counts: QueueCounts = field(default_factory=QueueCounts)
    last_success_at: datetime | None = None
    last_error: str | None = None  # plain French: what happened, what to do
    last_error_code: str | None = None  # network, timeout, tls, server_error, rate_limited, not_authenticated...
    needs_enrollment: bool = False
    clock_skew_seconds: float | None = None  # tablet minus server, at the last exchange
    clock_warning: str | None = None
    running: bool = False


@dataclass
class PassReport:
    sent: int = 0
    already_received: int = 0
    rejected: int = 0
    failed: int = 0  # still pending, retried later
    exchanges: int = 0
    stopped: str | None = None  # why the pass ended early: "transient", "auth", "not_enrolled", "hold"
    retry_at: datetime | None = None

    def add(self, other: PassReport) -> None:
        self.sent += other.sent
        self.already_received += other.already_received
        self.rejected += other.rejected
        self.failed += other.failed
        self.exchanges += other.exchanges


@dataclass(frozen=True)
class _Transient:
    code: str
    message: str  # French
    detail: str  # for the queue's last_error (IT)
    retry_after: float | None = None


@dataclass(frozen=True)
class _Auth:
    detail: str


def _retry_after(reply: Reply, now: datetime) -> float | None:
    value = reply.header("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


def _error_of(body: Any) -> tuple[str | None, str]:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return (str(error.get("code")) if error.get("code") else None), str(error.get("message") or "")
    return None, ""


class SyncEngine:
    def __init__(
        self,
        store: SessionStore,
        transport: Transport,
        token: Callable[[], str | None],
        *,
        clock: Clock = SYSTEM_CLOCK,
        rng: random.Random | None = None,
        policy: BackoffPolicy | None = None,
        batch_size: int = 100,
        skew_warning: timedelta = timedelta(minutes=5),
    ) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._store = store
        self._transport = transport
        self._token = token
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self._policy = policy or BackoffPolicy()
        self._batch_size = batch_size
        self._skew_warning = skew_warning
        self._failures = 0  # consecutive transient failures
        self._hold_until: datetime | None = None
        self.status = SyncStatus(counts=store.queue_counts())

    # ------------------------------------------------------------------ the pass
    def run_pass(self, *, force: bool = False) -> PassReport:
        """Send everything due (``force``: everything pending, ignoring backoff). Stops early on a transient
        failure (the rest waits for the backoff) or an authentication failure."""
        report = PassReport()
        now = self._clock.now()
        if not force and self._hold_until is not None and now < self._hold_until:
            # Nothing is sent, but the count stays true (a session finished meanwhile: the nurse sees it).
            self._set(counts=self._store.queue_counts())
            report.stopped, report.retry_at = "hold", self._hold_until
            return report
        token = self._token()
        if not token:
            self._set(
                counts=self._store.queue_counts(),
                needs_enrollment=True,
                last_error=messages.NOT_ENROLLED,
                last_error_code="not_enrolled",
            )
            report.stopped = "not_enrolled"
            return report
        pending = self._store.queue_counts().pending
        budget = math.ceil(pending / self._batch_size) * 2 + 4  # bounded: every exchange moves its rows on
        batch_size = self._batch_size
        while budget > 0:
            budget -= 1
            rows = self._store.due(FOREVER if force else self._clock.now(), limit=batch_size)
            if not rows:
                break
            outcome = self._exchange(rows, token)
            report.add(outcome)
            if outcome.stopped == "batch_too_large" and batch_size > 1:
                batch_size = max(1, batch_size // 2)
                continue
            if outcome.stopped is not None:
                report.stopped, report.retry_at = outcome.stopped, outcome.retry_at
                break
        self._set(counts=self._store.queue_counts())
        log.info(
            "sync pass: %d sent, %d already received, %d rejected, %d to retry (%s)",
            report.sent,
            report.already_received,
            report.rejected,
            report.failed,
            report.stopped or "done",
        )
        return report

    @property
    def store(self) -> SessionStore:
        return self._store

    def next_wake(self) -> datetime | None:
        """When the next pass has something to do (None: nothing pending, or nothing to do until the admin
        enrolls the tablet again)."""
        if self.status.needs_enrollment:
            return None
        due = self._store.next_due_at()
        if due is None:
            return None
        if self._hold_until is not None and self._hold_until > due:
            return self._hold_until
        return due

    # ------------------------------------------------------------------ one exchange
    def _exchange(self, rows: Sequence[QueuedSubmission], token: str) -> PassReport:
        if len(rows) == 1:
            return self._single(rows[0], token)
        return self._batch(rows, token)

    def _post(self, path: str, content: bytes, token: str) -> Reply | _Transient:
        try:
            reply = self._transport.post(path, content, token=token)
        except TransportFailure as exc:
            wording = {"timeout": messages.TIMEOUT, "tls": messages.TLS}.get(exc.kind, messages.NETWORK)
            return _Transient(exc.kind, wording, str(exc)[:500])
        self._check_clock(reply)
        return reply

    def _single(self, row: QueuedSubmission, token: str) -> PassReport:
        assert row.payload_json is not None  # pending rows are never purged
        answer = self._post(SINGLE_PATH, row.payload_json.encode("utf-8"), token)
        if isinstance(answer, _Transient):
            return self._defer([row], answer)
        classified = self._classify(answer)
        if isinstance(classified, _Transient):
            return self._defer([row], classified)
        if isinstance(classified, _Auth):
            return self._auth_failed(classified)
        status = answer.body.get("status") if isinstance(answer.body, dict) else None
        if answer.status in (200, 201) and status in ("received", "already_received"):
            return self._record([self._sent(row, status, answer)], answer)
        if answer.status in (409, 413, 422):
            code, message = _error_of(answer.body)
            return self._record([self._rejected(row, code or f"http_{answer.status}", message)], answer)
        return self._defer(
            [row],
            _Transient("unexpected_reply", messages.UNEXPECTED_REPLY, f"HTTP {answer.status} {str(answer.body)[:200]}"),
        )

    def _batch(self, rows: Sequence[QueuedSubmission], token: str) -> PassReport:  # noqa: PLR0912 - one reply's outcomes, one branch each
        content = ("[" + ",".join(r.payload_json or "" for r in rows) + "]").encode("utf-8")
        answer = self._post(BATCH_PATH, content, token)
        if isinstance(answer, _Transient):
            return self._defer(rows, answer)
        classified = self._classify(answer)
        if isinstance(classified, _Transient):
            return self._defer(rows, classified)
        if isinstance(classified, _Auth):
            return self._auth_failed(classified)
        code, _ = _error_of(answer.body)
        if answer.status == 413 and code == "batch_too_large":
            return PassReport(exchanges=1, stopped="batch_too_large")
        results = answer.body.get("results") if isinstance(answer.body, dict) else None
        if answer.status != 200 or not isinstance(results, list):
            if answer.status in (413, 422):  # the batch as a whole was refused: send them one by one
                report = PassReport(exchanges=1)
                for row in rows:
                    one = self._single(row, token)
                    report.add(one)
                    if one.stopped is not None:
                        report.stopped, report.retry_at = one.stopped, one.retry_at
                        break
                return report
            return self._defer(
                rows,
                _Transient(
                    "unexpected_reply", messages.UNEXPECTED_REPLY, f"HTTP {answer.status} {str(answer.body)[:200]}"
                ),
            )
        by_index = {item.get("index"): item for item in results if isinstance(item, dict)}
        done: list[SendResult] = []
        leftover: list[QueuedSubmission] = []
        for index, row in enumerate(rows):
            item = by_index.get(index) or {}
            status = item.get("status")
            if item.get("submission_id") not in (None, row.submission_id):
                leftover.append(row)  # the server's index does not match what we sent: try again, alone
            elif status in ("received", "already_received"):
                done.append(self._sent(row, str(status), answer, int(item.get("http_status") or 200)))
            elif status == "rejected" and int(item.get("http_status") or 0) in (409, 413, 422):
                code, message = _error_of({"error": item.get("error")})
                done.append(self._rejected(row, code or f"http_{item.get('http_status')}", message))
            else:
                leftover.append(row)
        report = self._record(done, answer) if done else PassReport(exchanges=1)
        if leftover:
            deferred = self._defer(
                leftover,
                _Transient(
                    "unexpected_reply", messages.UNEXPECTED_REPLY, "batch reply without a usable result for this item"
                ),
            )
            deferred.exchanges = 0
            report.add(deferred)
            report.stopped, report.retry_at = deferred.stopped, deferred.retry_at
        return report

    def _classify(self, reply: Reply) -> _Transient | _Auth | None:
        code, message = _error_of(reply.body)
        detail = f"HTTP {reply.status} {code or ''} {message}".strip()[:500]
        if reply.status in (401, 403):
            return _Auth(detail)
        if reply.status in (429, 503):
            return _Transient(
                code or ("rate_limited" if reply.status == 429 else "server_busy"),
                messages.SERVER_BUSY,
                detail,
                _retry_after(reply, self._clock.now()),
            )
        if reply.status >= 500:
            return _Transient("server_error", messages.SERVER_ERROR, detail, _retry_after(reply, self._clock.now()))
        if reply.status in (200, 201, 409, 413, 422):
            return None
        return _Transient(f"http_{reply.status}", messages.UNEXPECTED_REPLY, detail)

    # ------------------------------------------------------------------ outcomes
    def _sent(self, row: QueuedSubmission, status: str, reply: Reply, http_status: int | None = None) -> SendResult:
        receipt = json.dumps(
            {
                "status": status,
                "http_status": http_status or reply.status,
                "request_id": reply.header("x-request-id"),
                "server_date": reply.header("date"),
                "acknowledged_at": self._clock.now().isoformat(),
            },
            sort_keys=True,
        )
        return SendResult(row.submission_id, "sent", receipt=receipt, code=status)

    def _rejected(self, row: QueuedSubmission, code: str, message: str) -> SendResult:
        log.warning("submission %s rejected by the server: %s", row.submission_id, code)
        return SendResult(row.submission_id, "rejected", error=f"{code}: {message}"[:2000], code=code)

    def _record(self, results: list[SendResult], reply: Reply) -> PassReport:
        self._store.record_results(results)
        report = PassReport(exchanges=1)
        for result in results:
            if result.outcome == "rejected":
                report.rejected += 1
            elif result.code == "already_received":
                report.already_received += 1
            else:
                report.sent += 1
        self._failures = 0
        self._hold_until = None
        rejected = [r for r in results if r.outcome == "rejected"]
        self._set(
            last_success_at=self._clock.now(),
            needs_enrollment=False,
            last_error=messages.rejected(rejected[-1].code) if rejected else None,
            last_error_code=rejected[-1].code if rejected else None,
        )
        del reply
        return report

    def _defer(self, rows: Sequence[QueuedSubmission], failure: _Transient) -> PassReport:
        self._failures += 1
        delay = self._policy.delay(self._failures, self._rng, failure.retry_after)
        retry_at = self._clock.now() + timedelta(seconds=delay)
        self._store.record_results(
            [
                SendResult(r.submission_id, "failed", error=failure.detail, code=failure.code, next_attempt_at=retry_at)
                for r in rows
            ]
        )
        self._hold_until = retry_at
        log.warning("sync: %s; %d submissions retried in %.1f s", failure.code, len(rows), delay)
        self._set(last_error=failure.message, last_error_code=failure.code)
        return PassReport(failed=len(rows), exchanges=1, stopped="transient", retry_at=retry_at)

    def _auth_failed(self, failure: _Auth) -> PassReport:
        log.error("sync: the server refused the device token (%s)", failure.detail)
        self._set(needs_enrollment=True, last_error=messages.REENROLL, last_error_code="not_authenticated")
        return PassReport(exchanges=1, stopped="auth")

    # ------------------------------------------------------------------ status
    def _check_clock(self, reply: Reply) -> None:
        server = reply.header("date")
        if not server or reply.sent_at is None or reply.received_at is None:
            return
        try:
            server_time = email.utils.parsedate_to_datetime(server)
        except (TypeError, ValueError):
            return
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=UTC)
        local = reply.sent_at + (reply.received_at - reply.sent_at) / 2
        # Date is truncated to the second: the server's time was within the second after it.
        skew = local - (server_time + timedelta(seconds=0.5))
        warning = messages.clock_skew(skew) if abs(skew) > self._skew_warning else None
        if warning and warning != self.status.clock_warning:
            log.warning("the tablet's clock is %+.0f s off the server's", skew.total_seconds())
        self._set(clock_skew_seconds=skew.total_seconds(), clock_warning=warning)

    def _set(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)

    def refresh_counts(self) -> SyncStatus:
        self._set(counts=self._store.queue_counts())
        return self.status
