"""load -> render -> write build/ atomically: the one library call behind `deckgen build`."""

from __future__ import annotations

import os
import re
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deckgen.errors import OutputError, Problem
from deckgen.source import load_guide
from deckgen.stamps import LOCK_FILE, Stamps, build_time


@dataclass(frozen=True)
class BuildOptions:
    """Where to read from and write to, and how the sheet is printed."""

    source: Path = Path("source")
    out: Path = Path("build")
    templates: Path = Path("templates")
    paper: str = "a4"


@dataclass
class BuildResult:
    """What a build wrote and what it noticed."""

    written: list[Path] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: int = 0
    changed_notes: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    """A file-name-safe slug of a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "deck"


def build(options: BuildOptions) -> BuildResult:
    """Build the deck and the sheet from options.source into options.out.

    Everything is rendered in memory first; the outputs then replace the previous ones together,
    so a failed or interrupted build leaves the last good outputs exactly as they were.
    """
    from deckgen.anki import build_package
    from deckgen.mathsvg import FormulaCache
    from deckgen.pdf import html_to_pdf
    from deckgen.sheet import categories_view, cheatsheet_html, study_guide_html

    guide, warnings = load_guide(options.source)
    stamps = Stamps.read(options.source / LOCK_FILE)
    now = build_time()
    outputs: dict[Path, bytes] = {}
    deck_file = options.out / f"{slugify(guide.title)}.apkg"
    outputs[deck_file] = build_package(guide, options.templates, stamps, now)
    formulas = FormulaCache()
    try:
        categories = categories_view(guide, formulas)
    finally:
        formulas.save()
    for name, render in (("cheatsheet", cheatsheet_html), ("study-guide", study_guide_html)):
        html = render(guide, categories, options.templates, options.paper)
        outputs[options.out / f"{name}.html"] = html.encode("utf-8")
        outputs[options.out / f"{name}.pdf"], _ = html_to_pdf(html, options.templates)
    changed = [k.removeprefix("note:") for k in stamps.keys_changed() if k.startswith("note:")]
    if stamps.changed():
        outputs[stamps.path] = stamps.serialize()
    replace_all(outputs)
    return BuildResult(
        written=sorted(p for p in outputs if p != stamps.path), warnings=warnings,
        notes=len(guide.entries), changed_notes=changed,
    )


def check(options: BuildOptions) -> tuple[int, list[Problem]]:
    """Validate the source as a build would (formulas included) and lint it; write nothing.

    Returns the number of entries and the warnings; raises SourceError on errors.
    """
    from deckgen.lint import lint
    from deckgen.mathsvg import FormulaCache
    from deckgen.sheet import categories_view

    guide, _ = load_guide(options.source)
    formulas = FormulaCache()
    try:
        categories_view(guide, formulas)
    finally:
        formulas.save()
    return len(guide.entries), lint(guide)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, so renames are never cut in half."""
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def replace_all(outputs: dict[Path, bytes]) -> None:
    """Write every file next to its target, then swap them all into place, all or nothing.

    Until the swap the previous files are untouched; if a rename fails midway, the files already
    swapped are put back, so build/ never holds a mix of old and new.
    """
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for target, data in outputs.items():
            staged.append((_stage(target, data), target))
        with _signals_held():
            try:
                for temporary, target in staged:
                    if target.exists():
                        backup = temporary.with_suffix(".old")
                        os.link(target, backup)
                        backups.append((backup, target))
                    os.replace(temporary, target)
            except OSError:
                for backup, target in backups:
                    # A no-op when both names are links to one file (the failed rename); the
                    # leftover name goes in `finally`.
                    os.replace(backup, target)
                raise
    except OSError as exc:
        raise OutputError(f"cannot write the outputs: {exc}") from None
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for backup, _ in backups:
            backup.unlink(missing_ok=True)


def _stage(target: Path, data: bytes) -> Path:
    """`data` written and synced to a hidden file beside `target`."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                        dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target.parent}: cannot write here ({exc.strerror})") from None
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(name, 0o644)
    return Path(name)
