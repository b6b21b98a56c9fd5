"""The templates a build uses: deckgen's defaults, overridden file by file by a project's folder.

The defaults (card templates and CSS, the documents' templates, styles and fonts) ship inside the
package and are read with importlib.resources, so a wheel or pipx install has them. A project that
keeps a `templates/` folder (or points --templates elsewhere) changes only the files it holds
there, under the same names: `anki/card.css` alone restyles the cards, the rest stays as shipped.
"""

from __future__ import annotations

import errno
import shutil
from functools import cached_property
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

DEFAULTS: Traversable = files("deckgen") / "templates"
"""deckgen's own templates, as installed."""


def _visible(name: str) -> bool:
    return not any(part.startswith(".") for part in name.split("/"))


def _walk(folder: Traversable, prefix: str = "") -> dict[str, Traversable]:
    """Every visible file under `folder`, by its name relative to it ('anki/card.css')."""
    found: dict[str, Traversable] = {}
    for child in folder.iterdir():
        name = f"{prefix}{child.name}"
        if not _visible(name):
            continue
        if child.is_dir():
            found.update(_walk(child, f"{name}/"))
        elif child.is_file():
            found[name] = child
    return found


class Templates:
    """The effective template files: the project's folder first, then deckgen's defaults.

    Names are relative and use '/' on every platform ('pdf/fonts/Carlito-Regular.ttf'). The set is
    taken once, when first asked for, so one build reads one consistent set.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @cached_property
    def files(self) -> dict[str, Traversable]:
        """Each effective file by name: the project's where it has one, else the default."""
        effective = _walk(DEFAULTS)
        if self.folder.is_dir():
            effective.update(_walk(self.folder))
        return dict(sorted(effective.items()))

    def read_bytes(self, name: str) -> bytes:
        """The effective file's bytes; KeyError if neither the project nor deckgen has it."""
        return self.files[name].read_bytes()

    def read_text(self, name: str) -> str:
        """The effective file as UTF-8 text."""
        return self.read_bytes(name).decode("utf-8")


def copy_defaults(dest: Path) -> list[Path]:
    """Copy deckgen's default templates into `dest` for editing; returns the files written.

    Raises FileExistsError (its filename the first file already there) before writing anything.
    """
    defaults = _walk(DEFAULTS)
    targets = {name: dest.joinpath(*name.split("/")) for name in defaults}
    for target in targets.values():
        if target.exists():
            raise FileExistsError(errno.EEXIST, "already there", str(target))
    for name, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        with defaults[name].open("rb") as stream, target.open("xb") as out:
            shutil.copyfileobj(stream, out)
    return list(targets.values())
