"""A long document laid out part by part, each part kept while it is unchanged, then assembled.

A document template marks parts with `<!--deckgen:part-->` in its body; every part starts on a new
page. Each part is an HTML document of its own (the page's head and one part of its body), laid out
by WeasyPrint alone, so it can be rendered on any core and kept in deckgen's cache under a digest of
its HTML. Assembling the parts into one PDF (pikepdf) restores what crosses them: the links from one
part to another, the bookmarks, the metadata, and the page numbers, which are drawn over the pages
from pdf/folios.html.j2 (a part's own layout cannot know the page it starts on).
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKER = "<!--deckgen:part-->"
_PX_TO_PT = 0.75  # WeasyPrint lays out in CSS px; PDF user space is in points


@dataclass(frozen=True)
class Part:
    """A rendered part: its PDF, and what assembly needs to know about its pages.

    Positions are in CSS px from the page's top left, as WeasyPrint reports them; `page` counts
    from 0 within the part.
    """

    pdf: bytes
    sizes: tuple[tuple[float, float], ...]  # each page's width and height
    anchors: tuple[tuple[str, int, float, float], ...]  # id, page, x, y
    links: tuple[tuple[int, str, tuple[float, float, float, float]], ...]  # page, id, rectangle
    bookmarks: tuple[tuple[int, int, str, float, float], ...]  # page, level, label, x, y
    metadata: tuple[tuple[str, str], ...]  # the PDF's document information, part 0's is used

    @property
    def pages(self) -> int:
        return len(self.sizes)


def split(html: str) -> list[str]:
    """`html` cut at its part markers: each part a whole HTML document with the page's head.

    A page without markers is one part, itself.
    """
    if MARKER not in html:
        return [html]
    start = html.find("<body")
    body = html.index(">", start) + 1 if start >= 0 else 0
    end = html.rfind("</body>")
    head, inside, tail = html[:body], html[body:end if end >= 0 else len(html)], html[end:]
    tail = tail if end >= 0 else ""
    pieces = inside.split(MARKER)
    return [head + piece + tail for piece in pieces if piece.strip()]


_FONTS: dict[str, Any] = {}  # a FontConfiguration per head: the parts of one document share it


def render_part(html: str, templates: Path, media: Sequence[Path], fonts_key: str = "") -> Part:
    """`html` laid out and drawn by WeasyPrint, with its anchors, links and bookmarks.

    Documents with the same head (the parts of one) and `fonts_key` (a digest of the templates,
    font files included) share one FontConfiguration in this process.
    """
    from weasyprint.text.fonts import FontConfiguration

    from deckgen.pdf import laid_out, rendering

    logging.getLogger("weasyprint").addFilter(_other_parts)
    head = hashlib.sha256(f"{fonts_key}\0{html[:html.find('<body')]}".encode()).hexdigest()
    with rendering():
        fonts = _FONTS.get(head)
        if fonts is None:
            fonts = _FONTS[head] = FontConfiguration()
        document, _ = laid_out(html, templates, *media, fonts=fonts)
        pdf: bytes = document.write_pdf()
    anchors, links, bookmarks = [], [], []
    for number, page in enumerate(document.pages):
        for name, (x, y, *_) in page.anchors.items():
            anchors.append((name, number, float(x), float(y)))
        for kind, target, rectangle, *_ in page.links:
            if kind == "internal":
                x0, y0, x1, y1 = (float(v) for v in rectangle)
                links.append((number, str(target), (x0, y0, x1, y1)))
        for level, label, (x, y), *_ in page.bookmarks:
            bookmarks.append((number, int(level), str(label), float(x), float(y)))
    info = document.metadata
    metadata = [("/Title", info.title or ""), ("/Author", ", ".join(info.authors)),
                ("/Subject", info.description or ""), ("/Keywords", ", ".join(info.keywords)),
                ("/Creator", info.generator or "")]
    return Part(pdf=pdf, sizes=tuple((float(p.width), float(p.height)) for p in document.pages),
                anchors=tuple(anchors), links=tuple(links), bookmarks=tuple(bookmarks),
                metadata=tuple((k, v) for k, v in metadata if v))


def _other_parts(record: logging.LogRecord) -> bool:
    """Leave out WeasyPrint's complaint about a link to another part: assembly adds that link."""
    return not record.getMessage().startswith("No anchor #")


def page_numbers(parts: Sequence[Part]) -> dict[str, int]:
    """Each anchor's page number in the assembled document, counting from 1."""
    numbers: dict[str, int] = {}
    offset = 0
    for part in parts:
        for name, page, _, _ in part.anchors:
            numbers.setdefault(name, offset + page + 1)
        offset += part.pages
    return numbers


def folio_sizes(parts: Iterable[Part]) -> list[str]:
    """The page sizes of the assembled document, as pdf/folios.html.j2 takes them."""
    return [f"{w:.4f} {h:.4f}" for part in parts for w, h in part.sizes]


def assemble(parts: Sequence[Part], folios: bytes | None) -> bytes:
    """One PDF of `parts` in order, with `folios` (a PDF of as many pages) drawn over them.

    Links to an anchor in another part, which WeasyPrint left out of the part they are in, are
    added; every anchor becomes a named destination of the whole; the bookmarks are rebuilt with
    their levels; the document information is part 0's. SOURCE_DATE_EPOCH, where set, keeps the
    parts' dates, so the same parts give the same bytes.
    """
    import pikepdf

    out = pikepdf.new()
    sources = [pikepdf.open(io.BytesIO(part.pdf)) for part in parts]
    for source in sources:
        out.pages.extend(source.pages)
    offsets = []
    offset = 0
    for part in parts:
        offsets.append(offset)
        offset += part.pages

    def point(page: int, x: float, y: float) -> tuple[float, float]:
        height = float(out.pages[page].mediabox[3])
        return x * _PX_TO_PT, height - y * _PX_TO_PT

    destinations: dict[str, pikepdf.Array] = {}
    for part, first in zip(parts, offsets, strict=True):
        for name, page, x, y in part.anchors:
            left, top = point(first + page, x, y)
            destinations.setdefault(name, pikepdf.Array(
                [out.pages[first + page].obj, pikepdf.Name.XYZ, left, top, 0]))
    for part, first in zip(parts, offsets, strict=True):
        own = {name for name, *_ in part.anchors}
        for page, target, (x0, y0, x1, y1) in part.links:
            if target in own or target not in destinations:
                continue  # drawn by WeasyPrint already, or pointing nowhere (as WeasyPrint does)
            left, bottom = point(first + page, x0, y1)
            right, top = point(first + page, x1, y0)
            annotation = out.make_indirect(pikepdf.Dictionary(
                Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                Rect=[left, bottom, right, top], Border=[0, 0, 0],
                Dest=pikepdf.String(target)))
            pdf_page = out.pages[first + page]
            if "/Annots" not in pdf_page.obj:
                pdf_page.obj.Annots = pikepdf.Array()
            pdf_page.obj.Annots.append(annotation)
    if destinations:
        names = pikepdf.Array()
        for name in sorted(destinations):
            names.append(pikepdf.String(name))
            names.append(destinations[name])
        out.Root.Names = pikepdf.Dictionary(Dests=pikepdf.Dictionary(Names=names))
    _bookmarks(out, parts, offsets, point)
    if folios is not None:
        numbers = pikepdf.open(io.BytesIO(folios))
        for number, (pdf_page, folio) in enumerate(zip(out.pages, numbers.pages, strict=True)):
            # As Page.add_overlay does, but under fixed names (its names are random), so the
            # same parts give the same bytes; one name per page, since the pages of a part
            # share one resource dictionary. A page and its folio have the same size.
            folio_name = pikepdf.Name(f"/DeckgenFolio{number + 1}")
            if "/Resources" not in pdf_page.obj:
                pdf_page.obj.Resources = pikepdf.Dictionary()
            resources = pdf_page.obj.Resources
            if "/XObject" not in resources:
                resources.XObject = pikepdf.Dictionary()
            resources.XObject[folio_name] = out.copy_foreign(folio.as_form_xobject())
            pdf_page.contents_add(out.make_stream(b"q\n"), prepend=True)
            pdf_page.contents_add(out.make_stream(f"Q\nq {folio_name} Do Q\n".encode()))
    for key, value in parts[0].metadata:
        out.docinfo[key] = value
    for key in ("/Producer", "/CreationDate", "/ModDate"):
        if key in sources[0].docinfo:
            out.docinfo[key] = sources[0].docinfo[key]
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True, compress_streams=True)
    return buffer.getvalue()


def _bookmarks(out: object, parts: Sequence[Part], offsets: Sequence[int],
               point: object) -> None:
    """The outline of the whole: every part's bookmarks in order, nested by level."""
    import pikepdf

    assert isinstance(out, pikepdf.Pdf) and callable(point)
    with out.open_outline() as outline:
        stack: list[tuple[int, pikepdf.OutlineItem]] = []
        for part, first in zip(parts, offsets, strict=True):
            for page, level, label, x, y in part.bookmarks:
                left, top = point(first + page, x, y)
                item = pikepdf.OutlineItem(label, first + page, "XYZ", left=left, top=top)
                while stack and stack[-1][0] >= level:
                    stack.pop()
                (stack[-1][1].children if stack else outline.root).append(item)
                stack.append((level, item))
