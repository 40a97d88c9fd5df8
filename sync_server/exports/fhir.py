"""FHIR export: one JSON ``Bundle`` (type ``collection``) holding the instrument's ``Questionnaire`` and one
``QuestionnaireResponse`` per session.

FHIR version: **R4B (4.3.0)**, through ``fhir.resources.R4B``. fhir.resources 8 ships R5 as its default
models plus ``R4B`` and ``STU3`` subpackages; there is no plain R4 (4.0.1) package. Questionnaire,
QuestionnaireResponse and Bundle are unchanged between R4 and R4B for everything used here, and the tests check
it: the same bytes also parse strictly with the R4 (4.0.1) models of SMART on FHIR's ``fhirclient``
(``tests/unit/server_exports/test_fhir_export.py``), so the file is valid R4 and R4B.

The bundle is written as a stream: the opening (``{"resourceType":"Bundle",...,"entry":[``), then each entry
as soon as it is built, then ``]}``. The bundle header and the Questionnaire are built through their
fhir.resources models (validated once per export). The responses are built as plain JSON dicts:
``QuestionnaireResponse.model_validate`` costs about 14 ms per session (24 minutes for 100,000); the tests
parse whole exports back with ``Bundle.model_validate_json`` and check each resource, and
:func:`build_response` returns a validated model for anyone who wants one.

Content:
- the ``Questionnaire`` has linkIds ``q1``..``qN``, type ``choice``, answerOption codings in a code system per
  response scale; its ``url`` names the instrument id, version, language and content sha256; its status is
  ``draft`` while the instrument file is an unverified transcription;
- each ``QuestionnaireResponse`` has the submission id as ``id`` and ``identifier``, status ``completed`` (or
  ``stopped`` for an abandoned session), ``authored`` = session end (UTC), ``questionnaire`` = the canonical of
  the instrument file actually administered (for a legacy-prototype session that is its own marker, not the
  bundle's Questionnaire), one item per answered item with a ``valueCoding`` and an extension saying whether
  it was given by voice or touch. Skipped items are left out, as FHIR expects. No subject, no patient data:
  ``include_birth_date`` has no effect on this format. Source and site are ``meta.tag`` codings.
- answer ``display`` texts and item ``text`` are given only when the response used exactly the bundle's
  Questionnaire (same content hash): another file may word them differently.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, BinaryIO

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from kiosk.domain.instrument import Instrument, ResponseScale
from kiosk.domain.session import ItemStatus
from kiosk.domain.submission import InstrumentRef

from .records import ChunkedSink, ExportRecord, check_record, utc

FHIR_VERSION = "4.3.0"
BASE_URL = "https://kiosque-qlq-c30.invalid/fhir"
SUBMISSION_ID_SYSTEM = f"{BASE_URL}/NamingSystem/submission-id"
INSTRUMENT_SHA256_SYSTEM = f"{BASE_URL}/NamingSystem/instrument-sha256"
SOURCE_TAG_SYSTEM = f"{BASE_URL}/CodeSystem/source"
SITE_TAG_SYSTEM = f"{BASE_URL}/CodeSystem/site"
ANSWER_METHOD_URL = f"{BASE_URL}/StructureDefinition/answer-method"


def questionnaire_url(instrument_id: str, version: str, language: str, content_sha256: str) -> str:
    """Canonical URL of one instrument file: id, version, language and content hash."""
    return f"{BASE_URL}/Questionnaire/{instrument_id}/{version}/{language}/{content_sha256}"


def _ref_url(ref: InstrumentRef) -> str:
    return questionnaire_url(ref.id, ref.version, ref.language, ref.content_sha256)


def answer_system(instrument: Instrument, scale: ResponseScale) -> str:
    return f"{BASE_URL}/CodeSystem/{instrument.id}-{scale.id}"


def _coding(instrument: Instrument, scale: ResponseScale, value: int, *, display: bool) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": answer_system(instrument, scale), "code": str(value)}
    if display:
        coding["display"] = scale.label(value) or str(value)
    return coding


def build_questionnaire(instrument: Instrument) -> Questionnaire:
    """The instrument file as a FHIR Questionnaire."""
    info = instrument.info
    items = []
    for item in instrument.items:
        scale = instrument.response_scales[item.scale]
        items.append(
            {
                "linkId": f"q{item.number}",
                "prefix": str(item.number),
                "text": item.text,
                "type": "choice",
                "answerOption": [{"valueCoding": _coding(instrument, scale, v, display=True)} for v in scale.values],
            }
        )
    name = re.sub(r"[^A-Za-z0-9_]", "_", f"{info.id}_{info.language}").upper()
    data: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": f"{info.id}-{info.language}",
        "language": info.language,
        "url": questionnaire_url(info.id, info.version, info.language, instrument.content_sha256),
        "identifier": [{"system": INSTRUMENT_SHA256_SYSTEM, "value": instrument.content_sha256}],
        "version": info.version,
        "name": name if name[0].isalpha() else f"Q{name}",
        "title": info.title,
        "status": "active" if info.verification == "verified-licensed" else "draft",
        "subjectType": ["Patient"],
        "description": info.verification_note or info.title,
        "item": items,
    }
    if info.copyright:
        data["copyright"] = info.copyright
    return Questionnaire.model_validate(data)


def response_json(record: ExportRecord, instrument: Instrument) -> dict[str, Any]:
    """One session as a QuestionnaireResponse JSON object (answered items only; no patient data)."""
    check_record(record, instrument)
    sub = record.submission
    same_file = sub.instrument.content_sha256 == instrument.content_sha256
    items = []
    for answer in sub.answers:
        if answer.status is not ItemStatus.ANSWERED or answer.value is None:
            continue
        scale = instrument.scale_of(answer.item)
        entry: dict[str, Any] = {
            "linkId": f"q{answer.item}",
            "answer": [
                {
                    "valueCoding": _coding(instrument, scale, answer.value, display=same_file),
                    "extension": [{"url": ANSWER_METHOD_URL, "valueCode": answer.method.value}],
                }
            ],
        }
        if same_file:
            entry["text"] = instrument.item(answer.item).text
        items.append(entry)
    submission_id = str(sub.submission_id)
    data: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": submission_id,
        "meta": {
            "tag": [
                {"system": SOURCE_TAG_SYSTEM, "code": record.source},
                {"system": SITE_TAG_SYSTEM, "code": record.site_code},
            ]
        },
        "identifier": {"system": SUBMISSION_ID_SYSTEM, "value": submission_id},
        "questionnaire": f"{_ref_url(sub.instrument)}|{sub.instrument.version}",
        "status": "completed" if sub.outcome == "completed" else "stopped",
        "authored": utc(sub.session.ended_at).isoformat().replace("+00:00", "Z"),
    }
    if items:
        data["item"] = items
    return data


def build_response(record: ExportRecord, instrument: Instrument) -> QuestionnaireResponse:
    """:func:`response_json` as a validated fhir.resources model."""
    return QuestionnaireResponse.model_validate(response_json(record, instrument))


def _entry(full_url: str, resource: dict[str, Any]) -> bytes:
    return json.dumps({"fullUrl": full_url, "resource": resource}, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def write_fhir(
    records: Iterable[ExportRecord], out: BinaryIO, *, instrument: Instrument, include_birth_date: bool = False
) -> int:
    """Write the Bundle; returns the number of QuestionnaireResponse entries."""
    del include_birth_date  # FHIR output never carries patient data
    now = datetime.now(UTC).replace(microsecond=0)
    header = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "timestamp": now.isoformat()})
    opening = header.model_dump_json(exclude_none=True)
    assert opening.endswith("}")
    sink = ChunkedSink(out)
    sink.write(opening[:-1].encode("utf-8") + b',"entry":[')
    questionnaire = build_questionnaire(instrument)
    sink.write(_entry(str(questionnaire.url), json.loads(questionnaire.model_dump_json(exclude_none=True))))
    count = 0
    for record in records:
        response = response_json(record, instrument)
        sink.write(b"," + _entry(f"urn:uuid:{record.submission.submission_id}", response))
        count += 1
    sink.write(b"]}")
    sink.flush()
    return count
