"""Modification times that move only when the thing they stamp changes.

Anki updates a known note on re-import only when the incoming `mod` is newer, and then overwrites
it. So each note (and the note type) carries the time its content last changed, remembered across
builds in a lock file kept next to the source: unchanged content keeps its time, changed content
gets a time newer than both the clock and its previous one.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deckgen.errors import DeckgenError

LOCK_FILE = "deckgen.lock"
_LOCK_VERSION = 1


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
    digest: str
    mod: int


class Stamps:
    """The lock file's content: key -> (digest of the content, when it was first built)."""

    def __init__(self, path: Path, stamps: dict[str, Stamp]) -> None:
        self.path = path
        self._old = stamps
        self._new: dict[str, Stamp] = {}

    @classmethod
    def read(cls, path: Path) -> Stamps:
        """The stamps in `path`; none when it does not exist yet."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            stamps = {key: Stamp(str(v["digest"]), int(v["mod"]))
                      for key, v in data["stamps"].items()}
        except FileNotFoundError:
            stamps = {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeckgenError(f"{path}: cannot read the lock file ({exc}); delete it to start "
                               "afresh (Anki will then update every note once)") from None
        return cls(path, stamps)

    def mod(self, key: str, digest: str, now: int) -> int:
        """The modification time for `key` whose content now has `digest`."""
        old = self._old.get(key)
        if old is not None and old.digest == digest:
            stamp = old
        else:
            stamp = Stamp(digest, max(now, old.mod + 1) if old is not None else now)
        self._new[key] = stamp
        return stamp.mod

    def changed(self) -> bool:
        """Whether the lock file must be rewritten."""
        return self._new != self._old

    def keys_changed(self) -> Iterable[str]:
        """Keys whose content is new or changed since the lock file was written."""
        return [k for k, s in self._new.items() if self._old.get(k) != s]

    def serialize(self) -> bytes:
        """The lock file for the stamps handed out, one key a line so diffs read well."""
        lines = [
            f"    {json.dumps(key)}: {json.dumps({'digest': s.digest, 'mod': s.mod})}"
            for key, s in sorted(self._new.items())
        ]
        body = ",\n".join(lines)
        return (f'{{\n  "version": {_LOCK_VERSION},\n  "stamps": {{\n{body}\n  }}\n}}\n'
                ).encode()
