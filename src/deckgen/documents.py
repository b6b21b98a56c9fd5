"""The printed documents of a build: what each one shows decides whether it is rendered again.

A document's HTML is made from the source on every build that read the source (it is cheap); the
PDF is rendered again only when that HTML, the document's templates, its figures or the renderers
changed. The study guide is laid out in parts (see deckgen.parts): a part whose HTML is unchanged
is taken from the cache, so an edit to one answer lays out one category again. Everything that
must be rendered is rendered at once, on all cores, while the caller writes the deck.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deckgen.cache import Slot, digest
from deckgen.model import Guide
from deckgen.parts import MARKER, Part, assemble, folio_sizes, page_numbers, render_part, split
from deckgen.render import environment
from deckgen.sheet import PAPERS, SheetCategory, cheatsheet_html, study_guide_html

_ROUNDS = 4  # page numbers settle in a round or two; the bound keeps a pathological page finite


@dataclass
class Rendered:
    """What `Documents.finish` made: the files, the state records, and what was laid out."""

    outputs: dict[Path, bytes] = field(default_factory=dict)
    records: dict[str, dict[str, object]] = field(default_factory=dict)
    written: dict[str, list[Path]] = field(default_factory=dict)  # name: its files
    laid_out: dict[str, tuple[int, int]] = field(default_factory=dict)  # name: (parts, of)
    report: Any = None  # the flashcards' report, when they were written


def process_context() -> Any:
    """Worker processes started from a clean server, never forked from this one: the parent may
    hold threads (Anki's backend, WeasyPrint's font loader) whose locks a fork would copy taken."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def cores() -> int:
    """The cores this process may run on."""
    count = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, count or 1)


def _worker_started() -> None:
    """A worker leaves Ctrl-C to the build, which stops it (a worker's traceback is no message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _ready() -> None:
    """A task that only makes the pool start a worker (importing WeasyPrint) ahead of the work."""


class Workers:
    """The processes that render PDFs, one per core, started before the build reads the source,
    so that importing WeasyPrint (most of a second) overlaps reading it and writing the deck; the
    build's own process never imports WeasyPrint."""

    def __init__(self) -> None:
        context = process_context()
        if context.get_start_method() == "forkserver":
            context.set_forkserver_preload(["deckgen._worker"])
        self.count = cores()
        self._pool = ProcessPoolExecutor(self.count, mp_context=context,
                                         initializer=_worker_started)
        self._futures: list[Future[Any]] = []
        self.used = False
        # Starting the first worker waits for the server to import WeasyPrint: not on this thread.
        self._starting = threading.Thread(target=lambda: self._futures.append(
            self._pool.submit(_ready)), daemon=True)
        self._starting.start()

    def submit(self, fn: Callable[..., Any], /, *args: Any) -> Future[Any]:
        self.used = True
        future = self._pool.submit(fn, *args)
        self._futures.append(future)
        return future

    def close(self) -> None:
        """Stop the processes: at once if they were never used or a render is still running (the
        build failed, or was interrupted), else once they are idle."""
        self._starting.join()
        if not self.used or any(not future.done() for future in self._futures):
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.terminate()
        self._pool.shutdown(wait=True, cancel_futures=True)


class Documents:
    """The documents a build must bring up to date, planned from the source, then rendered.

    `plan()` makes every document's HTML and works out which renders are needed; `start()` hands
    them to worker processes; `finish()` waits, settles the study guide's page numbers (its parts
    are laid out before the contents page knows where they start) and assembles it.
    """

    def __init__(self, guide: Guide, views: dict[str, list[SheetCategory]], names: Iterable[str],
                 templates: Path, media: Path, out: Path, paper: str,
                 digests: dict[str, str], state: dict[str, dict[str, object]],
                 workers: Workers,
                 flashcards: tuple[Callable[..., tuple[str, Any]], tuple[Any, ...]] | None = None,
                 ) -> None:
        self.guide, self.views, self.templates = guide, views, templates
        self._flashcards = flashcards  # makes the flashcards' HTML (fitting every card first)
        self._fit: Future[tuple[str, Any]] | None = None
        self.report: Any = None  # the flashcards' report, once they are fitted
        self.media, self.out, self.paper, self.state = media, out, paper, state
        self.names = list(names)
        self.digests = digests  # each document's templates and renderers
        self._figures = {m.path.resolve().as_uri(): m.digest for m in guide.media}
        self._slot = Slot("parts", f"{out.resolve()}\0{paper}")
        stored = self._slot.get(digest("parts", str(out.resolve())))
        if not (isinstance(stored, tuple) and len(stored) == 2):
            stored = ((), {})
        # Renders by key: those of the last build and of the one before, so an edit undone
        # costs nothing.
        self._last: tuple[str, ...] = stored[0]
        self._cache: dict[str, Part] = stored[1]
        self._pending: dict[str, Future[Part]] = {}
        self._workers = workers
        self._html: dict[str, str] = {}
        self._keys: dict[str, list[str]] = {}

    # -- planning -------------------------------------------------------------------------------

    def _key(self, name: str, html: str) -> str:
        shown = sorted(d for uri, d in self._figures.items() if uri in html)
        return digest(name, self.digests[name], html, *shown)

    def _study_html(self, pages: dict[str, int]) -> str:
        return study_guide_html(self.guide, self.views["study-guide"], self.templates, self.paper,
                                pages)

    def _previous_pages(self) -> dict[str, int]:
        record = self.state.get("study-guide", {})
        pages = record.get("pages") if isinstance(record, dict) else None
        if not isinstance(pages, dict):
            return {}
        return {str(k): v for k, v in pages.items() if isinstance(v, int)}

    def plan(self) -> list[tuple[str, str]]:
        """Every render this build needs, as (key, html), the biggest first."""
        needed: dict[str, str] = {}
        if "cheatsheet" in self.names:
            html = cheatsheet_html(self.guide, self.views["cheatsheet"], self.templates,
                                   self.paper)
            self._html["cheatsheet"] = html
            key = self._key("cheatsheet", html)
            self._keys["cheatsheet"] = [key]
            if not self._unchanged("cheatsheet", key) and key not in self._cache:
                needed[key] = html
        if "study-guide" in self.names:
            html = self._study_html(self._previous_pages())
            self._html["study-guide"] = html
            keys = []
            for part in split(html):
                key = self._key("study-guide", part)
                keys.append(key)
                if key not in self._cache:
                    needed[key] = part
            self._keys["study-guide"] = keys
        return sorted(needed.items(), key=lambda item: -len(item[1]))

    def _unchanged(self, name: str, content: str) -> bool:
        """Whether the last build wrote `name` from this very content, its files still intact."""
        from deckgen.build import current

        return current(self.state.get(name), content, self.out, key="content")

    # -- rendering ------------------------------------------------------------------------------

    def start(self) -> None:
        """Plan, and hand the renders to the worker processes. The flashcards' cards are fitted
        first, by a worker too (it lays cards out); their renders follow, in start_flashcards."""
        if "flashcards" in self.names and self._flashcards is not None:
            function, arguments = self._flashcards
            self._fit = self._workers.submit(function, *arguments)
        for key, html in self.plan():
            self._pending[key] = self._workers.submit(*self._render(key, html))

    def start_flashcards(self) -> None:
        """Once the flashcards are fitted, hand their renders to the workers."""
        if self._fit is not None:
            html, self.report = self._fit.result()
            self._html["flashcards"] = html
            pieces = split(html)
            self._keys["flashcards"] = [self._key("flashcards", part) for part in pieces]
            for key, part in zip(self._keys["flashcards"], pieces, strict=True):
                if key not in self._cache and key not in self._pending:
                    self._pending[key] = self._workers.submit(*self._render(key, part))


    def _render(self, key: str, html: str) -> tuple[Any, ...]:
        name = next((n for n, keys in self._keys.items() if key in keys), "study-guide")
        name = "study-guide" if name == "folios" else name
        media = (self.media,) if "<img" in html else ()
        return render_part, html, self.templates, media, self.digests[name]

    def _part(self, key: str) -> Part:
        if key not in self._cache:
            self._cache[key] = self._pending.pop(key).result()
        return self._cache[key]

    def waiting(self) -> str:
        """What the build waits for, for its progress line."""
        return (f"rendering {len(self._pending)} PDF part(s) on {self._workers.count} core(s)"
                if self._pending else "assembling the PDFs")

    def finish(self) -> Rendered:
        """Wait for the renders and make the documents."""
        result = Rendered()
        if "cheatsheet" in self.names:
            key = self._keys["cheatsheet"][0]
            if not self._unchanged("cheatsheet", key):
                result.laid_out["cheatsheet"] = (int(key in self._pending), 1)
                part = self._part(key)
                self._write(result, "cheatsheet", self._html["cheatsheet"], part.pdf, key)
            else:
                result.records["cheatsheet"] = dict(self.state["cheatsheet"])
        if "study-guide" in self.names:
            self._finish_study_guide(result)
        if "flashcards" in self._keys:
            keys = self._keys["flashcards"]
            fresh = sum(1 for k in keys if k in self._pending)
            parts = [self._part(k) for k in keys]
            content = digest(*keys)
            result.laid_out["flashcards"] = (fresh, len(keys))
            if self._unchanged("flashcards", content):
                result.records["flashcards"] = dict(self.state["flashcards"])
            else:
                pdf = assemble(parts, None) if len(parts) > 1 else parts[0].pdf
                self._write(result, "flashcards", self._html["flashcards"], pdf, content)
                result.report = self.report
        used = tuple(k for keys in self._keys.values() for k in keys)
        kept = {*used, *self._last}
        self._slot.put(digest("parts", str(self.out.resolve())),
                       (used, {k: v for k, v in self._cache.items() if k in kept}))
        return result

    def _finish_study_guide(self, result: Rendered) -> None:
        fresh = {k for k in self._keys["study-guide"] if k not in self._cache}
        html = self._html["study-guide"]
        keys = self._keys["study-guide"]
        parts = [self._part(k) for k in keys]
        pages = self._previous_pages()
        for _ in range(_ROUNDS):  # the contents page learns where each part starts
            numbers = {**page_numbers(parts), "total": sum(p.pages for p in parts)}
            if numbers == pages:
                break
            pages = numbers
            html = self._study_html(pages)
            keys = [self._key("study-guide", part) for part in split(html)]
            for key, part in zip(keys, split(html), strict=True):
                if key not in self._cache:
                    fresh.add(key)
                    self._cache[key] = self._workers.submit(*self._render(key, part)).result()
            parts = [self._cache[k] for k in keys]
        self._keys["study-guide"] = keys
        folios: Part | None = None
        if MARKER in html:  # a document in parts: deckgen draws its page numbers
            folios_html = environment(self.templates).get_template("pdf/folios.html.j2").render(
                sizes=folio_sizes(parts), paper=PAPERS[self.paper])
            folios_key = self._key("study-guide", folios_html)
            if folios_key not in self._cache:
                self._cache[folios_key] = self._workers.submit(
                    *self._render(folios_key, folios_html)).result()
            folios = self._cache[folios_key]
            keys = [*keys, folios_key]
            self._keys["folios"] = [folios_key]
        content = digest(*keys)
        result.laid_out["study-guide"] = (len(fresh & set(keys)), len(parts))
        if self._unchanged("study-guide", content):
            result.records["study-guide"] = {**self.state["study-guide"], "pages": pages}
            return
        pdf = assemble(parts, folios.pdf if folios else None) if len(parts) > 1 or folios \
            else parts[0].pdf
        self._write(result, "study-guide", html, pdf, content, pages=pages)

    def _write(self, result: Rendered, name: str, html: str, pdf: bytes, content: str,
               **extra: object) -> None:
        files = {self.out / f"{name}.html": html.encode("utf-8"), self.out / f"{name}.pdf": pdf}
        result.outputs.update(files)
        result.written[name] = list(files)
        result.records[name] = {
            "content": content, **extra,
            "files": {p.name: hashlib.sha256(data).hexdigest() for p, data in files.items()},
        }

