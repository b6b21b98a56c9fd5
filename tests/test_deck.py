"""The deck as Anki's own backend reads it: counts, decks, tags, ids and fields."""

from __future__ import annotations

from pathlib import Path

from anki_helpers import card_for, import_apkg, open_collection
from conftest import Project
from deckgen.anki import FIELDS, MODEL_ID, note_guid
from deckgen.source import load_guide


def test_every_entry_is_one_card_in_its_categorys_subdeck(built: Project, tmp_path: Path) -> None:
    guide, _ = load_guide(built.source)
    col = open_collection(tmp_path / "anki")
    log = import_apkg(col, built.apkg())
    assert log == {"new": len(guide.entries), "updated": 0, "duplicate": 0, "conflicting": 0}
    assert col.note_count() == len(guide.entries)
    assert col.card_count() == len(guide.entries)
    assert len(guide.categories) == 15
    for category in guide.categories:
        deck = f"{guide.title}::{category.label}"
        cards = col.find_cards(f'"deck:{deck}"')
        assert len(cards) == len(category.entries) > 0, deck
        assert len(col.find_notes(f"tag:{category.slug}")) == len(category.entries)
    col.close()


def test_subdecks_follow_the_guides_order(built: Project, tmp_path: Path) -> None:
    guide, _ = load_guide(built.source)
    col = open_collection(tmp_path / "anki")
    import_apkg(col, built.apkg())
    names = sorted(d.name for d in col.decks.all_names_and_ids() if "::" in d.name)
    assert [n.split("::")[1][:2] for n in names] == [f"{i:02d}" for i in range(1, 16)]
    assert names[0] == f"{guide.title}::01 Transformer Architecture"
    col.close()


def test_notes_carry_the_entry_id_guid_and_the_constant_note_type(
    built: Project, tmp_path: Path
) -> None:
    guide, _ = load_guide(built.source)
    col = open_collection(tmp_path / "anki")
    import_apkg(col, built.apkg())
    by_guid = {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}
    for entry in guide.entries:
        # With no lock file (this copy has none), an entry that lists former ids takes the note
        # of the first; the lock file, where there is one, keeps the note each entry had.
        note = by_guid[note_guid(entry.was[0] if entry.was else entry.id)]
        assert note["Id"] == entry.id
        note_type = note.note_type()
        assert note_type is not None
        assert note_type["id"] == MODEL_ID
        assert list(note.keys()) == list(FIELDS)
    col.close()


def test_cards_render_question_answer_and_math_for_mathjax(mini: Project, tmp_path: Path) -> None:
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    card = card_for(col, "softmax")
    question, answer = card.question(), card.answer()
    assert "What does softmax compute?" in question
    assert "01 Alpha Things" in question
    assert r"\[\mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}}\]" in answer
    assert "Vaswani (2017). <i>Attention Is All You Need</i>" in answer
    note_type = card.note_type()
    assert note_type is not None
    assert ".nightMode" in note_type["css"]
    col.close()


def test_guid_depends_on_the_id_only() -> None:
    assert note_guid("kv-cache") == note_guid("kv-cache")
    assert note_guid("kv-cache") != note_guid("kv-caches")
