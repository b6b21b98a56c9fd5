"""load -> render -> write build/ atomically: the one library call behind `deckgen build`.

Each output is rebuilt only when one of its inputs changed: the source files, its templates,
deckgen's and its renderers' versions, and the options. What went into each output is recorded in
build/.deckgen-state.json; a build that finds everything current reads no YAML at all.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import signal
import sqlite3
import tempfile
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from deckgen import __version__
from deckgen.errors import OutputError, OutputsWritten, Problem
from deckgen.media import KINDS as MEDIA_KINDS
from deckgen.media import MEDIA_DIR
from deckgen.resources import Templates
from deckgen.source import SourceFiles, load_guide, read_source, unused_media
from deckgen.stamps import LOCK_FILE, DeckChanges, Stamps, build_time, deck_changes, recovered

if TYPE_CHECKING:
    from deckgen.documents import Workers
    from deckgen.flashcards import FlashcardsReport, Selection

STATE_FILE = ".deckgen-state.json"
DOCUMENTS = ("cheatsheet", "study-guide", "flashcards")
TARGETS = ("deck", *DOCUMENTS)
_RENDERERS = ("genanki", "jinja2", "markdown-it-py", "pikepdf", "pyyaml", "weasyprint", "ziamath")

Progress = Callable[[str], None]
"""Told what a build is doing, before each step that can take a while."""


@dataclass(frozen=True)
class BuildOptions:
    """Where to read from and write to, and how the sheet is printed.

    `templates` holds the project's own templates, each overriding deckgen's default of the same
    name; where it does not exist, the defaults are used throughout. `selection` chooses the
    entries the printed documents show (the deck always holds every entry); `flip` is the
    flashcards' duplex edge ("long" or "short").
    """

    source: Path = Path("source")
    out: Path = Path("build")
    templates: Path = Path("templates")
    paper: str = "a4"
    selection: Selection | None = None
    flip: str = "long"

    def printing(self, document: str) -> str:
        """The options a document is built with beyond the paper, as text for its digest."""
        selection = self.selection
        chosen = "" if selection is None else selection.key(level=document != "cheatsheet")
        if document == "flashcards":
            chosen = f"{chosen} flip={self.flip}".strip()
        return chosen


@dataclass
class BuildResult:
    """What a build wrote and what it noticed."""

    written: list[Path] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    notes: int = 0
    changed_notes: list[str] = field(default_factory=list)
    changes: DeckChanges | None = None  # what a file import cannot apply (see `deckgen sync`)
    laid_out: dict[str, tuple[int, int]] = field(default_factory=dict)  # document: (parts, of)
    flashcards: FlashcardsReport | None = None  # sheets and shortened backs, when rebuilt
    notices: list[str] = field(default_factory=list)  # what happened to the lock file

    @property
    def up_to_date(self) -> bool:
        """Whether nothing needed building."""
        return not self.rebuilt


def slugify(text: str) -> str:
    """A file-name-safe slug of a title: lowercase letters and digits of any script, '-' between.

    An ASCII title keeps only a-z and 0-9 ("LLM Interview Guide" -> "llm-interview-guide");
    other scripts' letters stay as they are ("Ünïcødé Déck" -> "ünïcødé-déck").
    """
    kept = [c if (c.isascii() and c.isalnum())
            or (not c.isascii() and unicodedata.category(c)[0] in "LNM") else "-"
            for c in unicodedata.normalize("NFC", text).lower()]
    slug = re.sub(r"-+", "-", "".join(kept)).strip("-")
    # File names hold 255 bytes; 120 leave room for the suffix and a temporary's prefix.
    while len(slug.encode("utf-8")) > 120:
        slug = slug[:-1].rstrip("-")
    return slug or "deck"


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


@dataclass(frozen=True)
class Inputs:
    """Digests of what the targets are built from, taken once before a build reads anything:
    outputs recorded under them came from these bytes or older ones, never newer."""

    source: str
    anki: str
    pdf: dict[str, str]
    tools: str
    paper: str
    printing: dict[str, str] = field(default_factory=dict)  # each document's other options

    @classmethod
    def read(cls, options: BuildOptions, files: SourceFiles) -> Inputs:
        """The digests of `files` (the source as read), of its figures and of the templates the
        build uses (the project's where it has them, deckgen's defaults otherwise)."""
        tools = ",".join([f"deckgen {__version__}", *(f"{n} {version(n)}" for n in _RENDERERS)])
        templates = Templates(options.templates)
        anki = _digest_templates(templates, [n for n in templates.files if n.startswith("anki/")])
        # A document is built from its own template files (pdf/<name>.*) and the shared ones
        # (fonts); not from the lock file, which only holds the deck's modification times.
        pdf_files = [n for n in templates.files if n.startswith("pdf/")]
        pdf = {}
        for name in DOCUMENTS:
            others = tuple(f"{other}." for other in DOCUMENTS if other != name)
            own = [n for n in pdf_files if not n.rsplit("/", 1)[-1].startswith(others)]
            pdf[name] = _digest_templates(templates, own)
        media = options.source / MEDIA_DIR
        figures = [p for p in _files(media)
                   if p.parent == media and p.suffix.lower() in MEDIA_KINDS]
        source = files.digest() + _digest_files(figures, options.source)
        printing = {name: options.printing(name) for name in DOCUMENTS}
        return cls(source, anki, pdf, tools, options.paper, printing)

    def digests(self, lock: bytes) -> dict[str, str]:
        """A digest of everything each target is built from, given the lock file's bytes."""
        deck = f"deck {self.source} {_file_digest(lock)} {self.anki} {self.tools}"
        digests = {"deck": _file_digest(deck.encode())}
        for name in DOCUMENTS:
            inputs = f"{name} {self.source} {self.pdf[name]} {self.tools} paper={self.paper}"
            if self.printing.get(name):
                inputs += f" {self.printing[name]}"
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


def current(record: dict[str, object] | None, inputs: str, out: Path,
            key: str = "inputs") -> bool:
    """Whether a target's recorded outputs came from `inputs` (its record's `key`) and are still
    there, unaltered."""
    if not isinstance(record, dict) or record.get(key) != inputs:
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

    Everything is rendered in memory first, from the source's bytes as read once at the start;
    the outputs then replace the previous ones together, so a failed or interrupted build leaves
    the last good outputs exactly as they were. A source file edited while the build runs is
    built by the next one.
    """
    say = progress or (lambda _: None)
    remove_leftovers(options.out, options.source)
    files = read_source(options.source)
    inputs = Inputs.read(options, files)
    lock_path = options.source / LOCK_FILE
    lock = lock_path.read_bytes() if lock_path.is_file() else b""
    digests = inputs.digests(lock)
    state = _read_state(options.out)
    stale = [t for t in TARGETS if not current(state.get(t), digests[t], options.out)]
    if not stale:
        return BuildResult()

    workers = None
    if any(t in stale for t in DOCUMENTS):
        from deckgen.documents import Workers

        workers = Workers()  # they start while the source is read and the deck written
    try:
        return _build(options, say, files, inputs, lock, stale, state, workers)
    finally:
        if workers is not None:
            workers.close()


def _build(options: BuildOptions, say: Progress, files: SourceFiles, inputs: Inputs, lock: bytes,
           stale: list[str], state: dict[str, dict[str, object]], workers: Workers | None,
           ) -> BuildResult:
    digests = inputs.digests(lock)
    state_before = dict(state)
    say("reading the source")
    guide, warnings = load_guide(options.source, files)
    if options.selection:
        options.selection.check(guide)
    _check_writable(options.out)
    outputs: dict[Path, bytes] = {}
    made: dict[str, list[Path]] = {}
    result = BuildResult(warnings=warnings, notes=len(guide.entries))
    stamps: Stamps | None = None
    documents = None
    if workers is not None:
        from deckgen.documents import Documents
        from deckgen.mathsvg import FormulaCache
        from deckgen.sheet import categories_view

        with FormulaCache() as formulas:
            categories = categories_view(guide, formulas, progress=say)
        selection = options.selection
        views = {name: categories if selection is None else selection.apply(
                     guide, categories, level=name != "cheatsheet") for name in DOCUMENTS}

        from deckgen.flashcards import flashcards_html

        flashcards = (flashcards_html, (guide, views["flashcards"], options.templates,
                                        options.paper, selection, options.flip))
        documents = Documents(
            guide, views, [t for t in DOCUMENTS if t in stale], options.templates,
            options.source / MEDIA_DIR, options.out, options.paper,
            {name: f"{inputs.pdf[name]} {inputs.tools} {inputs.printing.get(name, '')}"
             for name in DOCUMENTS}, state, workers, flashcards)
        documents.start()  # the PDFs render in other processes while this one writes the deck
    if "deck" in stale:
        from deckgen.anki import build_package

        say("writing the Anki deck")
        stamps = _read_stamps(options, state)
        deck_file = options.out / f"{slugify(guide.title)}.apkg"
        outputs[deck_file] = build_package(guide, options.templates, stamps, build_time())
        made["deck"] = [deck_file]
        result.changed_notes = [k.removeprefix("note:") for k in stamps.keys_changed()
                                if k.startswith("note:")]
        result.changes = deck_changes(stamps)
        result.notices = _lock_notices(stamps, len(result.changed_notes))
        if stamps.changed():
            _check_writable(options.source)  # still before the PDFs are written
            outputs[stamps.path] = stamps.serialize()
    if documents is not None:
        documents.start_flashcards()
        say(documents.waiting())
        rendered = documents.finish()
        outputs.update(rendered.outputs)
        result.laid_out = rendered.laid_out
        result.flashcards = rendered.report

    if stamps is not None and stamps.changed():
        digests = inputs.digests(outputs[stamps.path])
    for target, files_made in made.items():
        state[target] = {"inputs": digests[target],
                         "files": {p.name: _file_digest(outputs[p]) for p in files_made}}
    if documents is not None:
        for name, record in rendered.records.items():
            state[name] = {**record, "inputs": digests[name]}
        made.update(rendered.written)
    result.rebuilt = [t for t in TARGETS if t in made]
    outputs[options.out / STATE_FILE] = json.dumps(state, indent=1, sort_keys=True).encode()
    say("writing the outputs")
    previous = _previous_deck(options.out, state_before)
    replace_all(outputs)
    if "deck" in made and previous is not None and previous not in made["deck"]:
        previous.unlink(missing_ok=True)  # the deck under its old title: importing it is a mistake
    result.written = sorted(p for files_made in made.values() for p in files_made)
    return result


def built_deck(out: Path) -> Path:
    """The .apkg the last build wrote into `out`; OutputError when there is none."""
    deck = _previous_deck(out, _read_state(out))
    if deck is None:
        raise OutputError(f"{out}: holds no deck; run deckgen build")
    return deck


def _previous_deck(out: Path, state: dict[str, dict[str, object]]) -> Path | None:
    """The .apkg the last build wrote, if it is still there."""
    files = state.get("deck", {}).get("files")
    names = [str(n) for n in files if str(n).endswith(".apkg")] if isinstance(files, dict) else []
    if names and (out / names[0]).is_file():
        return out / names[0]
    decks = sorted(out.glob("*.apkg"), key=lambda p: p.stat().st_mtime) if out.is_dir() else []
    return decks[-1] if decks else None


def _read_stamps(options: BuildOptions, state: dict[str, dict[str, object]]) -> Stamps:
    """The lock file's stamps; if it is missing, the ones of the deck the last build left."""
    from deckgen.anki import stamps_from_package

    path = options.source / LOCK_FILE
    stamps = Stamps.read(path)
    if stamps.origin != "missing" and stamps.version > 1:
        return stamps
    previous = _previous_deck(options.out, state)
    if previous is None:
        return stamps
    try:
        found, title = stamps_from_package(previous)
    except (OSError, ValueError, KeyError, IndexError, zipfile.BadZipFile, sqlite3.Error):
        return stamps
    if stamps.origin == "missing":
        return recovered(path, found, title)
    stamps.learn(found, title)  # a version 1 lock file: GUIDs and subdecks from the deck
    return stamps


def _lock_notices(stamps: Stamps, changed: int) -> list[str]:
    """What the user must know about where this build's stamps came from."""
    if stamps.origin == "resolved":
        return [f"{stamps.path}: resolved git's merge conflict (for each note the newer stamp); "
                f"{changed} note(s) will update on the next import"]
    if stamps.origin == "recovered":
        return [f"{stamps.path} was missing: recovered {len(stamps.old)} stamps from the deck "
                "in the output folder, so only edited notes update on the next import"]
    if stamps.origin == "missing" and changed:
        return [f"warning: {stamps.path} was missing and there is no earlier deck to recover it "
                "from: every note is stamped new, so if a collection already holds this deck, "
                "the next import updates every note once and overwrites fixes made in Anki "
                "(take the file back from git to avoid that)"]
    return []


def check(options: BuildOptions) -> tuple[int, list[Problem]]:
    """Validate the source as a build would (formulas included) and lint it; write nothing.

    Returns the number of entries and the warnings; raises SourceError on errors. The warnings
    include the flashcards that must be shortened to fit on `options.paper`: the cards are laid
    out as the build lays them out, so the answer is the build's (a card the build or an earlier
    check measured is not laid out again).
    """
    from deckgen.flashcards import shortened_cards
    from deckgen.lint import lint
    from deckgen.mathsvg import FormulaCache
    from deckgen.sheet import categories_view

    guide, _ = load_guide(options.source)
    with FormulaCache() as formulas:
        categories = categories_view(guide, formulas)
    cards = shortened_cards(guide, categories, options.templates, options.paper)
    unused = [Problem(path, f"no entry shows this figure: show it in an answer with "
                      f"![alt text]({path.name}), or delete the file")
              for path in unused_media(options.source, guide)]
    return (len(guide.entries),
            lint(guide, Stamps.read(options.source / LOCK_FILE)) + cards + unused)


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
    swapped are put back, so build/ never holds a mix of old and new. An interrupt that arrives
    during the swap is raised once it is complete, as OutputsWritten.
    """
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path]] = []
    swapped = False
    target = Path()
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
            swapped = True
            for backup, _ in backups:  # before a held SIGTERM can end the process
                backup.unlink(missing_ok=True)
    except OSError as exc:
        raise _output_error(target.parent, exc) from None
    except KeyboardInterrupt:
        if swapped:
            raise OutputsWritten(sorted({t.parent for t in outputs})) from None
        raise
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for backup, _ in backups:
            backup.unlink(missing_ok=True)


def _output_error(folder: Path, exc: OSError) -> OutputError:
    if exc.errno == errno.ENOSPC:
        what = "no space left on the disk: free some space and build again"
    elif exc.errno == errno.EDQUOT:
        what = "disk quota exceeded: free some space and build again"
    else:
        what = exc.strerror or str(exc)
    return OutputError(f"{folder}: cannot write the outputs ({what}); "
                       "the previous outputs are untouched")


def _check_writable(folder: Path) -> None:
    """Raise OutputError now, before anything is rendered, if files cannot be made in `folder`.

    A folder that does not exist yet is not made: its nearest existing parent is tried instead.
    """
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    try:
        handle, name = tempfile.mkstemp(prefix=f".deckgen.{os.getpid()}.", suffix=".tmp",
                                        dir=probe)
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write here ({exc.strerror})") from None
    os.close(handle)
    os.unlink(name)


def _create_beside(target: Path) -> tuple[int, Path]:
    """A new hidden file beside `target`, open for writing, its name holding this process's id."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
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


# A temporary or backup of _create_beside: ".<name>.<pid>.<8 random>.tmp" (or ".old"); builds
# before the pid was added left ".<name>.<8 random>.tmp".
_LEFTOVER = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?[a-z0-9_]{8}\.(?:tmp|old)$")
_OUTPUT_NAME = re.compile(r"\.(?:apkg|pdf|html)$")


def remove_leftovers(out: Path, source: Path) -> None:
    """Delete the temporaries and backups that a killed build left in `out` and `source`.

    Those of a build still running (its process is alive) are left alone.
    """
    for folder in (out, source):
        try:
            paths = list(folder.iterdir())
        except OSError:
            continue
        for path in paths:
            match = _LEFTOVER.match(path.name)
            if match is None:
                continue
            name = match.group("name")
            ours = name in ("deckgen", LOCK_FILE) if folder == source else (
                name in ("deckgen", STATE_FILE) or _OUTPUT_NAME.search(name) is not None)
            if not ours or (match.group("pid") and _running(int(match.group("pid")))):
                continue
            with suppress(OSError):
                path.unlink()


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists but is another user's
        return True
    return True
