"""`deckgen watch`: rebuild on every change to the source or the templates, in one warm process."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from deckgen.build import BuildOptions, BuildResult, Progress, build
from deckgen.errors import DeckgenError
from deckgen.stamps import LOCK_FILE

Snapshot = dict[Path, tuple[int, int]]
OnBuild = Callable[[BuildResult | None, DeckgenError | None], None]

# How often, with nothing reported, the watch checks that the folders it watches still are the ones
# that exist (a templates/ folder made or removed while watching); also bounds how long Ctrl-C and
# `stop` wait on Windows.
_RECHECK_MS = 1_000


def snapshot(folders: tuple[Path, ...]) -> Snapshot:
    """Modification time and size of every visible entry under `folders` but folders, links to
    nothing included (the build reports them)."""
    seen: Snapshot = {}
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in folder.rglob("*"):
            if path.name.startswith("."):
                continue
            try:
                info = path.stat() if path.exists() else path.lstat()
            except OSError:  # deleted while we looked
                continue
            if not stat.S_ISDIR(info.st_mode):
                seen[path] = (info.st_mtime_ns, info.st_size)
    return seen


def _visible(change: watchfiles.Change, path: str) -> bool:
    """Changes worth a look: not hidden files (editors' swap files, deckgen's own temporaries)."""
    return not Path(path).name.startswith(".")


def watch(options: BuildOptions, on_build: OnBuild, *, interval: float = 0.5,
          progress: Progress | None = None, stop: threading.Event | None = None) -> None:
    """Build now, then again after each change, until `stop` is set (or Ctrl-C).

    The operating system reports changes (through watchfiles); nothing is scanned while nothing
    happens. A burst of changes (an editor saving several files) makes one build: once a change is
    reported, the folders must look the same twice, `interval` apart, before it starts. Each
    result or error goes to `on_build`; a failed build does not end the watch.
    """
    stop = stop or threading.Event()
    folders = (options.source, options.templates)
    lock = options.source / LOCK_FILE

    def run() -> Snapshot:
        # Taken before the build, so an edit made while it runs is seen as a change afterwards;
        # the lock file the build itself may rewrite is then taken as it is now.
        before = snapshot(folders)
        try:
            on_build(build(options, progress=progress), None)
        except DeckgenError as exc:
            on_build(None, exc)
        try:
            info = lock.stat()
            before[lock] = (info.st_mtime_ns, info.st_size)
        except OSError:
            before.pop(lock, None)
        return before

    def settled() -> Snapshot | None:
        """The folders once they stopped changing, or None if `stop` came first."""
        current = snapshot(folders)
        while not stop.wait(interval):
            again = snapshot(folders)
            if again == current:
                return current
            current = again
        return None

    last = run()
    # Set when the folders differ from the last build's view: an edit landed during the build.
    pending = snapshot(folders) != last
    # An edit can also land after that look but before the operating system watches the folders
    # again; the first quiet moment after each build looks once more.
    recheck = True
    while not stop.is_set():
        watched = tuple(f for f in folders if f.is_dir())
        if not watched:  # nothing to watch yet: look again in a moment
            stop.wait(_RECHECK_MS / 1000)
            pending = True
            continue
        for changes in watchfiles.watch(*watched, watch_filter=_visible, stop_event=stop,
                                        rust_timeout=_RECHECK_MS, yield_on_timeout=True):
            regrouped = tuple(f for f in folders if f.is_dir()) != watched
            if not (changes or pending or regrouped):
                if not recheck:
                    continue
                recheck = False
                pending = snapshot(folders) != last
                if not pending:
                    continue
            now = settled()
            if now is None:
                return
            if now != last:
                last = run()
                recheck = True
            pending = snapshot(folders) != last
            if regrouped:
                break  # watch the folders that exist now
