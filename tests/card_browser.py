"""Cards shown as Anki desktop and AnkiDroid show them, in headless Chromium, with Anki's MathJax.

MathJax, its configuration and the reviewer's CSS come from the `aqt` wheel on PyPI (Anki desktop's
own files), fetched once with pip into a cache folder. The page is the reviewer's: desktop's
`<html class="night-mode">` and `<body class="card card1 ...">` around `<div id="qa">`, or
AnkiDroid's `<html class="mobile android linux js">` around `<div id="content">`. One page per
variant; the cards are swapped into it by script (tests/card_check.js) and checked there.
"""

from __future__ import annotations

import json
import mimetypes
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from playwright.sync_api import Browser, Page, Route, sync_playwright

if TYPE_CHECKING:  # anki.cards must be imported after anki.collection
    from anki.cards import Card as AnkiCard

AQT = "aqt==26.9.3"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]
ORIGIN = "http://anki.invalid"  # the page's own address; every request to it is answered here
_WEB = "_aqt/data/web/"
_CHECK_JS = Path(__file__).with_name("card_check.js")

# AnkiDroid's flashcard.css (AnkiDroid/src/main/assets/flashcard.css): the rules that place a card.
_ANKIDROID_CSS = """
body { margin: 0px; padding: 0px; margin-bottom: 30px; }
body.night_mode { color: white; background-color: black; }
#content { margin: 0.5em; }
"""
# What aqt/webview.py's standard_css() adds on Linux, with Anki's default UI font.
_DESKTOP_CSS = """
body { zoom: 1; background-color: var(--canvas); }
html { font-family: "Roboto", sans-serif; }
"""


@dataclass(frozen=True)
class Variant:
    """One client, window size and theme a card is shown in."""

    client: str  # "desktop" or "ankidroid"
    width: int
    height: int
    night: bool

    @property
    def name(self) -> str:
        return f"{self.client}-{self.width}x{self.height}-{'night' if self.night else 'light'}"

    @property
    def phone(self) -> bool:
        return self.width < 600


VARIANTS = tuple(Variant(client, width, height, night)
                 for client in ("desktop", "ankidroid")
                 for width, height in ((360, 740), (1000, 800))
                 for night in (False, True))


@dataclass(frozen=True)
class Card:
    """A card's answer side as Anki renders it (`card.answer()`: its note type's CSS, then the
    HTML), named by its entry id. The answer side holds the question side ({{FrontSide}})."""

    id: str
    css: str
    html: str

    @classmethod
    def of(cls, card: AnkiCard) -> Card:
        output = card.render_output()
        return cls(card.note()["Id"], output.css, output.answer_text)


def cache_folder() -> Path:
    """Where the test keeps what it downloads: $DECKGEN_TEST_CACHE or ~/.cache/deckgen-tests."""
    configured = os.environ.get("DECKGEN_TEST_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "deckgen-tests"


def anki_web_folder() -> Path:
    """Anki desktop's web folder (MathJax, its config, the reviewer's CSS), from the aqt wheel."""
    folder = cache_folder() / AQT.replace("==", "-")
    if (folder / _WEB / "js" / "mathjax.js").is_file():
        return folder / _WEB
    folder.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", AQT,
                        "-d", scratch], check=True)
        (wheel,) = Path(scratch).glob("aqt-*.whl")
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(wheel) as archive:
            wanted = [n for n in archive.namelist()
                      if n.startswith((_WEB + "js/vendor/mathjax/", _WEB + "css/"))
                      or n == _WEB + "js/mathjax.js"]
            archive.extractall(unpacked, members=wanted)
        unpacked.rename(folder)
    return folder / _WEB


def page_html(variant: Variant, web: Path, card_css: str) -> str:
    """The reviewer page of `variant`'s client, with no card in it yet.

    The note type's CSS goes in once, in the head, as AnkiDroid puts it (desktop repeats it with
    every card in #qa: the same rules, but reloading its font for every card made the test slow).
    """
    card = (f"<style>{card_css}</style>"
            '<script src="/_anki/js/mathjax.js"></script>'
            '<script src="/_anki/js/vendor/mathjax/tex-chtml-full.js"></script>'
            '<script src="/_deckgen/card_check.js"></script>')
    night = " nightMode night_mode" if variant.night else ""
    if variant.client == "desktop":
        webview, reviewer = ((web / "css" / name).read_text(encoding="utf-8")
                             for name in ("webview.css", "reviewer.css"))
        css = f"<style>{webview}</style><style>{_DESKTOP_CSS}</style><style>{reviewer}</style>"
        theme = "dark" if variant.night else "light"
        return (f'<!doctype html><html class="{"night-mode" if variant.night else ""}" dir="ltr" '
                f'data-bs-theme="{theme}"><head><meta charset="utf-8"><base href="{ORIGIN}/">'
                f"{css}{card}</head>"
                f'<body class="card card1 isLin{night} fancy">'
                '<div id="_mark" hidden>&#x2605;</div><div id="_flag" hidden>&#x2691;</div>'
                '<div id="qa" dir="auto"></div></body></html>')
    return ('<!doctype html><html class="mobile android linux js"><head><meta charset="utf-8">'
            f"<style>{_ANKIDROID_CSS}</style>{card}</head>"
            f'<body class="card card1{night}"><div id="content"></div></body></html>')


class Reviewer:
    """Reviewer pages in `browser` showing cards from one collection's media folder."""

    def __init__(self, browser: Browser, media: Path) -> None:
        self._browser = browser
        self._web = anki_web_folder()
        self._media = media
        self.stray_requests: list[str] = []  # anything asked for that the page should not need
        self.fonts: set[tuple[str, str, str]] = set()  # (family, style, status) seen by check()

    @contextmanager
    def page(self, variant: Variant, card_css: str) -> Iterator[Page]:
        """A fresh reviewer page of `variant` styled with `card_css`, MathJax loaded."""
        page = self._browser.new_page(viewport={"width": variant.width, "height": variant.height})
        try:
            html = page_html(variant, self._web, card_css)
            page.route("**/*", lambda route: self._answer(route, html))
            page.goto(f"{ORIGIN}/")
            page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise")
            page.evaluate("MathJax.startup.promise.then(() => true)")
            yield page
        finally:
            page.close()

    def check(self, variant: Variant, cards: list[Card]) -> list[dict[str, Any]]:
        """What card_check.js found on each card shown in `variant`, in order.

        The cards must share one note type's CSS (they do in this deck).
        """
        (css,) = {card.css for card in cards}
        with self.page(variant, css) as page:
            results: list[dict[str, Any]] = page.evaluate(
                "cards => checkCards(cards)", [{"id": c.id, "html": c.html} for c in cards])
            faces = page.evaluate(
                "() => [...document.fonts].map(f => [f.family, f.style, f.status])")
            self.fonts.update((family.strip('"'), style, status) for family, style, status in faces)
        return results

    def screenshot(self, variant: Variant, card: Card, path: Path) -> None:
        """A full-page PNG of `card` shown in `variant`."""
        path.parent.mkdir(parents=True, exist_ok=True)
        with self.page(variant, card.css) as page:
            page.evaluate("html => showCard(html)", card.html)
            page.screenshot(path=str(path), full_page=True)

    def _answer(self, route: Route, html: str) -> None:
        url = urlsplit(route.request.url)
        path = unquote(url.path)
        if f"{url.scheme}://{url.netloc}" != ORIGIN:
            self.stray_requests.append(route.request.url)
            route.abort()
        elif path == "/":
            route.fulfill(body=html, content_type="text/html; charset=utf-8")
        elif path == "/_deckgen/card_check.js":
            route.fulfill(path=_CHECK_JS, content_type="text/javascript")
        elif path.startswith("/_anki/"):
            self._file(route, self._web, path.removeprefix("/_anki/"))
        else:
            self._file(route, self._media, path.removeprefix("/"))

    def _file(self, route: Route, folder: Path, name: str) -> None:
        file = (folder / name).resolve()
        if folder.resolve() not in file.parents or not file.is_file():
            self.stray_requests.append(route.request.url)
            route.fulfill(status=404, body="")
            return
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        route.fulfill(path=file, content_type=kind)


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright (one per thread at a time)."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def summary(results: list[dict[str, Any]], screen: int) -> str:
    """The figures one variant's results come to, as one JSON line; `screen` is its height."""
    heights = sorted(r["height"] for r in results)
    display = [f for r in results for f in r["formulas"] if f["display"]]
    widest = max(display, key=lambda f: f["width"] - f["column"], default=None)
    lowest = min(results, key=lambda r: r["lowestContrast"]["ratio"])
    return json.dumps({
        "cards": len(results),
        "formulas": sum(len(r["formulas"]) for r in results),
        "display_formulas": len(display),
        "widest_display_formula": widest,
        "lowest_contrast": {"card": lowest["id"], **lowest["lowestContrast"]},
        "median_height": heights[len(heights) // 2] if heights else None,
        "max_height": heights[-1] if heights else None,
        "taller_than_screen": sum(h > screen for h in heights),
        "key_point_on_first_screen": sum((r["gistBottom"] or 0) <= screen for r in results),
    })
