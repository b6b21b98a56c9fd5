"""The guide as frozen data: what the loader produces and every renderer consumes. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.media import MediaFile


class _Pickled:
    """Pickled as a call of the class with the fields in order: the parse cache holds thousands
    of entries, and dataclasses' own __setstate__ for slotted classes takes twice as long."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, tuple[object, ...]]:
        names: tuple[str, ...] = self.__slots__
        return type(self), tuple(getattr(self, name) for name in names)


@dataclass(frozen=True, slots=True)
class Reference(_Pickled):
    """A paper or other source an entry's idea comes from."""

    title: str
    author: str
    year: int

    def __str__(self) -> str:
        return f"{self.author} ({self.year}). {self.title}"


@dataclass(frozen=True, slots=True)
class Entry(_Pickled):
    """One idea: a question with its answer, a one-line gist and where it comes from."""

    id: str
    term: str
    question: str
    answer: str
    gist: str
    tags: tuple[str, ...] = ()
    refs: tuple[Reference, ...] = ()
    point: str | None = None
    line: int | None = None
    was: tuple[str, ...] = ()
    level: str = "core"

    @property
    def advanced(self) -> bool:
        """Whether the entry goes beyond the core curriculum (studied after the core)."""
        return self.level == "advanced"


@dataclass(frozen=True, slots=True)
class Category(_Pickled):
    """One of the guide's categories, read from one source file."""

    number: int
    slug: str
    name: str
    guide: str
    entries: tuple[Entry, ...]
    path: Path
    # What it was read from: a digest of its file's path and bytes and of deckgen's code, so
    # equal digests mean equal categories; empty for a category made otherwise.
    digest: str = field(default="", compare=False)

    @property
    def label(self) -> str:
        """The numbered name of the subdeck and the sheet, e.g. "01 Transformer Architecture"."""
        return f"{self.number:02d} {self.name}"


@dataclass(frozen=True, slots=True)
class Guide:
    """The whole source: deck metadata and the categories in the guide's order."""

    title: str
    description: str
    intro: str
    closing: str
    author: str
    categories: tuple[Category, ...]
    media: tuple[MediaFile, ...] = ()

    def figure(self, name: str) -> MediaFile | None:
        """The media file a figure's name refers to, if the source has it."""
        return next((m for m in self.media if m.name == name), None)

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, category by category."""
        return tuple(e for c in self.categories for e in c.entries)
