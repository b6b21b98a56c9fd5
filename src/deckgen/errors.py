"""One error hierarchy: the library raises these, the CLI turns them into messages once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Problem:
    """One thing wrong (or worth a warning) in the source, located as precisely as known."""

    file: Path
    message: str
    entry: str | None = None
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
        parts = [where]
        if self.entry is not None:
            parts.append(f"entry {self.entry!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        return ": ".join(parts) + f": {self.message}"


class DeckgenError(Exception):
    """Base of every error deckgen reports to the user without a traceback."""

    def lines(self) -> list[str]:
        """The message, one problem per line."""
        return [f"error: {self}"]


class SourceError(DeckgenError):
    """The source folder has one or more problems; all are listed."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the source")
        self.problems = problems

    def lines(self) -> list[str]:
        return [f"error: {p}" for p in self.problems]


class OutputError(DeckgenError):
    """An output could not be written; the previous outputs are untouched."""


class OutputsWritten(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) arrived while the new outputs were swapped in; they all were."""

    def __init__(self, folders: list[Path]) -> None:
        super().__init__(" and ".join(str(f) for f in folders))
        self.folders = folders
