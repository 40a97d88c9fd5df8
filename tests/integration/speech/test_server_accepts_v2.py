"""The server (real PostgreSQL, the app over ASGI) stores a 2.0 payload with its voice details beside 1.0
payloads from older kiosks, and refuses voice details under 1.0."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import select

from sync_server.models import StoredSubmission
from tests.integration.server.conftest import *  # noqa: F403 - the server fixtures (app, client, accounts...)
from tests.integration.server.factories import bearer
from tests.unit.voice.test_submission_v2 import voice_session

pytestmark = [pytest.mark.anyio, pytest.mark.postgres]


def v2_payload() -> dict:
    from kiosk.domain.submission import build_submission

    session, clock = voice_session()
    return build_submission(
        session, device_id="kiosk-voice", app_version="0.2.0", frozen_at=clock.tick()
    ).canonical_json()


def as_v1(data: dict) -> dict:
    v1 = json.loads(json.dumps(data))
    v1["schema_version"] = "1.0"
    v1["submission_id"] = str(uuid.uuid4())
    for a in v1["answers"]:
        a.pop("voice")
        for p in a["previous"]:
            p.pop("voice")
    return v1


async def test_v2_with_voice_and_v1_are_both_stored(client, accounts) -> None:
    device = accounts.device("SITE-A")[0]
    v2 = v2_payload()
    first = await client.post("/v1/submissions", json=v2, headers=bearer(device))
    assert first.status_code == 201, first.text
    again = await client.post("/v1/submissions", json=v2, headers=bearer(device))
    assert again.status_code == 200 and again.json()["status"] == "already_received", again.text
    v1 = as_v1(v2)
    old = await client.post("/v1/submissions", json=v1, headers=bearer(device))
    assert old.status_code == 201, old.text
    bad = json.loads(json.dumps(v2))
    bad["schema_version"] = "1.0"
    bad["submission_id"] = str(uuid.uuid4())
    refused = await client.post("/v1/submissions", json=bad, headers=bearer(device))
    assert refused.status_code == 422 and "voice details need schema_version 2.0" in refused.text
    with accounts.session() as db:
        rows = {str(r.submission_id): r.payload for r in db.scalars(select(StoredSubmission))}
    stored_v2 = rows[v2["submission_id"]]
    stored_v2 = json.loads(stored_v2) if isinstance(stored_v2, str) else stored_v2
    voice = stored_v2["answers"][1]["voice"]
    assert voice["confirmation"] == "voice" and voice["attempts"] == 2
    assert [a["transcript"] for a in voice["alternatives"]] == ["un peu", "un peut", "impeu"]
    assert voice["recogniser"] == {"engine": "google-speech-v1", "model": "latest_short", "language": "fr-FR"}
    stored_v1 = rows[v1["submission_id"]]
    stored_v1 = json.loads(stored_v1) if isinstance(stored_v1, str) else stored_v1
    assert stored_v1["schema_version"] == "1.0" and "voice" not in stored_v1["answers"][0]
