"""load -> render -> write build/ atomically: the one library call behind `deckgen build`.

Each output is rebuilt only when one of its inputs changed: the source files, its templates,
deckgen's and its renderers' versions, and the options. What went into each output is recorded in
build/.deckgen-state.json; a build that finds everything current reads no YAML at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

from deckgen import __version__
from deckgen.errors import OutputError, Problem
from deckgen.resources import Templates
from deckgen.source import load_guide
from deckgen.stamps import LOCK_FILE, Stamps, build_time

STATE_FILE = ".deckgen-state.json"
DOCUMENTS = ("cheatsheet", "study-guide")
TARGETS = ("deck", *DOCUMENTS)
_RENDERERS = ("genanki", "jinja2", "markdown-it-py", "pyyaml", "weasyprint", "ziamath")

Progress = Callable[[str], None]
"""Told what a build is doing, before each step that can take a while."""


@dataclass(frozen=True)
class BuildOptions:
    """Where to read from and write to, and how the sheet is printed.

    `templates` holds the project's own templates, each overriding deckgen's default of the same
    name; where it does not exist, the defaults are used throughout.
    """

    source: Path = Path("source")
    out: Path = Path("build")
    templates: Path = Path("templates")
    paper: str = "a4"


@dataclass
class BuildResult:
    """What a build wrote and what it noticed."""

    written: list[Path] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: int = 0
    changed_notes: list[str] = field(default_factory=list)

    @property
    def up_to_date(self) -> bool:
        """Whether nothing needed building."""
        return not self.rebuilt


def slugify(text: str) -> str:
    """A file-name-safe slug of a title."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "deck"


def _digest_files(paths: list[Path], root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        data = path.read_bytes()
        digest.update(f"{path.relative_to(root)}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")]


def _digest_templates(templates: Templates, names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        data = templates.read_bytes(name)
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def input_digests(options: BuildOptions, lock: bytes | None = None) -> dict[str, str]:
    """A digest of everything each target is built from; `lock` stands in for the lock file.

    Templates count as the files a build actually uses: the project's where it has them,
    deckgen's defaults otherwise.
    """
    lock_path = options.source / LOCK_FILE
    source_files = [p for p in _files(options.source)
                    if p.parent == options.source and p != lock_path]
    source = _digest_files(source_files, options.source)
    if lock is None:
        lock = lock_path.read_bytes() if lock_path.is_file() else b""
    tools = ",".join([f"deckgen {__version__}", *(f"{n} {version(n)}" for n in _RENDERERS)])
    templates = Templates(options.templates)
    anki = _digest_templates(templates, [n for n in templates.files if n.startswith("anki/")])
    digests = {"deck": _file_digest(f"deck {source} {_file_digest(lock)} {anki} {tools}".encode())}
    # A document is built from its own template files (pdf/<name>.*) and the shared ones (fonts);
    # not from the lock file, which only holds the deck's modification times.
    pdf_files = [n for n in templates.files if n.startswith("pdf/")]
    for name in DOCUMENTS:
        others = tuple(f"{other}." for other in DOCUMENTS if other != name)
        own = [n for n in pdf_files if not n.rsplit("/", 1)[-1].startswith(others)]
        used = _digest_templates(templates, own)
        inputs = f"{name} {source} {used} {tools} paper={options.paper}"
        digests[name] = _file_digest(inputs.encode())
    return digests


def _file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_state(out: Path) -> dict[str, dict[str, object]]:
    try:
        state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        return {k: v for k, v in state.items() if isinstance(v, dict)}
    except (OSError, ValueError, AttributeError):
        return {}


def _current(record: dict[str, object] | None, inputs: str, out: Path) -> bool:
    """Whether a target's recorded outputs came from `inputs` and are still there, unaltered."""
    if record is None or record.get("inputs") != inputs:
        return False
    files = record.get("files")
    if not isinstance(files, dict) or not files:
        return False
    for name, digest in files.items():
        try:
            if _file_digest((out / name).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def build(options: BuildOptions, progress: Progress | None = None) -> BuildResult:
    """Bring options.out up to date with options.source: deck, cheat sheet and study guide.

    Everything is rendered in memory first; the outputs then replace the previous ones together,
    so a failed or interrupted build leaves the last good outputs exactly as they were.
    """
    say = progress or (lambda _: None)
    digests = input_digests(options)
    state = _read_state(options.out)
    stale = [t for t in TARGETS if not _current(state.get(t), digests[t], options.out)]
    if not stale:
        return BuildResult()

    say("reading the source")
    guide, warnings = load_guide(options.source)
    outputs: dict[Path, bytes] = {}
    made: dict[str, list[Path]] = {}
    result = BuildResult(rebuilt=stale, warnings=warnings, notes=len(guide.entries))
    stamps: Stamps | None = None
    if "deck" in stale:
        from deckgen.anki import build_package

        say("writing the Anki deck")
        stamps = Stamps.read(options.source / LOCK_FILE)
        deck_file = options.out / f"{slugify(guide.title)}.apkg"
        outputs[deck_file] = build_package(guide, options.templates, stamps, build_time())
        made["deck"] = [deck_file]
        result.changed_notes = [k.removeprefix("note:") for k in stamps.keys_changed()
                                if k.startswith("note:")]
        if stamps.changed():
            outputs[stamps.path] = stamps.serialize()
    documents = [t for t in DOCUMENTS if t in stale]
    if documents:
        from deckgen.mathsvg import FormulaCache
        from deckgen.pdf import html_to_pdf
        from deckgen.sheet import categories_view, cheatsheet_html, study_guide_html

        with FormulaCache() as formulas:
            categories = categories_view(guide, formulas, progress=say)
        renderers = {"cheatsheet": cheatsheet_html, "study-guide": study_guide_html}
        for name in documents:
            html = renderers[name](guide, categories, options.templates, options.paper)
            say(f"rendering {name}.pdf")
            pdf, _ = html_to_pdf(html, options.templates)
            made[name] = [options.out / f"{name}.html", options.out / f"{name}.pdf"]
            outputs[made[name][0]] = html.encode("utf-8")
            outputs[made[name][1]] = pdf

    if stamps is not None and stamps.changed():
        digests = input_digests(options, lock=outputs[stamps.path])
    for target, files in made.items():
        state[target] = {"inputs": digests[target],
                         "files": {p.name: _file_digest(outputs[p]) for p in files}}
    outputs[options.out / STATE_FILE] = json.dumps(state, indent=1, sort_keys=True).encode()
    say("writing the outputs")
    replace_all(outputs)
    result.written = sorted(p for files in made.values() for p in files)
    return result


def check(options: BuildOptions) -> tuple[int, list[Problem]]:
    """Validate the source as a build would (formulas included) and lint it; write nothing.

    Returns the number of entries and the warnings; raises SourceError on errors.
    """
    from deckgen.lint import lint
    from deckgen.mathsvg import FormulaCache
    from deckgen.sheet import categories_view

    guide, _ = load_guide(options.source)
    with FormulaCache() as formulas:
        categories_view(guide, formulas)
    return len(guide.entries), lint(guide)


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM until the block is done, so renames are never cut in half."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no signal masks
        with _interrupt_deferred():
            yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


@contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """Where signals cannot be masked: a Ctrl-C during the block is raised when it is done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    seen: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if seen:
        raise KeyboardInterrupt


def replace_all(outputs: dict[Path, bytes]) -> None:
    """Write every file next to its target, then swap them all into place, all or nothing.

    Until the swap the previous files are untouched; if a rename fails midway, the files already
    swapped are put back, so build/ never holds a mix of old and new.
    """
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path]] = []
    try:
        for target, data in outputs.items():
            with _signals_held():  # recorded before an interrupt can land, so `finally` sees it
                handle, temporary = _create_beside(target)
                staged.append((temporary, target))
            _write(handle, temporary, data)
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


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new hidden file beside `target`, open for writing."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp",
                                        dir=target.parent)
    except OSError as exc:
        raise OutputError(f"{target.parent}: cannot write here ({exc.strerror})") from None
    return handle, Path(name)


def _write(handle: int, path: Path, data: bytes) -> None:
    """`data` written to the open file and synced to disk."""
    with os.fdopen(handle, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())
    os.chmod(path, 0o644)
