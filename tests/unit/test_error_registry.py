"""The error registry (``sync_server/error_codes.py``) lists every stable code the server and the domain's
submission checks use, with one HTTP status each, and the table in ``docs/server.md`` is generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from sync_server import errors
from sync_server.error_codes import ERRORS, markdown_table
from sync_server.errors import AppError

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [
    *sorted((ROOT / "sync_server").rglob("*.py")),
    ROOT / "kiosk/domain/submission.py",
    ROOT / "kiosk/domain/plausibility.py",
]


def _codes_in_source() -> dict[str, list[str]]:
    """Every code literal: ``code="…"`` keywords, ``code = "…"`` class attributes, ``status, code = …``,
    the first argument of ``SubmissionProblem(…)`` and of ``error_body(…)``, the strings of ``errors.py``'s
    ``HTTP_CODES`` and ``OTHER_HTTP_CODE``."""
    found: dict[str, list[str]] = {}

    def add(code: object, where: str) -> None:
        if isinstance(code, str):
            found.setdefault(code, []).append(where)

    for path in SOURCES:
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Call):
                name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
                for keyword in node.keywords:
                    if keyword.arg == "code" and isinstance(keyword.value, ast.Constant):
                        add(keyword.value.value, where)
                if name in ("SubmissionProblem", "error_body") and node.args and isinstance(node.args[0], ast.Constant):
                    add(node.args[0].value, where)
            elif isinstance(node, ast.Assign | ast.AnnAssign) and any(
                isinstance(t, ast.Name) and t.id in ("HTTP_CODES", "OTHER_HTTP_CODE")
                for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
            ):
                for constant in ast.walk(node.value) if node.value else ():
                    if isinstance(constant, ast.Constant) and isinstance(constant.value, str):
                        add(constant.value, where)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == "code"
                and isinstance(node.value, ast.Constant)
            ):
                add(node.value.value, where)
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant | ast.Tuple):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    values = node.value.elts if isinstance(node.value, ast.Tuple) else [node.value]
                    for t, v in zip(names, values, strict=False):
                        if isinstance(t, ast.Name) and t.id == "code" and isinstance(v, ast.Constant):
                            add(v.value, where)
    return found


def test_every_code_in_the_source_is_registered():
    used = _codes_in_source()
    assert len(used) > 30, sorted(used)  # the scan sees the codes
    missing = {code: places for code, places in used.items() if code not in ERRORS}
    assert missing == {}


def test_every_registered_code_is_used():
    used = set(_codes_in_source())
    assert set(ERRORS) - used == set()


def _subclasses(cls: type[AppError]) -> list[type[AppError]]:
    return [cls, *[s for sub in cls.__subclasses__() for s in _subclasses(sub)]]


def test_each_error_class_has_its_registered_status():
    import sync_server.services.accounts
    import sync_server.services.exports
    import sync_server.services.ingest  # noqa: F401 - defines AppError subclasses

    for cls in _subclasses(AppError):
        assert ERRORS[cls.code].status == cls.status, cls


def test_a_code_given_at_raise_time_takes_its_registered_status():
    error = errors.Unprocessable("x", code="unknown_site")
    assert error.status == 404
    assert errors.AppError("x", code="last_admin").status == 409


def test_the_docs_table_is_the_registry():
    text = (ROOT / "docs/server.md").read_text()
    table = re.search(r"<!-- error-codes:begin -->\n(.*?)<!-- error-codes:end -->", text, re.S)
    assert table is not None, "docs/server.md lost its error-codes markers"
    assert table.group(1) == markdown_table(), "regenerate: uv run python -m sync_server.error_codes"
