"""FHIR R4B export: parse the streamed Bundle back with the fhir.resources models and check each resource."""

from __future__ import annotations

import io
import json
import uuid

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse, QuestionnaireResponseItem
from fhirclient.models.bundle import Bundle as R4Bundle
from fhirclient.models.fhirabstractbase import FHIRValidationError

from sync_server.exports import write_export
from sync_server.exports.fhir import (
    ANSWER_METHOD_URL,
    SUBMISSION_ID_SYSTEM,
    build_response,
    questionnaire_url,
)
from tests.unit.server_exports.builders import (
    BIRTH,
    INITIALS,
    abandoned_early,
    all_submissions,
    fr,
    partially_missing,
    record,
    voice_with_changes,
)


def export_bundle(records: list, **options: bool) -> tuple[bytes, Bundle]:
    out = io.BytesIO()
    count = write_export("fhir", records, out, instrument=fr(), **options)
    raw = out.getvalue()
    bundle = Bundle.model_validate_json(raw)
    assert count == len(bundle.entry or []) - 1
    return raw, bundle


def _number(item: QuestionnaireResponseItem) -> int:
    """The item number of a response item: its linkId is ``q<number>``."""
    assert item.linkId is not None
    return int(item.linkId[1:])


def _code(item: QuestionnaireResponseItem) -> int:
    """The answer's code, as a number (the scale value)."""
    assert item.answer
    coding = item.answer[0].valueCoding
    assert coding is not None and coding.code is not None
    return int(coding.code)


def test_bundle_is_a_collection_with_the_questionnaire_first() -> None:
    _, bundle = export_bundle([record(s) for s in all_submissions()])
    assert bundle.type == "collection" and bundle.timestamp is not None
    entries = bundle.entry or []
    assert [type(e.resource) for e in entries] == [Questionnaire] + [QuestionnaireResponse] * 4
    inst = fr()
    q = entries[0].resource
    assert q.url == questionnaire_url("qlq-c30", "3.0", "fr", inst.content_sha256) == entries[0].fullUrl
    assert inst.content_sha256 in q.url and q.version == "3.0" and q.status == "draft"
    assert [i.linkId for i in q.item] == [f"q{n}" for n in range(1, 31)]
    first, last = q.item[0], q.item[29]
    assert first.text == inst.item(1).text and first.type == "choice"
    assert [(o.valueCoding.code, o.valueCoding.display) for o in first.answerOption] == [
        ("1", "Pas du tout"),
        ("2", "Un peu"),
        ("3", "Assez"),
        ("4", "Beaucoup"),
    ]
    assert [o.valueCoding.display for o in last.answerOption] == ["Très mauvais", "2", "3", "4", "5", "6", "Excellent"]


def test_each_response_holds_the_stored_answers() -> None:
    subs = all_submissions()
    _, bundle = export_bundle([record(s) for s in subs])
    inst = fr()
    canonical = f"{questionnaire_url('qlq-c30', '3.0', 'fr', inst.content_sha256)}|3.0"
    for sub, entry in zip(subs, (bundle.entry or [])[1:], strict=True):
        qr = entry.resource
        assert isinstance(qr, QuestionnaireResponse)
        assert entry.fullUrl == f"urn:uuid:{sub.submission_id}" and qr.id == str(sub.submission_id)
        assert (qr.identifier.system, qr.identifier.value) == (SUBMISSION_ID_SYSTEM, str(sub.submission_id))
        assert qr.questionnaire == canonical and qr.subject is None
        assert qr.status == ("completed" if sub.outcome == "completed" else "stopped")
        assert qr.authored == sub.session.ended_at
        answered = {n: v for n, v in sub.answer_values().items() if v is not None}
        got = {_number(i): _code(i) for i in qr.item or []}
        assert got == answered
        for item in qr.item or []:
            assert item.text == inst.item(_number(item)).text
            value = _code(item)
            assert item.answer
            assert item.answer[0].valueCoding.display == (inst.scale_of(_number(item)).label(value) or str(value))


def test_methods_and_statuses() -> None:
    _, bundle = export_bundle([record(voice_with_changes()), record(abandoned_early()), record(partially_missing())])
    voice, early, partial = [e.resource for e in (bundle.entry or [])[1:]]
    methods = {i.linkId: i.answer[0].extension[0] for i in voice.item}
    assert methods["q1"].url == ANSWER_METHOD_URL and methods["q1"].valueCode == "voice"
    assert methods["q2"].valueCode == "touch"
    assert "q9" not in methods  # "je ne sais pas": no answer, item left out
    assert early.status == "stopped" and [i.linkId for i in early.item] == ["q1", "q2", "q3", "q4"]
    assert partial.status == "completed" and {"q3", "q12"}.isdisjoint(i.linkId for i in partial.item)


def test_no_patient_data_even_when_birth_date_is_asked() -> None:
    raw, _ = export_bundle([record(s) for s in all_submissions()], include_birth_date=True)
    assert INITIALS.encode() not in raw and BIRTH.isoformat().encode() not in raw
    assert b'"subject"' not in raw


def test_a_response_of_another_file_has_codes_without_display() -> None:
    sub = voice_with_changes()
    other = sub.model_copy(update={"instrument": sub.instrument.model_copy(update={"content_sha256": "ab" * 32})})
    _, bundle = export_bundle([record(other, source="legacy-prototype", legacy_id="L-1")])
    qr = (bundle.entry or [])[1].resource
    assert "ab" * 32 in qr.questionnaire
    assert all(i.text is None and i.answer[0].valueCoding.display is None for i in qr.item)
    assert {(t.code) for t in qr.meta.tag} == {"legacy-prototype", "CHU-LYON"}


def test_streamed_json_equals_the_validated_model() -> None:
    sub = voice_with_changes()
    raw, _ = export_bundle([record(sub)])
    streamed = json.loads(raw)["entry"][1]["resource"]
    model = build_response(record(sub), fr())
    assert streamed == json.loads(model.model_dump_json(exclude_none=True))


def test_the_bundle_is_valid_fhir_r4_as_well() -> None:
    """fhir.resources has R4B (4.3.0) models, not R4 (4.0.1): the same bytes are parsed by the R4 models of
    SMART on FHIR's ``fhirclient``, strictly (every element known to R4 and of its R4 type, required ones present),
    so the "unchanged between R4 and R4B" claim of ``exports/fhir.py`` is checked, not assumed."""
    sub = voice_with_changes()
    legacy = sub.model_copy(
        update={
            "submission_id": uuid.uuid4(),
            "instrument": sub.instrument.model_copy(update={"content_sha256": "ab" * 32}),
        }
    )
    records = [record(s) for s in all_submissions()] + [record(legacy, source="legacy-prototype", legacy_id="L-9")]
    raw, bundle = export_bundle(records)
    assert len({entry.fullUrl for entry in bundle.entry or []}) == len(records) + 1
    parsed = R4Bundle(json.loads(raw), strict=True)
    kinds = [entry.resource.resource_type for entry in parsed.entry]
    assert kinds == ["Questionnaire"] + ["QuestionnaireResponse"] * (len(kinds) - 1)
    assert len(parsed.entry) == len(bundle.entry or [])
    # the check can fail: an element R4 does not define, or one of the wrong type, is refused
    damaged = json.loads(raw)
    damaged["entry"][1]["resource"]["item"][0]["answer"][0]["valueFrobnicate"] = 1
    with pytest.raises(FHIRValidationError, match="valueFrobnicate"):
        R4Bundle(damaged, strict=True)
    damaged = json.loads(raw)
    damaged["entry"][0]["resource"]["item"] = "not a list"
    with pytest.raises(FHIRValidationError):
        R4Bundle(damaged, strict=True)
