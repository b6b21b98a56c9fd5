"""Work kept between builds on this machine, in the platform's cache folder.

That is ~/.cache/deckgen on Linux ($XDG_CACHE_HOME honoured), ~/Library/Caches/deckgen on macOS,
%LOCALAPPDATA%\\deckgen\\Cache on Windows; $DECKGEN_CACHE_DIR, where set, wins.

Everything here can be deleted at any time: it is only ever a faster way to the same result.
Entries are keyed by a digest of their exact inputs and of deckgen's own code, so a stale one is
never used, not even after an edit to deckgen that kept its version number; writes are atomic, and
a cache that cannot be read or written is simply skipped.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs

from deckgen import __version__


def cache_dir() -> Path:
    """Where deckgen keeps work between builds."""
    configured = os.environ.get("DECKGEN_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path(platformdirs.user_cache_dir("deckgen", appauthor=False))


@cache
def code_digest() -> str:
    """A digest of deckgen's version and the code of its modules, as installed."""
    h = hashlib.blake2b(__version__.encode(), digest_size=20)
    for module in sorted(Path(__file__).parent.glob("*.py")):
        h.update(module.read_bytes())
    return h.hexdigest()


def digest(*parts: bytes | str) -> str:
    """A hex digest of `parts` and deckgen's code."""
    h = hashlib.blake2b(code_digest().encode(), digest_size=20)
    for part in parts:
        data = part.encode() if isinstance(part, str) else part
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
    return h.hexdigest()


class Slot:
    """One cached value per `owner` (a file path, say): a new value replaces the owner's old one.

    Keys come from `digest`, so a value stored by other code is never read back; and since the
    owner's part of the name does not depend on the code, storing a value drops those old ones.
    """

    def __init__(self, kind: str, owner: str) -> None:
        self.folder = cache_dir() / kind
        self.prefix = hashlib.blake2b(owner.encode(), digest_size=12).hexdigest()

    def _path(self, key: str) -> Path:
        return self.folder / f"{self.prefix}-{key[:40]}.pickle"

    def get(self, key: str) -> Any:
        """The value stored under `key`, or None."""
        # Reading back tens of thousands of objects, Python's cycle collector would run again
        # and again over all of them (half the time at 10,000 notes): pickles hold no cycles.
        collecting = gc.isenabled()
        gc.disable()
        try:
            with self._path(key).open("rb") as stream:
                return pickle.load(stream)
        except (OSError, pickle.PickleError, EOFError, AttributeError, ImportError, ValueError):
            return None
        finally:
            if collecting:
                gc.enable()

    def put(self, key: str, value: Any) -> None:
        """Store `value` under `key`, dropping what the owner stored before."""
        target = self._path(key)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            for old in self.folder.glob(f"{self.prefix}-*.pickle"):
                if old != target:
                    old.unlink(missing_ok=True)
            temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            temporary.write_bytes(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
            os.replace(temporary, target)
        except OSError:
            pass
