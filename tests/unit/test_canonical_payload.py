"""The server's fast canonical JSON (orjson) is the domain's canonical JSON byte for byte: same text, same
sha256, for any JSON value pydantic's JSON mode can produce (str keys, finite floats, any text, deep nesting),
the values where orjson's own text differs (tiny floats) and those it refuses (integers beyond 64 bits)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.domain.instrument import canonical_sha256
from sync_server.services.ingest import canonical_payload
from tests.integration.server.factories import make_submission

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.floats(min_value=-1e-3, max_value=1e-3, allow_nan=False)
    | st.text(st.characters(codec="utf-8"))  # any character but lone surrogates (not UTF-8)
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=40,
)


def _domain_text(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _VALUES, max_size=6))
def test_the_fast_canonical_text_is_the_domains(value: dict[str, Any]) -> None:
    blob, sha = canonical_payload(value)
    assert blob == _domain_text(value)
    assert sha == canonical_sha256(value)


def test_the_values_where_orjson_writes_otherwise_take_the_domains_text() -> None:
    for tricky in (1e-5, -2.5e-7, 9.99e-5, 1e-9, 2**64, -(2**65), "0.00001", "1e-7"):
        value = {"x": tricky, "y": [tricky, {"z": tricky}]}
        assert canonical_payload(value) == (_domain_text(value), canonical_sha256(value))


def test_a_real_submission_is_hashed_as_the_domain_hashes_it() -> None:
    sub = make_submission(voice_items=range(1, 7), confirmed_items=[1, 3])
    blob, sha = canonical_payload(sub.canonical_json())
    assert sha == sub.content_sha256()
    assert json.loads(blob) == sub.canonical_json()
