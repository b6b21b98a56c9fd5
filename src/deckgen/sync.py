"""`deckgen sync`: bring the user's Anki collection to the deck, with Anki's own backend.

A file import adds new notes and updates edited ones, but never moves a card, deletes a note or
renames a deck. Sync does the import with the same rules, then does those things too, touching
only notes of deckgen's note types and decks that held their cards. Every change happens in
`_apply`, on an open collection; a dry run applies it to a copy and throws the copy away.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from deckgen.anki import LEGACY_MODEL_ID, MODEL_ID, MODEL_NAME, PackageContents, read_package
from deckgen.errors import DeckgenError

if TYPE_CHECKING:
    from anki.collection import Collection
    from anki.notes import NoteId

REMOVED_TAG = "deckgen::removed"
_DECKGEN_NOTETYPES = (MODEL_ID, LEGACY_MODEL_ID)


class SyncError(DeckgenError):
    """The collection cannot be synced; it was not changed."""


@dataclass
class SyncResult:
    """What a sync did (or, in a dry run, would do), counted in notes."""

    collection: Path
    dry_run: bool
    backup: Path | None = None
    added: int = 0
    updated: int = 0
    moved: int = 0
    removed: int = 0
    unchanged: int = 0
    conflicting: int = 0
    plan: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line: added, updated, moved, removed and unchanged notes."""
        counts = (f"{self.added} added, {self.updated} updated, {self.moved} moved, "
                  f"{self.removed} removed, {self.unchanged} unchanged")
        if self.conflicting:
            counts += f", {self.conflicting} not updated (their note type was changed in Anki)"
        if self.dry_run:
            return f"dry run, nothing changed in {self.collection}: would be {counts}"
        return f"synced {self.collection}: {counts}"


def anki_base(environ: dict[str, str] | None = None, platform: str = sys.platform) -> Path:
    """Anki's data folder, as Anki itself finds it: ANKI_BASE, else the platform's default."""
    env = os.environ if environ is None else environ
    if env.get("ANKI_BASE"):
        return Path(env["ANKI_BASE"]).expanduser()
    home = Path(env.get("HOME") or Path.home())
    if platform == "darwin":
        return home / "Library" / "Application Support" / "Anki2"
    if platform.startswith("win"):
        return Path(env.get("APPDATA") or home / "AppData" / "Roaming") / "Anki2"
    return Path(env.get("XDG_DATA_HOME") or home / ".local" / "share") / "Anki2"


def profile_collection(profile: str, base: Path | None = None) -> Path:
    """The collection file of an Anki profile; SyncError naming the profiles there if not found."""
    folder = base or anki_base()
    path = folder / profile / "collection.anki2"
    if path.is_file():
        return path
    found = sorted(p.parent.name for p in folder.glob("*/collection.anki2")) if folder.is_dir() \
        else []
    known = f"profiles there: {', '.join(found)}" if found else "no profiles there"
    raise SyncError(f"no Anki profile {profile!r} in {folder} ({known}; ANKI_BASE sets the "
                    "folder, --collection names a collection.anki2 directly)")


def sync(package: Path, collection: Path, *, dry_run: bool = False,
         prune: bool = False) -> SyncResult:
    """Apply the deck in `package` to `collection`; see the module's docstring.

    Refuses (SyncError, nothing changed) when the collection does not exist or anything has it
    open. Backs it up with Anki's own backup before the first change.
    """
    collection_class = _backend()
    if not collection.is_file():
        raise SyncError(f"{collection}: no such collection (deckgen never creates one; give the "
                        "path of an existing collection.anki2, or --profile)")
    try:
        contents = read_package(package)
    except (OSError, ValueError, KeyError) as exc:
        raise SyncError(f"{package}: cannot read the deck ({exc}); run deckgen build") from None
    result = SyncResult(collection, dry_run)
    with _opened(collection_class, collection) as col:
        if not dry_run:
            result.backup = _backup(col, collection)
            _apply(col, package, contents, prune, result)
            return result
    with tempfile.TemporaryDirectory(prefix="deckgen-dry-run-") as scratch:
        copy = Path(scratch) / "collection.anki2"
        shutil.copyfile(collection, copy)
        with _opened(collection_class, copy) as col:
            _apply(col, package, contents, prune, result)
    return result


def _backend() -> Any:
    try:
        from anki.collection import Collection
    except ImportError:
        raise SyncError("deckgen sync needs Anki's backend, the Python package `anki`: "
                        "pip install 'deckgen[anki]'") from None
    return Collection


@contextmanager
def _opened(collection_class: Any, path: Path) -> Iterator[Collection]:
    from anki.errors import DBError

    try:
        col = collection_class(str(path))
    except DBError as exc:
        if "already open" in str(exc):
            raise SyncError(f"{path} is open in Anki (or another program): close Anki, then run "
                            "deckgen sync again; nothing was changed") from None
        raise SyncError(f"{path}: cannot open the collection ({exc}); nothing was changed"
                        ) from None
    except Exception as exc:  # the backend's errors for a file that is not a collection
        raise SyncError(f"{path}: cannot open the collection ({exc}); nothing was changed"
                        ) from None
    try:
        yield col
    finally:
        col.close()


def _backup(col: Collection, collection: Path) -> Path | None:
    """Anki's own backup of the collection, into the profile's backups folder; its path."""
    folder = collection.parent / "backups"
    folder.mkdir(exist_ok=True)
    try:
        col.create_backup(backup_folder=str(folder), force=True, wait_for_completion=True)
    except Exception as exc:
        raise SyncError(f"{collection}: cannot back up the collection into {folder} ({exc}); "
                        "nothing was changed") from None
    backups = sorted(folder.glob("*.colpkg"), key=lambda p: p.stat().st_mtime)
    return backups[-1] if backups else None


def _import(col: Collection, package: Path) -> Any:
    """Import as File > Import does by default: newer notes update, reviews are kept."""
    from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    request = ImportAnkiPackageRequest(
        package_path=str(package), options=ImportAnkiPackageOptions(with_scheduling=True))
    return col.import_anki_package(request).log


def _root(name: str) -> str:
    return name.split("::", 1)[0]


def _apply(col: Collection, package: Path, contents: PackageContents, prune: bool,
           result: SyncResult) -> None:
    """Every change sync makes, on an open collection; counts and plan lines go to `result`."""
    from anki.cards import CardId
    from anki.decks import DeckId
    from anki.models import NotetypeId
    from anki.notes import NoteId

    assert col.db is not None
    db = col.db
    targets = {n.guid: n for n in contents.notes}
    root = contents.title or ""

    def deckgen_notes() -> dict[str, tuple[NoteId, int, int]]:
        """guid -> (note id, note type id, mod) for every note of deckgen's note types."""
        marks = ",".join(str(m) for m in _DECKGEN_NOTETYPES)
        rows = db.all(f"select guid, id, mid, mod from notes where mid in ({marks})")
        return {str(g): (NoteId(i), int(m), int(t)) for g, i, m, t in rows}

    def homes(note_id: NoteId) -> list[tuple[CardId, DeckId]]:
        """(card id, home deck id) of a note's cards; a filtered deck's card counts at home."""
        rows = db.all("select id, case when odid != 0 then odid else did end from cards "
                      "where nid = ?", note_id)
        return [(CardId(c), DeckId(d)) for c, d in rows]

    # 1. A title change: rename the old root deck before the import looks decks up by name.
    before = deckgen_notes()
    old_roots = {_root(col.decks.name(did)) for guid, (nid, _, _) in before.items()
                 if guid in targets for _, did in homes(nid)} - {root}
    if old_roots and col.decks.id_for_name(root) is None and len(old_roots) == 1:
        (old_root,) = old_roots
        old_id = col.decks.id_for_name(old_root)
        assert old_id is not None
        col.decks.rename(old_id, root)
        result.plan.append(f"renamed the deck {old_root!r} to {root!r}")
        old_roots = set()
    managed = {root, *old_roots}

    # 2. Import; notes of the first note type are moved to the new one, then imported again.
    logs = [_import(col, package)]
    legacy = {g: (nid, mod) for g, (nid, mid, mod) in before.items()
              if mid == LEGACY_MODEL_ID and g in targets}
    if legacy:
        _change_notetype(col, legacy)
        result.plan.append(f"changed {len(legacy)} note(s) to the note type {MODEL_NAME!r} "
                           "(reviews kept; Anki will ask for a full sync with AnkiWeb)")
        logs.append(_import(col, package))
    added = {NoteId(n.id.nid) for log in logs for n in log.new}
    updated = {NoteId(n.id.nid) for log in logs for n in log.updated}
    conflicting = {NoteId(n.id.nid) for n in logs[-1].conflicting}
    result.conflicting = len(conflicting)
    result.added, result.updated = len(added), len(updated - added)

    # 3. Move every card of a note in the deck into the subdeck its entry is in now.
    after = deckgen_notes()
    emptied: set[DeckId] = set()
    moved: set[NoteId] = set()
    by_target: dict[str, list[NoteId]] = {}
    for guid, note in targets.items():
        if guid not in after:
            continue
        nid = after[guid][0]
        target_id = col.decks.id(note.deck, create=True)
        assert target_id is not None
        for card_id, home in homes(nid):
            if home != target_id:
                col.set_deck([card_id], target_id)
                emptied.add(home)
                moved.add(nid)
                by_target.setdefault(note.deck, []).append(nid)
    for deck, notes in sorted(by_target.items()):
        result.plan.append(f"moved {len(set(notes))} note(s) into {deck!r}")
    result.moved = len(moved)

    # 4. Notes whose entry is gone: tagged, or deleted with --prune; back from the dead: untagged.
    gone = []
    for guid, (nid, _, _) in after.items():
        if guid in targets:
            continue
        decks = [home for _, home in homes(nid)]
        if any(_root(col.decks.name(d)) in managed for d in decks):
            gone.append((nid, decks))
    if prune and gone:
        col.remove_notes([nid for nid, _ in gone])
        emptied.update(d for _, decks in gone for d in decks)
        result.removed = len(gone)
        result.plan.append(f"deleted {len(gone)} note(s) whose entry is gone")
    else:
        untagged = [nid for nid, _ in gone if not col.get_note(nid).has_tag(REMOVED_TAG)]
        if untagged:
            col.tags.bulk_add(untagged, REMOVED_TAG)
            result.plan.append(f"tagged {len(untagged)} note(s) whose entry is gone "
                               f"{REMOVED_TAG} (search: tag:{REMOVED_TAG})")
        result.removed = len(untagged)
    back = [after[g][0] for g in targets if g in after
            and col.get_note(after[g][0]).has_tag(REMOVED_TAG)]
    if back:
        col.tags.bulk_remove(back, REMOVED_TAG)
        result.plan.append(f"untagged {len(back)} note(s) whose entry is back")

    # 5. Remove the subdecks (and an old root) this sync left empty; only ours, only when empty.
    wanted = {n.deck for n in targets.values()} | {root}
    candidates: set[str] = set()
    for did in emptied:
        name = col.decks.name(did)
        parts = name.split("::")
        if parts[0] in managed:
            candidates.update("::".join(parts[:i]) for i in range(1, len(parts) + 1))
    for name in sorted(candidates - wanted, key=lambda n: -n.count("::")):
        found = col.decks.id_for_name(name)
        if found is None or col.decks.card_count(found, include_subdecks=True):
            continue
        if list(col.decks.children(found)):
            continue
        col.decks.remove([found])
        result.plan.append(f"removed the empty deck {name!r}")
    legacy_type = NotetypeId(LEGACY_MODEL_ID)
    if col.models.get(legacy_type) is not None and not db.scalar(
            "select count() from notes where mid = ?", LEGACY_MODEL_ID):
        col.models.remove(legacy_type)
        result.plan.append("removed deckgen's first note type, no longer used")

    touched = added | updated | moved | conflicting
    result.unchanged = sum(1 for g in targets if g in after and after[g][0] not in touched)


def _change_notetype(col: Collection, legacy: dict[str, tuple[NoteId, int]]) -> None:
    """Give notes of the first note type the current one (fields by name, Category dropped).

    Each note keeps its modification time, so the import after it updates exactly the notes it
    would have updated had the note type never changed.
    """
    from anki.models import NotetypeId

    assert col.db is not None
    info = col.models.change_notetype_info(old_notetype_id=NotetypeId(LEGACY_MODEL_ID),
                                           new_notetype_id=NotetypeId(MODEL_ID))
    request = info.input
    request.note_ids.extend(nid for nid, _ in legacy.values())
    col.models.change_notetype_of_notes(request)
    for nid, mod in legacy.values():
        col.db.execute("update notes set mod = ? where id = ?", mod, nid)
