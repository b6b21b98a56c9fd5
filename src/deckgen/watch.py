"""`deckgen watch`: rebuild on every change to the source or the templates, in one warm process."""

from __future__ import annotations

import stat
import threading
from collections.abc import Callable
from pathlib import Path

from deckgen.build import BuildOptions, BuildResult, Progress, build
from deckgen.errors import DeckgenError
from deckgen.stamps import LOCK_FILE

Snapshot = dict[Path, tuple[int, int]]
OnBuild = Callable[[BuildResult | None, DeckgenError | None], None]


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


def watch(options: BuildOptions, on_build: OnBuild, *, interval: float = 0.5,
          progress: Progress | None = None, stop: threading.Event | None = None) -> None:
    """Build now, then again after each change, until `stop` is set (or Ctrl-C).

    A burst of changes (an editor saving several files) makes one build: the folders must look the
    same twice, `interval` apart, before it starts. Each result or error goes to `on_build`.
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

    last = run()
    while not stop.wait(interval):
        current = snapshot(folders)
        if current == last:
            continue
        while not stop.wait(interval):
            settled = snapshot(folders)
            if settled == current:
                break
            current = settled
        if stop.is_set():
            return
        last = run()
