"""The edit cycle as Anki sees it: import, review, edit, rebuild, re-import; nothing lost."""

from __future__ import annotations

from pathlib import Path

import pytest

from anki_helpers import import_apkg, open_collection, review_count
from conftest import Project
from deckgen.anki import note_guid
from deckgen.source import load_guide


def edit_answer(source: Path, old: str, new: str) -> None:
    """Change text inside one entry of the source, as a user would in an editor."""
    for path in source.glob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if old in text:
            assert text.count(old) == 1
            path.write_text(text.replace(old, new), encoding="utf-8")
            return
    raise AssertionError(f"{old!r} not in the source")


def test_edit_then_reimport_updates_one_note_and_keeps_every_review(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    assert project.build().exit_code == 0
    guide, _ = load_guide(project.source)
    total = len(guide.entries)
    col = open_collection(tmp_path / "anki")
    assert import_apkg(col, project.apkg()) == {
        "new": total, "updated": 0, "duplicate": 0, "conflicting": 0}

    reviewed = col.find_cards("")[:10]
    for cid in reviewed:
        card = col.get_card(cid)
        card.start_timer()
        col.sched.answerCard(card, 3)
    before = {col.get_note(n).guid: col.get_note(n).mod for n in col.find_notes("")}
    reviews_before = review_count(col)
    cards_before = {cid: (col.get_card(cid).type, col.get_card(cid).due) for cid in reviewed}
    assert reviews_before == 10

    target = guide.categories[2].entries[0]
    edit_answer(project.source, target.gist, target.gist + " (edited)")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767229200")
    result = project.build()
    assert result.exit_code == 0, result.output
    assert "1 new or changed" in result.output

    assert import_apkg(col, project.apkg()) == {
        "new": 0, "updated": 1, "duplicate": total - 1, "conflicting": 0}
    assert col.note_count() == total
    assert review_count(col) == reviews_before
    for cid, state in cards_before.items():
        assert (col.get_card(cid).type, col.get_card(cid).due) == state
    after = {col.get_note(n).guid: col.get_note(n) for n in col.find_notes("")}
    edited = after[note_guid(target.id)]
    assert edited["Gist"].endswith("(edited)")
    assert edited.mod == 1767229200
    unchanged = {g: n.mod for g, n in after.items() if g != note_guid(target.id)}
    assert unchanged == {g: m for g, m in before.items() if g != note_guid(target.id)}
    col.close()


def test_a_fix_made_inside_anki_survives_a_rebuild_of_other_notes(
    mini: Project, tmp_path: Path
) -> None:
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    (nid,) = col.find_notes('"Id:relu"')
    note = col.get_note(nid)
    note["Answer"] = "my own wording"
    col.update_note(note)
    edit_answer(mini.source, "Squashes to (-1, 1)", "Squashes into (-1, 1)")
    assert mini.build().exit_code == 0
    assert import_apkg(col, mini.apkg())["updated"] == 1
    assert col.get_note(nid)["Answer"] == "my own wording"
    col.close()


def test_rebuild_without_change_is_byte_identical(mini: Project) -> None:
    assert mini.build().exit_code == 0
    first = mini.apkg().read_bytes()
    lock = (mini.source / "deckgen.lock").read_bytes()
    assert mini.build().exit_code == 0
    assert mini.apkg().read_bytes() == first
    assert (mini.source / "deckgen.lock").read_bytes() == lock


def test_source_date_epoch_sets_the_time_of_changed_notes(
    mini: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    assert {col.get_note(n).mod for n in col.find_notes("")} == {1700000000}
    col.close()


def test_an_edit_is_newer_even_when_the_clock_stands_still(
    mini: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    edit_answer(mini.source, "Zero for negative inputs", "Zero for negative input")
    assert mini.build().exit_code == 0
    assert import_apkg(col, mini.apkg()) == {
        "new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    col.close()


def test_a_template_change_updates_the_note_type_without_conflicts(
    mini: Project, tmp_path: Path
) -> None:
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    css = mini.templates / "anki" / "card.css"
    css.write_text(css.read_text() + "\n.question { color: teal; }\n")
    assert mini.build().exit_code == 0
    log = import_apkg(col, mini.apkg())
    assert log["conflicting"] == 0 and log["new"] == 0
    (nid,) = col.find_notes('"Id:relu"')
    note_type = col.get_note(nid).note_type()
    assert note_type is not None
    assert "color: teal" in note_type["css"]
    col.close()
