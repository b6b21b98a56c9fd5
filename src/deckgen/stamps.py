"""Modification times that move only when the thing they stamp changes, and where each note lives.

Anki updates a known note on re-import only when the incoming `mod` is newer, and then overwrites
it. So each note (and the note type) carries the time its content last changed, remembered across
builds in a lock file kept next to the source: unchanged content keeps its time, changed content
gets a time newer than both the clock and its previous one.

Since version 2 the lock file also records, per entry, the GUID its note was built with (so an
entry renamed with `was:` keeps its note through any chain of renames), the subdeck it was in and
a digest of its question (so a build can say what moved, vanished or looks renamed), and the deck
title. A version 1 file is read as it is and rewritten as version 2 by the next build.

A lock file with git's conflict markers is resolved here: for each key the newer stamp wins.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from deckgen.errors import DeckgenError

LOCK_FILE = "deckgen.lock"
LOCK_VERSION = 2
NOTE_PREFIX = "note:"
# Anki keeps times as 64-bit seconds, but nothing real lies past the year 2286.
_LATEST = 10**10
_ADVICE = ("fix that line, or take the file back from git (`git checkout -- {path}`); "
           "nothing in build/ or Anki was changed")


def fingerprint(*parts: object) -> str:
    """A short stable digest of the JSON form of `parts`."""
    data = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:20]


def build_time() -> int:
    """Now, or SOURCE_DATE_EPOCH where it is set, in whole seconds."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch:
        try:
            return int(epoch)
        except ValueError:
            raise DeckgenError(f"SOURCE_DATE_EPOCH must be whole seconds, not {epoch!r}") from None
    return int(time.time())


@dataclass(frozen=True)
class Stamp:
    """One key's record: its content digest and time; for a note, its GUID, subdeck and question."""

    digest: str
    mod: int
    guid: str | None = None
    deck: str | None = None
    question: str | None = None

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {"digest": self.digest, "mod": self.mod}
        for name in ("guid", "deck", "question"):
            value = getattr(self, name)
            if value is not None:
                data[name] = value
        return data


class LockError(DeckgenError):
    """The lock file cannot be read; it is left as it is."""


class Stamps:
    """The lock file's content: key -> Stamp, plus the deck title it was written for.

    `origin` says where the old stamps came from when not simply read: "resolved" (a git merge
    conflict was resolved), "recovered" (taken from the previous .apkg), "missing" (none at all).
    """

    def __init__(self, path: Path, stamps: dict[str, Stamp], title: str | None = None,
                 origin: str = "read") -> None:
        self.path = path
        self.old = stamps
        self.old_title = title
        self.title = title
        self.origin = origin
        self._new: dict[str, Stamp] = {}
        self._version = LOCK_VERSION

    @classmethod
    def read(cls, path: Path) -> Stamps:
        """The stamps in `path`; none (origin "missing") when it does not exist.

        Raises LockError naming the file and line for anything unreadable or out of range.
        """
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(path, {}, origin="missing")
        except (OSError, UnicodeDecodeError) as exc:
            raise LockError(f"{path}: cannot read the lock file ({exc}); "
                            + _ADVICE.format(path=path)) from None
        sides = _conflict_sides(text, path)
        if sides is None:
            stamps, title, version = _parse(text, path)
            result = cls(path, stamps, title)
            result._version = version
            return result
        (ours, ours_title), (theirs, _) = (_parse_lines(side, path) for side in sides)
        merged = dict(ours)
        for key, stamp in theirs.items():
            if key not in merged or stamp.mod > merged[key].mod:
                merged[key] = stamp
        return cls(path, merged, ours_title, origin="resolved")

    @property
    def version(self) -> int:
        """The version of the lock file as read (LOCK_VERSION when there was none)."""
        return self._version

    def learn(self, found: dict[str, Stamp], title: str | None) -> None:
        """Fill in what a version 1 lock file lacks (GUID, subdeck, question) from `found`,
        the stamps of the deck the last build wrote (even on another git branch: an entry's
        note has one GUID, and a wrong subdeck can only fail to match a legacy digest)."""
        for key, stamp in self.old.items():
            known = found.get(key)
            if known is not None and stamp.guid is None:
                self.old[key] = Stamp(stamp.digest, stamp.mod, known.guid, known.deck,
                                      known.question)
        if self.old_title is None:
            self.old_title = title

    def record(self, key: str) -> Stamp | None:
        """The old stamp of `key`, if the lock file had one."""
        return self.old.get(key)

    def mod(self, key: str, digest: str, now: int, *, legacy: Callable[[], str] | None = None,
            guid: str | None = None, deck: str | None = None,
            question: str | None = None) -> int:
        """The modification time for `key` whose content now has `digest`.

        `legacy` gives the digest the same content had before the note type lost its Category
        field; an old stamp with that digest keeps its time.
        """
        old = self.old.get(key)
        if old is not None and (old.digest == digest
                                or (legacy is not None and old.digest == legacy())):
            mod = old.mod
        else:
            mod = max(now, old.mod + 1) if old is not None else now
        self._new[key] = Stamp(digest, mod, guid, deck, question)
        return mod

    def changed(self) -> bool:
        """Whether the lock file must be rewritten."""
        return (self._new != self.old or self.title != self.old_title
                or self._version != LOCK_VERSION or self.origin != "read")

    def keys_changed(self) -> Iterable[str]:
        """Keys that are new or got a new time (their content changed) since the lock file."""
        changed = []
        for key, stamp in self._new.items():
            old = self.old.get(key)
            if old is None or old.mod != stamp.mod:
                changed.append(key)
        return changed

    @property
    def new(self) -> dict[str, Stamp]:
        """The stamps handed out by this build."""
        return dict(self._new)

    def serialize(self) -> bytes:
        """The lock file for the stamps handed out, one key a line so diffs read well."""
        lines = [f"    {json.dumps(key, ensure_ascii=False)}: "
                 f"{json.dumps(s.to_json(), ensure_ascii=False)}"
                 for key, s in sorted(self._new.items())]
        body = ",\n".join(lines)
        title = json.dumps(self.title or "", ensure_ascii=False)
        return (f'{{\n  "version": {LOCK_VERSION},\n  "title": {title},\n  "stamps": {{\n'
                f"{body}\n  }}\n}}\n").encode()


def recovered(path: Path, stamps: dict[str, Stamp], title: str | None) -> Stamps:
    """Stamps rebuilt from an earlier .apkg, for a lock file that went missing."""
    return Stamps(path, stamps, title, origin="recovered")


_MARKERS = ("<<<<<<<", "|||||||", "=======", ">>>>>>>")


def _conflict_sides(text: str, path: Path) -> tuple[list[str], list[str]] | None:
    """Both sides of a file holding git conflict markers, or None when it has none."""
    lines = text.splitlines()
    if not any(line.startswith(_MARKERS[0]) for line in lines):
        return None
    ours: list[str] = []
    theirs: list[str] = []
    side: str | None = None
    for number, line in enumerate(lines, 1):
        if line.startswith("<<<<<<<") and side is None:
            side = "ours"
        elif line.startswith("|||||||") and side == "ours":
            side = "base"
        elif line.startswith("=======") and side in ("ours", "base"):
            side = "theirs"
        elif line.startswith(">>>>>>>") and side == "theirs":
            side = None
        elif line.startswith(_MARKERS):
            raise LockError(f"{path}:{number}: conflict marker out of place; "
                            + _ADVICE.format(path=path))
        else:
            if side in (None, "ours"):
                ours.append(line)
            if side in (None, "theirs"):
                theirs.append(line)
    if side is not None:
        raise LockError(f"{path}: a conflict opened with <<<<<<< is never closed; "
                        + _ADVICE.format(path=path))
    return ours, theirs


_LINE = re.compile(r'^\s*("(?:[^"\\]|\\.)*")\s*:\s*(.*?)\s*,?\s*$')


def _parse_lines(lines: list[str], path: Path) -> tuple[dict[str, Stamp], str | None]:
    """One side of a conflicted lock file, read line by line (deckgen writes one key a line)."""
    stamps: dict[str, Stamp] = {}
    title: str | None = None
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        if match is None or match.group(2) == "{":
            continue
        try:
            key = json.loads(match.group(1))
            value = _load_json(match.group(2))
        except ValueError as exc:
            raise LockError(f"{path}: cannot read a side of the merge conflict ({exc}); "
                            + _ADVICE.format(path=path)) from None
        if key == "version":
            _check_version(value, path, number)
        elif key == "title":
            title = _check_title(value, path, number)
        else:
            stamps[key] = _stamp(key, value, path, partial(int, number))
    return stamps, title


def _load_json(text: str) -> Any:
    def constant(name: str) -> None:
        raise ValueError(f"{name} is not a number JSON allows")

    return json.loads(text, parse_constant=constant)


def _line_of(text: str, key: str) -> int | None:
    needle = json.dumps(key, ensure_ascii=False) + ":"
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _parse(text: str, path: Path) -> tuple[dict[str, Stamp], str | None, int]:
    try:
        data = _load_json(text)
    except json.JSONDecodeError as exc:
        raise LockError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg}); "
                        + _ADVICE.format(path=path)) from None
    except ValueError as exc:
        raise LockError(f"{path}: {exc}; " + _ADVICE.format(path=path)) from None
    if not isinstance(data, dict) or not isinstance(data.get("stamps"), dict):
        raise LockError(f"{path}: not a deckgen lock file (no \"stamps\" mapping); "
                        + _ADVICE.format(path=path))
    version = _check_version(data.get("version"), path, _line_of(text, "version"))
    title = _check_title(data["title"], path, _line_of(text, "title")) if "title" in data else None
    # A key's line is looked up only to report it: a search per key would make reading the
    # lock file of 10,000 notes take half a minute.
    stamps = {key: _stamp(key, value, path, partial(_line_of, text, key))
              for key, value in data["stamps"].items()}
    return stamps, title, version


def _where(path: Path, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else str(path)


def _check_version(value: object, path: Path, line: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise LockError(f"{_where(path, line)}: \"version\" must be a whole number, not "
                        f"{value!r}; " + _ADVICE.format(path=path))
    if value > LOCK_VERSION:
        raise LockError(f"{_where(path, line)}: written by a newer deckgen (lock file version "
                        f"{value}, this one reads up to {LOCK_VERSION}); upgrade deckgen and "
                        "build again; the file was left as it is")
    return value


def _check_title(value: object, path: Path, line: int | None) -> str:
    if not isinstance(value, str):
        raise LockError(f"{_where(path, line)}: \"title\" must be text; "
                        + _ADVICE.format(path=path))
    return value


def _stamp(key: object, value: object, path: Path, line: Callable[[], int | None]) -> Stamp:
    """A checked stamp: every field of the right type, the time a plausible one. `line` gives
    the stamp's line in the file, for an error."""
    if not isinstance(key, str) or not isinstance(value, dict):
        raise LockError(f"{_where(path, line())}: each stamp must be a mapping; "
                        + _ADVICE.format(path=path))
    mod = value.get("mod")
    if not isinstance(mod, int) or isinstance(mod, bool) or not 0 <= mod < _LATEST:
        raise LockError(f"{_where(path, line())}: stamp {key!r}: \"mod\" must be whole seconds "
                        f"since 1970 (0 to {_LATEST}), not {mod!r}; " + _ADVICE.format(path=path))
    digest = value.get("digest")
    if not isinstance(digest, str) or not digest:
        raise LockError(f"{_where(path, line())}: stamp {key!r}: \"digest\" must be text; "
                        + _ADVICE.format(path=path))
    extra: dict[str, str | None] = {}
    for name in ("guid", "deck", "question"):
        text = value.get(name)
        if text is not None and (not isinstance(text, str) or not text
                                 or (name == "guid" and " " in text)):
            what = "a GUID (text without spaces)" if name == "guid" else "text"
            raise LockError(f"{_where(path, line())}: stamp {key!r}: {name!r} must be {what}, "
                            f"not {text!r}; " + _ADVICE.format(path=path))
        extra[name] = text
    return Stamp(digest, mod, extra["guid"], extra["deck"], extra["question"])


@dataclass(frozen=True)
class DeckChanges:
    """What changed between the lock file's notes and this build's that a file import cannot do.

    `moved` is (entry id, old subdeck, new subdeck); `renamed` (old id, new id) for a note kept
    through `was`; `removed` the old ids whose notes no build makes any more; `looks_renamed`
    (old id, new id) for a removed note whose question a new note has word for word.
    """

    moved: list[tuple[str, str, str]]
    renamed: list[tuple[str, str]]
    removed: list[str]
    looks_renamed: list[tuple[str, str]]
    title: tuple[str, str] | None
    root: str  # the deck's title now

    def __bool__(self) -> bool:
        return bool(self.moved or self.renamed or self.removed or self.title)


def deck_changes(stamps: Stamps) -> DeckChanges:
    """Compare the notes the lock file recorded with the ones this build stamped."""
    def notes(table: dict[str, Stamp]) -> dict[str, tuple[str, Stamp]]:
        return {s.guid: (k.removeprefix(NOTE_PREFIX), s) for k, s in table.items()
                if k.startswith(NOTE_PREFIX) and s.guid is not None}

    old, new = notes(stamps.old), notes(stamps.new)
    moved, renamed = [], []
    for guid, (entry_id, stamp) in sorted(new.items(), key=lambda item: item[1][0]):
        if guid not in old:
            continue
        old_id, old_stamp = old[guid]
        if old_id != entry_id:
            renamed.append((old_id, entry_id))
        if old_stamp.deck is not None and stamp.deck is not None and old_stamp.deck != stamp.deck:
            moved.append((entry_id, old_stamp.deck, stamp.deck))
    removed = sorted(old_id for guid, (old_id, _) in old.items() if guid not in new)
    fresh = {s.question: entry_id for guid, (entry_id, s) in new.items()
             if guid not in old and s.question is not None}
    looks_renamed = [(old_id, fresh[s.question]) for guid, (old_id, s) in sorted(old.items())
                     if guid not in new and s.question in fresh]
    title = None
    if stamps.old_title and stamps.title and stamps.old_title != stamps.title:
        title = (stamps.old_title, stamps.title)
    return DeckChanges(moved, renamed, removed, sorted(looks_renamed), title, stamps.title or "")
