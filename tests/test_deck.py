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


def test_note_rows_are_the_rows_genanki_itself_writes() -> None:
    """deckgen writes each note's row as genanki's Note.write_to_db does (without a Note object
    per note): the same database, byte for byte, as genanki's own notes give."""
    import itertools
    import sqlite3
    from typing import Any

    import genanki

    from deckgen.anki import _Deck, _StampedModel

    class StampedNote(genanki.Note):  # type: ignore[misc]
        def __init__(self, mod: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.mod = mod

        def write_to_db(self, cursor: Any, timestamp: float, deck_id: int, id_gen: Any) -> None:
            super().write_to_db(cursor, self.mod, deck_id, id_gen)

    model = _StampedModel(1_700_000_500, model_id=MODEL_ID, name="m",
                          fields=[{"name": name} for name in FIELDS],
                          templates=[{"name": "Q", "qfmt": "{{Question}}", "afmt": "{{Answer}}"}])
    rows = [(1_700_000_000 + i, f"guid{i}", [f"q{i} &lt;b&gt;", f"<p>a{i}</p>", "g", "", f"id-{i}"],
             ["one", "two-tags"] if i % 2 else ["one"]) for i in range(40)]

    def database(decks: list[genanki.Deck]) -> bytes:
        conn = sqlite3.connect(":memory:")
        genanki.Package(decks).write_to_db(conn.cursor(), 1_700_000_500,
                                           itertools.count(1_700_000_500_000))
        conn.commit()
        return conn.serialize()

    ours = [_Deck(100 + d, f"T::{d}", "desc", model) for d in range(2)]
    theirs = [genanki.Deck(100 + d, f"T::{d}", "desc") for d in range(2)]
    for i, (mod, guid, fields, tags) in enumerate(rows):
        ours[i % 2].rows.append((mod, guid, fields, tags))
        theirs[i % 2].add_note(StampedNote(mod, model=model, fields=fields, tags=tags, guid=guid))
    assert database(ours) == database(theirs)
