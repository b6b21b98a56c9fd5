"""HTML to PDF with WeasyPrint, reading nothing but the page, data: URLs and template files."""

from __future__ import annotations

import logging
import mimetypes
import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from deckgen.errors import OutputError
from deckgen.resources import Templates


def _locked_fetcher(templates: Templates, root: Path, media: tuple[Path, ...],
                    refused: list[str]) -> Any:
    """A WeasyPrint URL fetcher that serves data: URLs, the effective template files and the
    figure files under `media`.

    A file URL is served only when it names, under `root` (the page's base), one of the files the
    build uses, and then from that file (the project's or deckgen's default), or a file inside one
    of the `media` folders; nothing else on the machine or the network is ever read.
    """
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    media_roots = tuple(folder.resolve() for folder in media)

    class LockedFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(os.path.normpath(url2pathname(urlsplit(url).path)))
                if path.is_relative_to(root):
                    name = path.relative_to(root).as_posix()
                    if name in templates.files:
                        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
                        return URLFetcherResponse(url, templates.read_bytes(name),
                                                  {"Content-Type": kind})
                figure = path.resolve()
                if any(figure.is_relative_to(r) for r in media_roots) and figure.is_file():
                    kind = mimetypes.guess_type(figure.name)[0] or "application/octet-stream"
                    return URLFetcherResponse(url, figure.read_bytes(), {"Content-Type": kind})
            refused.append(url)
            raise ValueError(f"deckgen does not fetch {url}")

    return LockedFetcher(timeout=1, allowed_protocols=("data", "file"), allow_redirects=False)


@contextmanager
def _interrupts_kept() -> Iterator[None]:
    """Make sure a Ctrl-C during rendering stops the build.

    WeasyPrint catches BaseException while it draws an image, so an interrupt arriving there would
    be swallowed and a PDF missing that image written. The interrupt is remembered and raised
    again once WeasyPrint returns.
    """
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is signal.SIG_IGN):  # a worker: its parent stops it
        yield
        return
    seen: list[int] = []

    def remember(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, remember)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.SIG_DFL)
    if seen:
        raise KeyboardInterrupt


def html_to_pdf(html: str, templates: Path, *media: Path) -> tuple[bytes, list[str]]:
    """The PDF for `html`, and the URLs it referred to that were refused (never fetched).

    Relative URLs name template files (`pdf/fonts/...`); only data: URLs and the effective
    template files (the project's `templates` folder over deckgen's defaults) and files inside
    `media` (source/media/, the figures) are read.
    SOURCE_DATE_EPOCH, where set, fixes the PDF's dates so the same HTML gives the same bytes.
    """
    with rendering():
        document, refused = laid_out(html, templates, *media)
        pdf: bytes = document.write_pdf()
    return pdf, refused


@contextmanager
def rendering() -> Iterator[None]:
    """Around WeasyPrint's work: interrupts kept (see `_interrupts_kept`), its logging quiet, and
    an OSError (a font or file it could not read) turned into an OutputError."""
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    try:
        with _interrupts_kept():
            yield
    except OSError as exc:
        raise OutputError(f"cannot render the PDF: {exc}") from None


def laid_out(html: str, templates: Path, *media: Path, fonts: Any = None) -> tuple[Any, list[str]]:
    """`html` laid out by WeasyPrint (a weasyprint.Document, pages ready to draw), and the URLs
    it referred to that were refused; call it inside `rendering()`.

    `fonts`, a weasyprint FontConfiguration, is shared by documents with the same @font-face
    rules (the parts of one document): its shaping caches are then warm.
    """
    import weasyprint  # heavy: half a second or more

    refused: list[str] = []
    root = templates.resolve()
    document = weasyprint.HTML(
        string=html, base_url=root.as_uri() + "/",
        url_fetcher=_locked_fetcher(Templates(templates), root, media, refused),
    ).render(presentational_hints=False, **({"font_config": fonts} if fonts is not None else {}))
    return document, refused


def render_html(html: str, templates: Path, *media: Path) -> tuple[Any, list[str]]:
    """`html` laid out (see `laid_out`), to be measured before it is written."""
    with rendering():
        return laid_out(html, templates, *media)


def document_pdf(document: Any) -> bytes:
    """The PDF of a Document from render_html.

    SOURCE_DATE_EPOCH, where set, fixes the PDF's dates so the same HTML gives the same bytes.
    """
    with rendering():
        pdf: bytes = document.write_pdf()
    return pdf
