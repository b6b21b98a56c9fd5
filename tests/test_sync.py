"""Every kind of edit, through File > Import and through `deckgen sync`, with Anki's own backend.

Each test starts from the same world: the mini project built, its deck imported into a
collection, every card reviewed once and an in-Anki fix made to the note `softmax`. Then it makes
one edit of the issue's table, rebuilds, and either imports the deck as File > Import does or runs
`deckgen sync`; the import log or the sync summary is checked exactly.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from anki_helpers import import_apkg, open_collection, review_count
from conftest import FIXTURES, Project, copy_project
from deckgen.anki import MODEL_ID
from deckgen.cli import main
from test_cycle import edit_answer

FIX = "my own wording, fixed in Anki"
# The base build is in the past and every later build in the future, as in real life the fix
# made in Anki falls between them: a note restamped by mistake would overwrite the fix.
EPOCH = "1700000000"
LATER = "1900000000"


@dataclass
class World:
    """A built project and a collection that imported its deck, reviewed it and fixed a note."""

    project: Project
    anki: Path

    @property
    def collection(self) -> Path:
        return self.anki / "collection.anki2"

    def sync(self, *extra: str) -> Result:
        p = self.project
        return CliRunner().invoke(main, [
            "sync", "--source", str(p.source), "--out", str(p.out), "--templates",
            str(p.templates), "--collection", str(self.collection), *extra])

    def file_import(self) -> dict[str, int]:
        col = open_collection(self.anki)
        try:
            return import_apkg(col, self.project.apkg())
        finally:
            col.close()

    def state(self) -> State:
        col = open_collection(self.anki)
        try:
            return State.of(col)
        finally:
            col.close()


@dataclass(frozen=True)
class State:
    """What a collection holds, as far as these tests look."""

    decks: dict[str, str]  # entry id -> deck of its card(s)
    note_ids: dict[str, int]  # entry id -> note id
    card_ids: dict[str, tuple[int, ...]]
    tags: dict[str, tuple[str, ...]]
    deck_names: frozenset[str]
    reviews: int
    notes: int
    fix: str
    revlog: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, col: object) -> State:
        from anki.collection import Collection

        assert isinstance(col, Collection) and col.db is not None
        decks, note_ids, card_ids, tags = {}, {}, {}, {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            entry = note["Id"]
            names = {col.decks.name(c.did) for c in note.cards()}
            decks[entry] = ",".join(sorted(names))
            note_ids[entry] = int(nid)
            card_ids[entry] = tuple(sorted(int(c.id) for c in note.cards()))
            tags[entry] = tuple(sorted(note.tags))
        (softmax,) = col.find_notes('"Id:softmax"') or (None,)
        fix = col.get_note(softmax)["Answer"] if softmax is not None else ""
        revlog = tuple(tuple(r) for r in col.db.all("select id, cid, ease from revlog order by id"))
        return cls(decks, note_ids, card_ids, tags,
                   frozenset(d.name for d in col.decks.all_names_and_ids()),
                   review_count(col), col.note_count(), fix, revlog)


def build(project: Project, epoch: str = LATER) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", epoch)
        result = project.build()
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> World:
    project = copy_project(tmp_path_factory.mktemp("base"), FIXTURES / "mini")
    build(project, EPOCH)
    world = World(project, project.root / "anki")
    col = open_collection(world.anki)
    assert import_apkg(col, project.apkg())["new"] == 5
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        col.sched.answerCard(card, 3)
    (nid,) = col.find_notes('"Id:softmax"')
    note = col.get_note(nid)
    note["Answer"] = FIX
    col.update_note(note)
    col.close()
    return world


@pytest.fixture
def world(base: World, tmp_path: Path) -> Iterator[World]:
    """A fresh copy of the base world."""
    shutil.copytree(base.project.root, tmp_path / "w", symlinks=True)
    yield World(Project(tmp_path / "w"), tmp_path / "w" / "anki")


def kept(before: State, after: State) -> None:
    """The promises every row keeps: reviews, the fix, no duplicate, every card still there."""
    assert after.reviews == before.reviews == 5
    assert after.revlog == before.revlog
    assert after.fix == FIX
    assert len(set(after.note_ids.values())) == after.notes


def sub(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


TANH = """  - id: tanh
    term: tanh
    question: What range does tanh have?
    answer: The open interval from -1 to 1.
    gist: Squashes to (-1, 1), zero-centred.
"""


def move_tanh(project: Project) -> None:
    sub(project.source / "01-alpha.yaml", TANH, "")
    beta = project.source / "02-beta.yaml"
    beta.write_text(beta.read_text(encoding="utf-8") + TANH, encoding="utf-8")


# -- row 1: move an entry to another category file ----------------------------------------------

def test_move_reported_by_build_and_file_import_cannot_move(world: World) -> None:
    before = world.state()
    move_tanh(world.project)
    out = build(world.project).output
    assert "moved from '01 Alpha Things' to '02 Beta Things': tanh" in out
    assert f'search mid:{MODEL_ID} ("Id:tanh"), then Change Deck to ' \
           "'Mini Deck::02 Beta Things'" in out
    # the tag follows the category, so the note updates; the card stays where it was
    assert world.file_import() == {"new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    after = world.state()
    assert after.decks["tanh"] == "Mini Deck::01 Alpha Things"
    assert "beta" in after.tags["tanh"]
    kept(before, after)


def test_the_reported_search_selects_the_moved_card(world: World) -> None:
    move_tanh(world.project)
    build(world.project)
    col = open_collection(world.anki)
    assert [col.get_note(n)["Id"] for n in col.find_notes(f'mid:{MODEL_ID} ("Id:tanh")')] == [
        "tanh"]
    col.close()


def test_move_through_sync(world: World) -> None:
    before = world.state()
    move_tanh(world.project)
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 1 moved, 0 removed, 4 unchanged")
    after = world.state()
    assert after.decks["tanh"] == "Mini Deck::02 Beta Things"
    assert after.card_ids == before.card_ids
    kept(before, after)


# -- row 2: delete an entry ---------------------------------------------------------------------

BLEU = """  - id: bleu
    term: BLEU
    question: What does BLEU measure?
    answer: Modified n-gram precision against references, with a brevity penalty.
    gist: Precision-based n-gram overlap for machine translation.
"""


def test_delete_reported_by_build_and_file_import_keeps_the_note(world: World) -> None:
    before = world.state()
    sub(world.project.source / "02-beta.yaml", BLEU, "")
    out = build(world.project).output
    assert "removed: bleu" in out
    assert f'search mid:{MODEL_ID} ("Id:bleu"), then delete the notes' in out
    assert world.file_import() == {"new": 0, "updated": 0, "duplicate": 4, "conflicting": 0}
    after = world.state()
    assert after.notes == 5
    kept(before, after)


def test_delete_through_sync_tags_the_note(world: World) -> None:
    before = world.state()
    sub(world.project.source / "02-beta.yaml", BLEU, "")
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 0 moved, 1 removed, 4 unchanged")
    after = world.state()
    assert after.notes == 5
    assert "deckgen::removed" in after.tags["bleu"]
    assert not any("deckgen::removed" in t for e, t in after.tags.items() if e != "bleu")
    kept(before, after)
    again = world.sync()  # already tagged: nothing more to do
    assert again.stdout.splitlines()[-1].endswith("0 removed, 4 unchanged")


def test_delete_through_sync_with_prune_deletes_the_note(world: World) -> None:
    before = world.state()
    sub(world.project.source / "02-beta.yaml", BLEU, "")
    result = world.sync("--prune")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 0 moved, 1 removed, 4 unchanged")
    after = world.state()
    assert after.notes == 4 and "bleu" not in after.decks
    assert after.reviews == before.reviews  # Anki keeps the review log of deleted cards
    assert after.fix == FIX


def test_an_entry_that_comes_back_loses_the_removed_tag(world: World) -> None:
    beta = world.project.source / "02-beta.yaml"
    sub(beta, BLEU, "")
    assert world.sync().exit_code == 0
    beta.write_text(beta.read_text(encoding="utf-8") + BLEU, encoding="utf-8")
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert "deckgen::removed" not in world.state().tags["bleu"]


# -- row 3: rename an entry's id ----------------------------------------------------------------

def rename_relu(project: Project) -> None:
    sub(project.source / "01-alpha.yaml", "  - id: relu\n", "  - id: rectifier\n    was: relu\n")


def test_rename_with_was_keeps_the_note_through_file_import(world: World) -> None:
    before = world.state()
    rename_relu(world.project)
    out = build(world.project).output
    assert "renamed 'relu' to 'rectifier': the same note, reviews kept" in out
    assert "removed" not in out
    assert world.file_import() == {"new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    after = world.state()
    assert after.note_ids["rectifier"] == before.note_ids["relu"]
    assert after.card_ids["rectifier"] == before.card_ids["relu"]
    assert "relu" not in after.note_ids
    kept(before, after)


def test_rename_with_was_keeps_the_note_through_sync(world: World) -> None:
    before = world.state()
    rename_relu(world.project)
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 0 moved, 0 removed, 4 unchanged")
    after = world.state()
    assert after.note_ids["rectifier"] == before.note_ids["relu"]
    kept(before, after)


def test_a_chain_of_renames_keeps_the_note_with_and_without_the_lock(world: World) -> None:
    before = world.state()
    rename_relu(world.project)
    build(world.project)
    sub(world.project.source / "01-alpha.yaml", "  - id: rectifier\n    was: relu\n",
        "  - id: rectified-linear\n    was: [relu, rectifier]\n")
    build(world.project, "1900003600")
    (world.project.source / "deckgen.lock").unlink()
    shutil.rmtree(world.project.out)  # nothing to recover from: the `was` list alone decides
    build(world.project, "1900007200")
    assert world.file_import() == {"new": 0, "updated": 5, "duplicate": 0, "conflicting": 0}
    after = world.state()
    assert after.note_ids["rectified-linear"] == before.note_ids["relu"]
    assert after.notes == 5  # no duplicate; but with lock and deck both gone the fix is lost
    assert after.fix != FIX


def test_a_merge_keeps_one_note_and_reports_the_other_removed(world: World) -> None:
    before = world.state()
    alpha = world.project.source / "01-alpha.yaml"
    sub(alpha, TANH, "")
    sub(alpha, "  - id: relu\n", "  - id: activation\n    was: [relu, tanh]\n")
    out = build(world.project).output
    assert "renamed 'relu' to 'activation'" in out and "removed: tanh" in out
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 0 moved, 1 removed, 3 unchanged")
    after = world.state()
    assert after.note_ids["activation"] == before.note_ids["relu"]
    assert "deckgen::removed" in after.tags["tanh"]


def test_check_warns_of_a_rename_without_was(world: World) -> None:
    sub(world.project.source / "01-alpha.yaml", "  - id: relu\n", "  - id: rectifier\n")
    result = CliRunner().invoke(main, ["check", "--source", str(world.project.source),
                                       "--templates", str(world.project.templates)])
    assert result.exit_code == 0
    assert "entry 'rectifier': field 'id': has the question of 'relu', which is gone from the " \
           "lock file: if it was renamed, add `was: relu`" in result.stdout


# -- row 4: rename a category or renumber its file ----------------------------------------------

def test_category_rename_changes_no_note_through_file_import(world: World) -> None:
    before = world.state()
    source = world.project.source
    sub(source / "01-alpha.yaml", "name: Alpha Things", "name: First Things")
    (source / "01-alpha.yaml").rename(source / "03-alpha.yaml")
    out = build(world.project).output
    assert "moved from '01 Alpha Things' to '03 First Things': relu, softmax, tanh" in out
    assert world.file_import() == {"new": 0, "updated": 0, "duplicate": 5, "conflicting": 0}
    kept(before, world.state())


def test_category_rename_and_renumber_through_sync(world: World) -> None:
    before = world.state()
    source = world.project.source
    sub(source / "01-alpha.yaml", "name: Alpha Things", "name: First Things")
    (source / "01-alpha.yaml").rename(source / "03-alpha.yaml")
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 3 moved, 0 removed, 2 unchanged")
    assert "removed the empty deck 'Mini Deck::01 Alpha Things'" in result.stdout
    after = world.state()
    assert {after.decks[e] for e in ("relu", "softmax", "tanh")} == {"Mini Deck::03 First Things"}
    assert "Mini Deck::01 Alpha Things" not in after.deck_names
    assert "Mini Deck::01 First Things" not in after.deck_names
    kept(before, after)
    col = open_collection(world.anki)
    (nid,) = col.find_notes('"Id:relu"')
    assert '<div class="category">03 First Things</div>' in col.get_note(nid).cards()[0].question()
    col.close()


def test_sync_never_removes_a_deck_it_did_not_empty(world: World) -> None:
    col = open_collection(world.anki)
    mine = col.decks.id("Mini Deck::my own empty deck", create=True)
    other = col.decks.id("Elsewhere", create=True)
    assert mine is not None and other is not None
    col.close()
    sub(world.project.source / "01-alpha.yaml", "name: Alpha Things", "name: First Things")
    assert world.sync().exit_code == 0
    names = world.state().deck_names
    assert {"Mini Deck::my own empty deck", "Elsewhere"} <= names


# -- row 5: change the deck title ---------------------------------------------------------------

def test_title_change_through_file_import(world: World) -> None:
    before = world.state()
    sub(world.project.source / "deck.yaml", "title: Mini Deck", "title: Tiny Deck")
    out = build(world.project).output
    assert "deck title 'Mini Deck' is now 'Tiny Deck'" in out
    assert [p.name for p in world.project.out.glob("*.apkg")] == ["tiny-deck.apkg"]
    assert world.file_import() == {"new": 0, "updated": 0, "duplicate": 5, "conflicting": 0}
    kept(before, world.state())


def test_title_change_through_sync_renames_the_root(world: World) -> None:
    before = world.state()
    sub(world.project.source / "deck.yaml", "title: Mini Deck", "title: Tiny Deck")
    result = world.sync()
    assert result.exit_code == 0, result.output
    assert "renamed the deck 'Mini Deck' to 'Tiny Deck'" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 0 moved, 0 removed, 5 unchanged")
    after = world.state()
    assert not any(n.startswith("Mini Deck") for n in after.deck_names)
    assert after.decks["relu"] == "Tiny Deck::01 Alpha Things"
    kept(before, after)


def test_title_change_imported_first_then_synced_moves_the_cards(world: World) -> None:
    before = world.state()
    sub(world.project.source / "deck.yaml", "title: Mini Deck", "title: Tiny Deck")
    build(world.project)
    world.file_import()
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 5 moved, 0 removed, 0 unchanged")
    after = world.state()
    assert not any(n.startswith("Mini Deck") for n in after.deck_names)
    kept(before, after)


# -- row 6: delete source/deckgen.lock ----------------------------------------------------------

def test_a_deleted_lock_is_recovered_from_the_deck_in_build(world: World) -> None:
    before = world.state()
    (world.project.source / "deckgen.lock").unlink()
    edit_answer(world.project.source, "Squashes to (-1, 1)", "Squashes into (-1, 1)")
    out = build(world.project).output
    assert "deckgen.lock was missing: recovered 6 stamps from the deck" in out
    assert "1 new or changed" in out
    assert world.file_import() == {"new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    kept(before, world.state())


def test_a_deleted_lock_through_sync(world: World) -> None:
    before = world.state()
    (world.project.source / "deckgen.lock").unlink()
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 0 moved, 0 removed, 5 unchanged")
    kept(before, world.state())


def test_with_neither_lock_nor_deck_the_build_says_every_note_updates(world: World) -> None:
    (world.project.source / "deckgen.lock").unlink()
    shutil.rmtree(world.project.out)
    out = build(world.project).output
    assert "was missing and there is no earlier deck to recover it from: every note is " \
           "stamped new" in out


# -- row 7: merge two git branches that edited entries ------------------------------------------

def git(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=folder, capture_output=True, text=True)


def merge_with_conflict(world: World) -> None:
    """Branch `other` edits bleu, main edits perplexity (and imports it); their lock lines touch,
    so merging conflicts the lock file."""
    root = world.project.root
    assert git(root, "init", "-q", "-b", "main").returncode == 0
    git(root, "add", "source")
    git(root, "commit", "-q", "-m", "base")
    git(root, "checkout", "-q", "-b", "other")
    edit_answer(world.project.source, "with a brevity penalty", "with a brevity penalty (BP)")
    build(world.project, "1900000000")
    git(root, "commit", "-q", "-am", "bleu")
    git(root, "checkout", "-q", "main")
    edit_answer(world.project.source, "lower is better", "lower is better (PPL)")
    build(world.project, "1900003600")
    git(root, "commit", "-q", "-am", "perplexity")
    assert world.file_import()["updated"] == 1
    merged = git(root, "merge", "-q", "other")
    assert merged.returncode != 0
    assert "<<<<<<<" in (world.project.source / "deckgen.lock").read_text()


def test_a_lock_with_conflict_markers_is_resolved_through_file_import(world: World) -> None:
    before = world.state()
    merge_with_conflict(world)
    out = build(world.project, "1900007200").output
    assert "deckgen.lock: resolved git's merge conflict" in out
    assert "<<<<<<<" not in (world.project.source / "deckgen.lock").read_text()
    assert world.file_import() == {"new": 0, "updated": 1, "duplicate": 4, "conflicting": 0}
    after = world.state()
    kept(before, after)
    col = open_collection(world.anki)
    (nid,) = col.find_notes('"Id:bleu"')
    assert "(BP)" in col.get_note(nid)["Answer"]
    col.close()


def test_a_lock_with_conflict_markers_through_sync(world: World) -> None:
    before = world.state()
    merge_with_conflict(world)
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 0 moved, 0 removed, 4 unchanged")
    kept(before, world.state())


# -- the collection is sacred -------------------------------------------------------------------

def test_sync_refuses_an_open_collection_and_changes_nothing(world: World) -> None:
    move_tanh(world.project)
    before = world.state()
    data = world.collection.read_bytes()
    col = open_collection(world.anki)  # as Anki would hold it
    try:
        result = world.sync()
    finally:
        col.close()
    assert result.exit_code == 1
    assert result.stderr == (f"error: {world.collection} is open in Anki (or another program): "
                             "close Anki, then run deckgen sync again; nothing was changed\n")
    assert world.collection.read_bytes() == data
    assert world.state() == before
    assert not (world.anki / "backups").exists()


def test_dry_run_prints_the_plan_and_changes_nothing(world: World) -> None:
    move_tanh(world.project)
    sub(world.project.source / "02-beta.yaml", BLEU, "")
    before = world.state()
    data = world.collection.read_bytes()
    dry = world.sync("--dry-run")
    assert dry.exit_code == 0, dry.output
    assert "would have moved 1 note(s) into 'Mini Deck::02 Beta Things'" in dry.stdout
    assert dry.stdout.splitlines()[-1] == (
        f"dry run, nothing changed in {world.collection}: would be 0 added, 1 updated, 1 moved, "
        "1 removed, 3 unchanged")
    assert world.collection.read_bytes() == data
    assert world.state() == before
    real = world.sync()
    assert real.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 1 moved, 1 removed, 3 unchanged")


def test_sync_backs_up_first_with_ankis_own_backup(world: World) -> None:
    result = world.sync()
    assert result.exit_code == 0, result.output
    (backup,) = (world.anki / "backups").glob("*.colpkg")
    assert f"backed up {world.collection} to {backup}" in result.stdout


def test_sync_never_creates_a_collection(world: World, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "collection.anki2"
    p = world.project
    result = CliRunner().invoke(main, ["sync", "--source", str(p.source), "--out", str(p.out),
                                       "--templates", str(p.templates), "--collection",
                                       str(missing)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {missing}: no such collection")
    assert not missing.parent.exists()


def test_sync_finds_a_profile_under_anki_base(world: World, tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    base = tmp_path / "Anki2"
    shutil.copytree(world.anki, base / "Student")
    monkeypatch.setenv("ANKI_BASE", str(base))
    p = world.project
    args = ["sync", "--source", str(p.source), "--out", str(p.out), "--templates",
            str(p.templates), "--profile"]
    result = CliRunner().invoke(main, [*args, "Student"])
    assert result.exit_code == 0, result.output
    assert f"synced {base / 'Student' / 'collection.anki2'}" in result.stdout
    wrong = CliRunner().invoke(main, [*args, "Nobody"])
    assert wrong.exit_code == 1
    assert wrong.stderr == (f"error: no Anki profile 'Nobody' in {base} (profiles there: "
                            "Student; ANKI_BASE sets the folder, --collection names a "
                            "collection.anki2 directly)\n")


def test_sync_without_the_backend_says_how_to_install_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(__import__("sys").modules, "anki.collection", None)
    result = world.sync()
    assert result.exit_code == 1
    assert result.stderr == ("error: deckgen sync needs Anki's backend, the Python package "
                             "`anki`: pip install 'deckgen[anki]'\n")


def test_sync_never_touches_notes_deckgen_did_not_make(world: World) -> None:
    col = open_collection(world.anki)
    basic = col.models.by_name("Basic")
    assert basic is not None
    note = col.new_note(basic)
    note["Front"], note["Back"] = "mine", "mine"
    deck = col.decks.id("Mini Deck::01 Alpha Things")
    assert deck is not None
    col.add_note(note, deck)
    col.close()
    move_tanh(world.project)
    sub(world.project.source / "02-beta.yaml", BLEU, "")
    assert world.sync("--prune").exit_code == 0
    col = open_collection(world.anki)
    mine = col.get_note(note.id)
    assert mine["Front"] == "mine" and not mine.tags
    assert col.decks.name(mine.cards()[0].did) == "Mini Deck::01 Alpha Things"
    col.close()


# -- bad values in the lock file: one clear line, nothing written -------------------------------

@pytest.mark.parametrize(("value", "message"), [
    ("1e300", "'mod' must be whole seconds since 1970 (0 to 10000000000), not 1e+300"),
    ("Infinity", "Infinity is not a number JSON allows"),
    ("-5", "'mod' must be whole seconds since 1970 (0 to 10000000000), not -5"),
    ('"soon"', "'mod' must be whole seconds since 1970 (0 to 10000000000), not 'soon'"),
])
def test_a_bad_time_in_the_lock_file_is_one_clear_error(
    world: World, value: str, message: str
) -> None:
    lock = world.project.source / "deckgen.lock"
    text = lock.read_text(encoding="utf-8")
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines, 1) if '"note:relu"' in line)
    lock.write_text(text.replace('"mod": 1700000000, "guid": "O7', f'"mod": {value}, "guid": "O7'),
                    encoding="utf-8")
    broken = lock.read_bytes()
    outputs = world.project.outputs()
    edit_answer(world.project.source, "Squashes to (-1, 1)", "Squashes into (-1, 1)")
    result = world.project.build()
    assert result.exit_code == 1, result.output
    (line,) = result.stderr.splitlines()
    where = f"{lock}:{number}: " if value != "Infinity" else f"{lock}: "
    assert line.startswith(f"error: {where}"), line
    assert message.replace("'mod'", '"mod"') in line
    assert "git checkout -- " in line and "delete" not in line
    assert lock.read_bytes() == broken
    assert world.project.outputs() == outputs


def test_a_lock_file_from_a_newer_deckgen_is_refused_without_harm(world: World) -> None:
    lock = world.project.source / "deckgen.lock"
    sub(lock, '"version": 2', '"version": 3')
    result = world.project.build()
    assert result.exit_code == 1
    assert result.stderr == (f"error: {lock}:2: written by a newer deckgen (lock file version 3, "
                             "this one reads up to 2); upgrade deckgen and build again; the file "
                             "was left as it is\n")
    assert '"version": 3' in lock.read_text()


# -- an existing user: a collection holding notes of the first note type ------------------------

def legacy_world(project: Project, anki: Path) -> World:
    """A collection that imported the deck as deckgen made it before the note type changed,
    with the version 1 lock file that build wrote; reviewed and with a fix."""
    import genanki

    from deckgen.anki import LEGACY_FIELDS, LEGACY_MODEL_ID, deck_id, legacy_digest, note_fields
    from deckgen.render import environment
    from deckgen.source import load_guide
    from deckgen.stamps import fingerprint

    guide, _ = load_guide(project.source)
    references = environment(project.templates).get_template("anki/references.html.j2")
    model = genanki.Model(LEGACY_MODEL_ID, "deckgen Q&A",
                          fields=[{"name": f} for f in LEGACY_FIELDS],
                          templates=[{"name": "Question > Answer",
                                      "qfmt": "{{Category}} {{Question}}",
                                      "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}])
    decks, stamps = [], {}
    for category in guide.categories:
        name = f"{guide.title}::{category.label}"
        deck = genanki.Deck(deck_id(name), name)
        for entry in category.entries:
            fields = note_fields(entry, references)
            tags = [category.slug, *entry.tags]
            old = [*fields[:3], category.label, *fields[3:]]
            deck.add_note(genanki.Note(model=model, fields=old, tags=tags,
                                       guid=genanki.guid_for("deckgen/entry", entry.id)))
            stamps[f"note:{entry.id}"] = {"digest": legacy_digest(fields, tags, category.label),
                                          "mod": int(EPOCH)}
            assert stamps[f"note:{entry.id}"]["digest"] == fingerprint(old, tags)
        decks.append(deck)
    project.out.mkdir()
    package = project.out / "mini-deck.apkg"  # as the last build with the old deckgen left it
    genanki.Package(decks).write_to_file(str(package), timestamp=int(EPOCH))
    import json
    (project.source / "deckgen.lock").write_text(json.dumps({"version": 1, "stamps": stamps}))
    col = open_collection(anki)
    assert import_apkg(col, package)["new"] == 5
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        col.sched.answerCard(card, 3)
    (nid,) = col.find_notes('"Id:softmax"')
    note = col.get_note(nid)
    note["Answer"] = FIX
    col.update_note(note)
    col.close()
    return World(project, anki)


def test_an_existing_user_file_import_finds_every_note_conflicting(tmp_path: Path) -> None:
    project = copy_project(tmp_path, FIXTURES / "mini")
    world = legacy_world(project, tmp_path / "anki")
    before = world.state()
    out = build(project).output
    assert "5 notes, 0 new or changed" in out  # the v1 lock's times are kept
    assert '"version": 2' in (project.source / "deckgen.lock").read_text()
    assert world.file_import() == {"new": 0, "updated": 0, "duplicate": 0, "conflicting": 5}
    kept(before, world.state())


def test_an_existing_user_sync_changes_the_note_type_and_keeps_everything(tmp_path: Path) -> None:
    project = copy_project(tmp_path, FIXTURES / "mini")
    world = legacy_world(project, tmp_path / "anki")
    before = world.state()
    edit_answer(project.source, "Squashes to (-1, 1)", "Squashes into (-1, 1)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", LATER)
        result = world.sync()
    assert result.exit_code == 0, result.output
    assert "changed 5 note(s) to the note type 'deckgen Q&A v2'" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 1 updated, 0 moved, 0 removed, 4 unchanged")
    after = world.state()
    assert after.note_ids == before.note_ids and after.card_ids == before.card_ids
    kept(before, after)
    col = open_collection(world.anki)
    assert {col.get_note(n).mid for n in col.find_notes("")} == {MODEL_ID}
    assert col.models.get(1_730_862_401) is None  # type: ignore[arg-type]
    (nid,) = col.find_notes('"Id:tanh"')
    assert "Squashes into" in col.get_note(nid)["Gist"]
    col.close()


def test_ankis_data_folder_on_each_platform() -> None:
    from deckgen.sync import anki_base

    home = {"HOME": "/home/u"}
    assert anki_base(home, "linux") == Path("/home/u/.local/share/Anki2")
    assert anki_base({**home, "XDG_DATA_HOME": "/data"}, "linux") == Path("/data/Anki2")
    assert anki_base(home, "darwin") == Path("/home/u/Library/Application Support/Anki2")
    assert anki_base({**home, "APPDATA": "C:/Users/u/AppData/Roaming"}, "win32") == Path(
        "C:/Users/u/AppData/Roaming/Anki2")
    assert anki_base({**home, "ANKI_BASE": "/elsewhere"}, "darwin") == Path("/elsewhere")


def test_guids_follow_the_lock_then_was_and_never_collide(tmp_path: Path) -> None:
    from deckgen.anki import assign_guids, note_guid
    from deckgen.model import Category, Entry, Guide
    from deckgen.stamps import Stamp, Stamps

    def entry(entry_id: str, *was: str) -> Entry:
        return Entry(id=entry_id, term="t", question=f"q {entry_id}", answer="a", gist="g",
                     was=was)

    entries = (entry("p"), entry("q"), entry("m", "x", "y"), entry("c", "a", "b"))
    guide = Guide("T", "d", "", "", "", (Category(1, "s", "S", "g", entries, tmp_path),))
    lock = Stamps(tmp_path / "deckgen.lock", {
        "note:p": Stamp("d", 1, guid=note_guid("q")),  # p was renamed from q earlier
        "note:y": Stamp("d", 1, guid="gy"), "note:x": Stamp("d", 1, guid="gx"),
        "note:b": Stamp("d", 1, guid=note_guid("a")),  # the chain a -> b -> c
    })
    guids = assign_guids(guide, lock)
    assert guids == {"p": note_guid("q"), "q": note_guid("q", 1), "m": "gx",
                     "c": note_guid("a")}
    assert assign_guids(guide, Stamps(tmp_path / "none", {}))["c"] == note_guid("a")


def test_sync_refuses_a_file_that_is_not_a_collection(world: World) -> None:
    world.collection.write_bytes(b"not a collection at all\n" * 100)
    data = world.collection.read_bytes()
    result = world.sync()
    assert result.exit_code == 1
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"error: {world.collection}: cannot open the collection (")
    assert line.endswith("; nothing was changed")
    assert world.collection.read_bytes() == data


def test_an_existing_user_renaming_a_category_in_the_same_build_updates_nothing(
    tmp_path: Path
) -> None:
    project = copy_project(tmp_path, FIXTURES / "mini")
    world = legacy_world(project, tmp_path / "anki")
    before = world.state()
    sub(project.source / "01-alpha.yaml", "name: Alpha Things", "name: First Things")
    out = build(project).output
    assert "5 notes, 0 new or changed" in out  # the old deck in build/ tells the old subdecks
    assert "moved from '01 Alpha Things' to '01 First Things': relu, softmax, tanh" in out
    result = world.sync()
    assert result.stdout.splitlines()[-1] == (
        f"synced {world.collection}: 0 added, 0 updated, 3 moved, 0 removed, 2 unchanged")
    kept(before, world.state())
