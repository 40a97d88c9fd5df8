"""Anything ingest stores can be exported in every format, shown, anonymized and deleted (property-based).

Hypothesis generates schema-valid but extreme submissions and posts each on the production path (the app's
lifespan running, so ``POST /v1/submissions`` takes the async ingest pool, as under uvicorn). Two families:

- *plausible extremes*, which the rules should accept: the whole session moved anywhere between 2000-01-01
  and now, every time written in any real UTC offset (±14:00), patients 18 to 120 years old, initials in any
  script, every text field as long as allowed and made of every Unicode category a text may hold (letters of
  all scripts, marks, digits, symbols and emoji, punctuation, spaces, format characters; spreadsheet formula
  starters ``= + - @`` tab and CR too), confidences at the float limits;
- *hostile* ones: one to three leaves of the payload replaced by dates and times at the limits of their types
  and offsets (``0001-01-01T00:00:00+23:59``, ``9999-12-31T23:59:59.999999-23:59``), floats at their limits
  (``Infinity``, ``NaN``, ``1e308``, ``5e-324``), huge integers, text with every Unicode category (controls,
  surrogates, private use, unassigned and bidi overrides included) up to the field's length, nulls.

Each is refused with a 4xx, or stored (201) and then survives, in order: every export format read to its end
(csv-wide with birth dates, csv-long, sav, fhir), GDPR show, anonymize, every export again, delete.

``QLQ_PROPERTY_EXAMPLES`` sets the number of examples (default 500, the CI figure); e.g.
``QLQ_PROPERTY_EXAMPLES=5000 uv run --frozen pytest tests/integration/server/test_property_ingest.py``.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import AsyncExitStack
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.domain.patient import age_on, initials_are_valid
from kiosk.domain.plausibility import text_is_clean
from tests.integration.server.factories import bearer, make_submission

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

EXAMPLES = int(os.environ.get("QLQ_PROPERTY_EXAMPLES", "500"))
FORMATS = ("csv-wide", "csv-long", "sav", "fhir")
MAX_LENGTH = {
    "initials": 12,
    "transcript": 1000,
    "abandon_reason": 200,
    "reason": 200,
    "device_id": 128,
    "app_version": 64,
    "id": 64,
    "version": 32,
    "language": 8,
}
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
CLEAN_CHARACTERS = st.characters(exclude_categories=["Cc", "Cs", "Co", "Cn"], exclude_characters=_BIDI)
ANY_CHARACTERS = st.one_of(
    st.characters(), st.characters(categories=["Cs", "Co", "Cn", "Cc"]), st.sampled_from(_BIDI + "\x00\t\r\n\ufeff")
)
# spreadsheet formula starters; tab and CR are controls, which no stored text may hold (hostile ones try them)
FORMULAS = st.sampled_from(
    [
        '=HYPERLINK("http://example.invalid","x")',
        "+1+cmd|' /C calc'!A0",
        "@SUM(1+1)",
        "-2+3",
        "=",
        "-",
        "+",
        "@",
        "=1+1",
        "- 3",
    ]
)
CONTROL_FORMULAS = st.sampled_from(["\t=1", "\r=1", "\n=1"])
EXTREME_TIMES = st.sampled_from(
    [
        "0001-01-01T00:00:00+23:59",
        "0001-01-01T00:00:00-23:59",
        "9999-12-31T23:59:59.999999-23:59",
        "9999-12-31T23:59:59.999999+23:59",
        "1970-01-01T00:00:00Z",
        "2999-01-01T00:00:00Z",
        "1999-12-31T23:59:59Z",
        "2000-01-01T00:00:00+14:01",
        "2038-01-19T03:14:08Z",
    ]
)
EXTREME_DATES = st.sampled_from(
    ["0001-01-01", "9999-12-31", "0100-06-01", "1849-12-31", "2999-01-01", "1900-01-01", "2000-01-01"]
)
EXTREME_NUMBERS = st.sampled_from(
    [
        float("inf"),
        float("-inf"),
        float("nan"),
        1e308,
        -1e308,
        5e-324,
        -0.0,
        "Infinity",
        "-Infinity",
        "NaN",
        "1e999",
        10**30,
        -(10**30),
        2**63,
        2**31,
    ]
)


def _offsets() -> st.SearchStrategy[timezone]:
    return st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, (*path, index))
    else:
        yield path, value


def _set(data: Any, path: tuple[Any, ...], value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def _is_time(value: Any) -> bool:
    return isinstance(value, str) and len(value) >= 20 and value[4] == "-" and value[10] == "T"


@st.composite
def plausible(draw: st.DrawFn) -> dict[str, Any]:
    """A submission the rules should accept, at the edges of what they allow."""
    voice = draw(st.booleans())
    abandon_after = draw(st.sampled_from([None, None, 1, 15, 29]))
    base = make_submission(
        voice_items=range(1, 31) if voice else (),
        confirmed_items=range(1, 31, 2),
        abandon_after=abandon_after,
        outcome="completed" if abandon_after is None else "abandoned",
    )
    data = base.model_dump(mode="json")
    data["submission_id"] = str(draw(st.uuids()))
    # move the whole session to any instant from 2000-01-01 to now (same durations, same order)
    started = datetime.fromisoformat(data["session"]["started_at"])
    frozen = datetime.fromisoformat(data["frozen_at"])
    earliest = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(days=1)
    target = draw(
        st.datetimes(
            min_value=earliest.replace(tzinfo=None),
            max_value=(datetime.now(UTC) - (frozen - started) - timedelta(minutes=1)).replace(tzinfo=None),
        )
    ).replace(tzinfo=UTC)
    shift = target - started
    for path, value in list(_leaves(data)):
        if _is_time(value):
            moved = datetime.fromisoformat(value) + shift
            _set(data, path, moved.astimezone(draw(_offsets())).isoformat())
    session_date = target.date()
    data["session"]["session_date"] = session_date.isoformat()
    age = draw(st.integers(18, 120))
    birth = draw(
        st.dates(
            min_value=date(session_date.year - age - 1, 1, 1), max_value=date(session_date.year - age, 12, 31)
        ).filter(lambda b: b < session_date and 18 <= age_on(b, session_date) <= 120)
    )
    data["patient"]["birth_date"] = birth.isoformat()
    data["patient"]["age_at_session"] = age_on(birth, session_date)
    letters = draw(st.lists(st.characters(categories=["Lu", "Ll", "Lt", "Lo"]), min_size=1, max_size=4))
    separators = draw(st.lists(st.sampled_from(["", " ", "-", ".", "'", ". "]), min_size=4, max_size=4))
    initials = "".join(c + s for c, s in zip(letters, separators, strict=False)).strip().upper()
    data["patient"]["initials"] = initials if initials_are_valid(initials) else "Q-Z"

    def text(field: str) -> str:
        body = draw(st.text(CLEAN_CHARACTERS, max_size=MAX_LENGTH[field]))
        if draw(st.booleans()):
            body = (draw(FORMULAS) + body)[: MAX_LENGTH[field]]
        if draw(st.booleans()):  # the longest allowed
            body = body + draw(st.text(CLEAN_CHARACTERS, min_size=1, max_size=8)) * MAX_LENGTH[field]
            body = body[: MAX_LENGTH[field]]
        return body

    for answer in data["answers"]:
        if draw(st.integers(0, 4)) == 0:
            answer["transcript"] = text("transcript")
            answer["confidence"] = draw(st.sampled_from([0.0, 1.0, 5e-324, 0.5, 1 - 2**-53]))
    if data["outcome"] == "abandoned" and draw(st.booleans()):
        data["abandon_reason"] = text("abandon_reason")
    data["device"]["device_id"] = text("device_id") or "k"
    data["device"]["app_version"] = text("app_version") or "1"
    return data


@st.composite
def hostile(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible submission with one to three leaves replaced by values at the limits of their types."""
    data = draw(plausible())
    leaves = [path for path, _ in _leaves(data) if path != ("submission_id",)]
    for path in draw(st.lists(st.sampled_from(leaves), min_size=1, max_size=3, unique=True)):
        current = dict(_leaves(data)).get(path)
        field = str(path[-1])
        if _is_time(current):
            value: Any = draw(st.one_of(EXTREME_TIMES, st.datetimes(timezones=_offsets()).map(lambda d: d.isoformat())))
        elif isinstance(current, str) and len(current) == 10 and current[4] == "-":
            value = draw(st.one_of(EXTREME_DATES, st.dates().map(date.isoformat)))
        elif isinstance(current, int | float) and not isinstance(current, bool):
            value = draw(st.one_of(EXTREME_NUMBERS, st.floats(), st.integers()))
        elif isinstance(current, str) or current is None:
            limit = MAX_LENGTH.get(field, 64)
            value = draw(
                st.one_of(
                    st.text(ANY_CHARACTERS, max_size=limit),
                    FORMULAS,
                    CONTROL_FORMULAS,
                    st.none(),
                    st.text(ANY_CHARACTERS, min_size=limit, max_size=limit),
                )
            )
        else:
            value = draw(st.one_of(st.none(), st.booleans(), st.just([]), st.just({})))
        _set(data, path, value)
    return data


class Production:
    """The app with its lifespan running (the ingest pool open) on an event loop of its own, called
    synchronously (hypothesis examples are plain functions). App exceptions are raised, not turned into 500s."""

    def __init__(self, app: Any, tokens: dict[str, str]) -> None:
        self.app = app
        self.tokens = tokens
        self.loop = asyncio.new_event_loop()
        self.stack = AsyncExitStack()
        self.client: httpx.AsyncClient = self.run(self._open())

    async def _open(self) -> httpx.AsyncClient:
        await self.stack.enter_async_context(self.app.router.lifespan_context(self.app))
        assert self.app.state.ingest_pool is not None
        return await self.stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://testserver")
        )

    def run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return self.loop.run_until_complete(coroutine)

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.run(self.client.request(method, url, **kwargs))

    def close(self) -> None:
        self.run(self.stack.aclose())
        self.loop.close()


@pytest.fixture
def production(app, accounts) -> Iterator[Production]:
    device, _ = accounts.device("SITE-A")
    harness = Production(
        app, {"device": device, "researcher": accounts.user_token("researcher"), "admin": accounts.user_token("admin")}
    )
    yield harness
    harness.close()


def _export_everything(client: Production, token: str, include_birth_date: bool) -> None:
    for fmt in FORMATS:
        response = client.request(
            "GET", f"/v1/exports/{fmt}", headers=bearer(token), params={"include_birth_date": include_birth_date}
        )  # read to its end
        assert response.status_code == 200, (fmt, response.status_code, response.text[:300])
        if fmt.startswith("csv"):
            rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
            assert len(rows) >= 2, fmt
        elif fmt == "fhir":
            assert json.loads(response.content)["resourceType"] == "Bundle"
        else:
            assert response.content[:4] == b"$FL2", "not an SPSS system file"


def _survives_everything(client: Production, data: Any) -> str:
    tokens = client.tokens
    response = client.request(
        "POST",
        "/v1/submissions",
        content=json.dumps(data, allow_nan=True),
        headers={**bearer(tokens["device"]), "Content-Type": "application/json"},
    )
    assert response.status_code < 500, response.text[:500]
    if response.status_code != 201:
        assert 400 <= response.status_code < 500, response.status_code
        assert response.json()["error"]["code"]
        return "refused"
    submission_id = uuid.UUID(data["submission_id"])
    _export_everything(client, tokens["researcher"], include_birth_date=True)
    admin = bearer(tokens["admin"])
    shown = client.request("GET", f"/v1/admin/sessions/{submission_id}", headers=admin)
    assert shown.status_code == 200, shown.text[:300]
    anonymized = client.request("POST", f"/v1/admin/sessions/{submission_id}:anonymize", headers=admin)
    assert anonymized.status_code == 200, anonymized.text[:300]
    _export_everything(client, tokens["researcher"], include_birth_date=False)
    deleted = client.request("DELETE", f"/v1/admin/sessions/{submission_id}", headers=admin)
    assert deleted.status_code == 204, deleted.text[:300]
    return "stored"


OUTCOMES: dict[str, int] = {"stored": 0, "refused": 0}


@given(data=st.one_of(plausible(), hostile()))
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
def test_refused_with_a_4xx_or_survives_every_export_and_gdpr_action(production, data):
    OUTCOMES[_survives_everything(production, data)] += 1


def test_the_property_run_stored_a_good_share(production):
    """Not vacuous: run after the property test, a good share of its examples was stored and went through it all
    (when the property test ran in this process)."""
    total = sum(OUTCOMES.values())
    print(f"property run: {OUTCOMES}")
    if total == 0:
        pytest.skip("the property test did not run in this process")
    assert OUTCOMES["stored"] >= total // 4, OUTCOMES
    assert OUTCOMES["refused"] >= total // 10, OUTCOMES


def test_generated_clean_text_is_clean():
    @given(st.text(CLEAN_CHARACTERS))
    @settings(max_examples=200, deadline=None)
    def check(text: str) -> None:
        assert text_is_clean(text)

    check()
