"""HTML to PDF with WeasyPrint, reading nothing but the page itself and data: URLs."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import unquote, urlsplit

from deckgen.errors import OutputError


def _locked_fetcher(allowed: tuple[Path, ...], refused: list[str]) -> Any:
    """A WeasyPrint URL fetcher that serves data: URLs and files under `allowed`, nothing else."""
    from weasyprint.urls import URLFetcher

    roots = tuple(folder.resolve() for folder in allowed)

    class LockedFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path)).resolve()
                if any(path.is_relative_to(root) for root in roots) and path.is_file():
                    return super().fetch(url, headers)
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
    if threading.current_thread() is not threading.main_thread():
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


def html_to_pdf(html: str, assets: Path, *more_assets: Path) -> tuple[bytes, list[str]]:
    """The PDF for `html`, and the URLs it referred to that were refused (never fetched).

    Only data: URLs and files inside `assets` (and `more_assets`, e.g. source/media/) are read.
    SOURCE_DATE_EPOCH, where set, fixes the PDF's dates so the same HTML gives the same bytes.
    """
    import weasyprint  # heavy: half a second or more

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    refused: list[str] = []
    try:
        with _interrupts_kept():
            document = weasyprint.HTML(
                string=html, base_url=str(assets.resolve()) + "/",
                url_fetcher=_locked_fetcher((assets, *more_assets), refused),
            )
            pdf: bytes = document.write_pdf(presentational_hints=False)
    except OSError as exc:
        raise OutputError(f"cannot render the PDF: {exc}") from None
    return pdf, refused
