"""Structured JSON logs carrying the request id, and never any patient data.

One JSON object per line on stderr: ``ts``, ``level``, ``logger``, ``msg``, ``request_id`` and any ``extra``
fields passed to the logger. The request id comes from the ``X-Request-ID`` header (or is minted) by the
request middleware and is kept in a context variable, so every log line of a request carries it.

Patient initials and birth dates must never reach a log: nothing here logs payloads, and
:class:`PatientDataFilter` drops the known patient keys from ``extra`` as a second line of defence.
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

request_id_var: ContextVar[str | None] = ContextVar("qlq_request_id", default=None)

_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "color_message",
}  # uvicorn adds color_message: noise in JSON
PATIENT_KEYS = frozenset({"initials", "birth_date", "patient", "payload", "patient_initials", "patient_birth_date"})


class PatientDataFilter(logging.Filter):
    """Removes patient fields that someone passed as ``extra`` by mistake."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key in PATIENT_KEYS & set(vars(record)):
            setattr(record, key, "[removed]")
        return True


class JsonFormatter(logging.Formatter):
    """Formats a record as one compact JSON object."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            data["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                data[key] = value
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """Human-readable lines for development, still with the request id."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        request_id = request_id_var.get()
        return f"{base} [request_id={request_id}]" if request_id else base


def configure_logging(level: str = "INFO", *, json_format: bool = True) -> None:
    """Install one stderr handler on the root logger (idempotent: replaces a previous one of ours)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_qlq", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._qlq = True  # type: ignore[attr-defined]
    handler.setFormatter(
        JsonFormatter() if json_format else TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    handler.addFilter(PatientDataFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # Our middleware logs every request with its id; uvicorn's access log would duplicate it without one.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
