"""Import packages with Anki's own backend (the PyPI package `anki`) and read the log back."""

from __future__ import annotations

from pathlib import Path

from anki.collection import Collection
from anki.import_export_pb2 import ImportAnkiPackageOptions, ImportAnkiPackageRequest

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


def review_count(col: Collection) -> int:
    """How many reviews the collection's log holds."""
    assert col.db is not None
    return int(col.db.scalar("select count() from revlog"))
