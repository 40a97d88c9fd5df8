"""The instrument as data: loading, validation messages, identity by content hash."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import ValidationError

from kiosk.domain.instrument import (
    InstrumentError,
    available_instruments,
    canonical_sha256,
    load_instrument,
    load_instrument_file,
    parse_instrument,
)
from kiosk.domain.resources import instruments_dir

FR = instruments_dir() / "qlq-c30.fr.toml"


def raw_fr() -> dict:
    return tomllib.loads(FR.read_text(encoding="utf-8"))


def test_french_instrument_has_thirty_items_on_two_scales() -> None:
    inst = load_instrument("qlq-c30", "fr")
    assert inst.item_numbers == tuple(range(1, 31))
    assert {inst.scale_of(n).size for n in range(1, 29)} == {4}
    assert {inst.scale_of(n).size for n in (29, 30)} == {7}
    assert inst.scale_of(1).labels == {1: "Pas du tout", 2: "Un peu", 3: "Assez", 4: "Beaucoup"}
    assert inst.scale_of(29).labels == {1: "Très mauvais", 7: "Excellent"}
    assert inst.section_of(5).header == ""
    assert inst.section_of(6).header == "Au cours de la semaine passée :"
    assert "entre 1 et 7" in inst.section_of(29).instruction
    assert inst.progress_text(5) == "Question 5 sur 30"
    assert inst.info.verification == "unverified-transcription"


def test_no_prototype_label_plutot() -> None:
    inst = load_instrument("qlq-c30", "fr")
    assert "Plutôt" not in inst.scale_of(1).labels.values()


def test_spoken_text_never_has_inclusive_forms_and_display_keeps_them() -> None:
    inst = load_instrument("qlq-c30", "fr")
    assert "(e)" in inst.item(4).text
    for item in inst.items:
        assert "(e)" not in item.spoken_text, item.number
    assert inst.item(4).spoken_text.startswith("Êtes-vous obligé de")


def test_every_language_of_an_instrument_shares_structure_and_scoring() -> None:
    files = available_instruments()
    assert ("qlq-c30", "fr") in files and ("qlq-c30", "en") in files
    fr, en = load_instrument("qlq-c30", "fr"), load_instrument("qlq-c30", "en")
    assert fr.scoring == en.scoring
    assert [(i.number, i.scale, i.section) for i in fr.items] == [(i.number, i.scale, i.section) for i in en.items]
    assert fr.content_sha256 != en.content_sha256


def test_content_hash_is_of_the_canonical_content_not_the_formatting(tmp_path: Path) -> None:
    original = load_instrument_file(FR)
    reformatted = tmp_path / "qlq-c30.fr.toml"
    # Comments and blank lines do not change the content; wording does.
    text = FR.read_text(encoding="utf-8")
    reformatted.write_text("# another comment\n\n" + text.replace("\n\n", "\n\n\n"), encoding="utf-8")
    assert load_instrument_file(reformatted).content_sha256 == original.content_sha256
    reformatted.write_text(text.replace("longue promenade", "grande promenade"), encoding="utf-8")
    assert load_instrument_file(reformatted).content_sha256 != original.content_sha256
    assert original.content_sha256 == canonical_sha256(raw_fr())


def test_instrument_is_immutable() -> None:
    inst = load_instrument()
    with pytest.raises(ValidationError, match="frozen_instance"):
        inst.content_sha256 = "0" * 64  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen_instance"):
        inst.items[0].text = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["items"][11].update(scale="likert5"), "item 12, field 'scale': unknown response scale 'likert5'"),
        (lambda d: d["items"][11].pop("text"), "item 12 (entry 12 of [[items]]), field 'text': Field required"),
        (lambda d: d["items"][3].update(spoken="Êtes-vous obligé(e) ?"), "item 4 (entry 4 of [[items]])"),
        (lambda d: d["items"][2].update(number=7), "field 'number': items must be numbered 1..30"),
        (lambda d: d["items"][0].update(section="nowhere"), "item 1, field 'section': unknown section 'nowhere'"),
        (lambda d: d["response_scales"][0]["labels"].pop("3"), "response_scales 'likert4' (entry 1)"),
        (
            lambda d: d["scoring"]["scales"][1]["items"].append(31),
            "scoring scale 'PF2', field 'items': unknown item 31",
        ),
        (
            lambda d: d["scoring"]["scales"][0]["items"].append(1),
            "scoring scale 'QL2', field 'items': items use different answer ranges",
        ),
        (
            lambda d: d["scoring"]["summary_components"].append("XX"),
            "scoring, field 'summary_components': unknown scale 'XX'",
        ),
        (lambda d: d["instrument"].pop("language"), "[instrument], field 'language': Field required"),
        (lambda d: d["text"].update(progress="Question {number}"), "[text], field 'progress'"),
        (lambda d: d["items"][5].update(unexpected="x"), "item 6 (entry 6 of [[items]]), field 'unexpected'"),
    ],
)
def test_malformed_file_names_the_file_item_and_field(mutate, expected) -> None:
    raw = raw_fr()
    mutate(raw)
    with pytest.raises(InstrumentError) as err:
        parse_instrument(raw, "some/dir/qlq-c30.fr.toml")
    assert "some/dir/qlq-c30.fr.toml" in str(err.value)
    assert expected in str(err.value)


def test_unreadable_or_invalid_toml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.fr.toml"
    bad.write_text("[instrument\nid=", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"x\.fr\.toml: not valid TOML"):
        load_instrument_file(bad)
    with pytest.raises(InstrumentError, match="cannot read"):
        load_instrument_file(tmp_path / "missing.fr.toml")
    binary = tmp_path / "bin.fr.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InstrumentError, match="not UTF-8"):
        load_instrument_file(binary)


def test_new_language_is_a_new_file_not_new_code(tmp_path: Path) -> None:
    text = FR.read_text(encoding="utf-8").replace('language = "fr"', 'language = "de"')
    (tmp_path / "qlq-c30.de.toml").write_text(text, encoding="utf-8")
    inst = load_instrument("qlq-c30", "de", directory=tmp_path)
    assert inst.language == "de" and inst.item_count == 30


def test_unknown_instrument_lists_what_is_available(tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match=r"available: qlq-c30/en, qlq-c30/fr"):
        load_instrument("qlq-c30", "xx")


def test_file_name_must_match_its_content(tmp_path: Path) -> None:
    (tmp_path / "qlq-c30.it.toml").write_text(FR.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(InstrumentError, match="file name says qlq-c30/it"):
        load_instrument("qlq-c30", "it", directory=tmp_path)
