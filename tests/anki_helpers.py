"""Import packages with Anki's own backend (the PyPI package `anki`) and read the log back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

if TYPE_CHECKING:  # anki.cards must be imported after anki.collection
    from anki.cards import Card

LOG_KINDS = ("new", "updated", "duplicate", "conflicting")


def import_apkg(col: Collection, package: Path) -> dict[str, int]:
    """Import like File > Import with the default options; the log's counts by kind."""
    request = ImportAnkiPackageRequest(
        package_path=str(package), options=ImportAnkiPackageOptions(with_scheduling=True)
    )
    log = col.import_anki_package(request).log
    return {kind: len(getattr(log, kind)) for kind in LOG_KINDS}


def open_collection(folder: Path) -> Collection:
    folder.mkdir(parents=True, exist_ok=True)
    return Collection(str(folder / "collection.anki2"))


def card_for(col: Collection, entry_id: str) -> Card:
    """The one card of the note made from the entry `entry_id`."""
    (nid,) = col.find_notes(f'"Id:{entry_id}"')
    card: Card = col.get_note(nid).cards()[0]
    return card


def review_count(col: Collection) -> int:
    """How many reviews the collection's log holds."""
    assert col.db is not None
    return int(col.db.scalar("select count() from revlog"))
