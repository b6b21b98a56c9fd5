"""The printed documents, read back from the PDFs: budget, coverage, fonts, bookmarks, metadata."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import Any

import pdfplumber
import pypdf
import pytest

from conftest import Project, embedded_fonts
from deckgen.mathsvg import FormulaCache
from deckgen.model import Guide
from deckgen.pdf import html_to_pdf
from deckgen.sheet import categories_view, cheatsheet_html
from deckgen.source import MATH_SPAN, load_guide

MM = 72 / 25.4
PAGE_SIZES = {"a4": (297 * MM, 210 * MM), "letter": (11 * 72, 8.5 * 72)}
MATH_FONT = "STIX-Two-Math"


def squash(text: str) -> str:
    """Text with whitespace, hyphens and markup gone, for comparing prose across line breaks."""
    return re.sub(r"[\s\-\u00ad\u2010\u2022*`]+", "", text)  # \u2022: a list's bullet


def plain_parts(text: str) -> list[str]:
    """The prose of a field between its formulas, each part long enough to look for."""
    text = re.sub(r"(?m)^\s*(?:\d+\.|[-*+])\s+", "", text)  # list markers are drawn, not text
    parts = MATH_SPAN.sub("\0", text).split("\0")
    return [p for p in (squash(part) for part in parts) if len(p) > 3]


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def column_strips(page: pdfplumber.page.Page) -> list[pdfplumber.page.Page]:
    """The page cut into its columns, found as the vertical bands that hold no text."""
    used = [False] * (int(page.width) + 2)
    # The masthead and the running title span the columns; the bands are found below them.
    for char in (c for c in page.chars if c["top"] > page.height * 0.15):
        for x in range(int(char["x0"]), int(char["x1"]) + 1):
            used[x] = True
    cuts, start = [], None
    for x, filled in enumerate(used):
        if not filled and start is None:
            start = x
        elif filled and start is not None:
            if x - start >= 6 and start > 0:
                cuts.append((start + x) / 2)
            start = None
    edges = [0.0, *cuts, float(page.width)]
    return [page.within_bbox((a, 0, b, page.height)) for a, b in itertools.pairwise(edges)]


def column_lines(pdf: bytes) -> list[tuple[int, dict[str, Any]]]:
    """The text lines of a multi-column PDF in reading order, with their page numbers."""
    lines = []
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        for page in document.pages:
            for strip in column_strips(page):
                lines += [(page.page_number, line) for line in strip.extract_text_lines()]
    return lines


def column_text(pdf: bytes) -> str:
    """The text of a multi-column PDF, column by column (a plain extraction interleaves them)."""
    return "\n".join(str(line["text"]) for _, line in column_lines(pdf))


@pytest.fixture(scope="module")
def guide(built: Project) -> Guide:
    return load_guide(built.source)[0]


@pytest.fixture(scope="module")
def sheets(built: Project, guide: Guide) -> dict[str, bytes]:
    """The cheat sheet on both paper sizes (A4 from the real build, Letter rendered here)."""
    categories = categories_view(guide, FormulaCache())
    letter_html = cheatsheet_html(guide, categories, built.templates, "letter")
    letter, _ = html_to_pdf(letter_html, built.templates)
    return {"a4": (built.out / "cheatsheet.pdf").read_bytes(), "letter": letter}


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_cheatsheet_fits_four_landscape_pages(sheets: dict[str, bytes], paper: str) -> None:
    reader = pypdf.PdfReader(io.BytesIO(sheets[paper]))
    assert 1 <= len(reader.pages) <= 4
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert width == pytest.approx(PAGE_SIZES[paper][0], abs=1)
        assert height == pytest.approx(PAGE_SIZES[paper][1], abs=1)


def test_every_category_heading_and_gist_is_on_the_sheet(
    sheets: dict[str, bytes], guide: Guide
) -> None:
    text = squash(column_text(sheets["a4"]))
    for category in guide.categories:
        assert squash(f"{category.number:02d} {category.name}") in text, category.name
        for entry in category.entries:
            # The sheet prints the core curriculum; advanced entries are in the study guide.
            if not entry.advanced:
                for part in plain_parts(entry.term) + plain_parts(entry.gist):
                    assert part in text, (entry.id, part)
            elif longest := max(plain_parts(entry.gist), key=len, default=""):
                assert len(longest) < 25 or longest not in text, entry.id
    assert squash(guide.closing) in text


def test_every_question_and_answer_is_in_the_study_guide(built: Project, guide: Guide) -> None:
    pdf = (built.out / "study-guide.pdf").read_bytes()
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert (float(width), float(height)) == pytest.approx((210 * MM, 297 * MM), abs=1)
    text = squash(pdf_text(pdf))
    assert squash("Contents") in text
    for entry in guide.entries:
        # An answer may run over a page break, so its opening words stand for it.
        for part in plain_parts(entry.question) + [p[:30] for p in plain_parts(entry.answer)[:1]]:
            assert part in text, (entry.id, part)


@pytest.mark.parametrize("name", ["cheatsheet", "study-guide"])
def test_fonts_embedded_bookmarks_and_metadata(built: Project, guide: Guide, name: str) -> None:
    reader = pypdf.PdfReader(built.out / f"{name}.pdf")
    fonts = embedded_fonts(reader.pages)
    assert fonts and all(fonts.values()), fonts
    assert any("Carlito" in f for f in fonts)

    titles = [str(item.title) for item in reader.outline if not isinstance(item, list)]
    assert [t for t in titles if t[:2].isdigit()] == [c.label for c in guide.categories]

    meta = reader.metadata
    assert meta is not None and meta.title is not None
    assert meta.title.startswith(guide.title)
    assert meta.author == guide.author
    assert meta.subject == " ".join(guide.description.split())
    assert "Transformer Architecture" in str(meta.get("/Keywords"))


@pytest.mark.parametrize("name", ["cheatsheet", "study-guide"])
def test_nothing_off_the_page_no_small_text_no_raw_latex(built: Project, name: str) -> None:
    with pdfplumber.open(built.out / f"{name}.pdf") as pdf:
        for page in pdf.pages:
            for char in page.chars:
                assert char["x0"] >= 0 and char["x1"] <= page.width + 0.5, char["text"]
                assert char["top"] >= 0 and char["bottom"] <= page.height + 0.5, char["text"]
                # Body text is at least 7 pt; only scripts inside formulas are smaller.
                if MATH_FONT not in char["fontname"]:
                    assert char["size"] >= 6.99, (char["text"], char["size"], char["fontname"])
            for image in page.images:
                assert image["x0"] >= 0 and image["x1"] <= page.width + 0.5
    text = pdf_text((built.out / f"{name}.pdf").read_bytes())
    for leftover in ("\\(", "\\)", "\\[", "\\]", "\\frac", "\\mathrm", "\\sqrt"):
        assert leftover not in text


def test_a_category_heading_is_followed_by_its_first_entry(
    sheets: dict[str, bytes], guide: Guide
) -> None:
    lines = column_lines(sheets["a4"])
    for category in guide.categories:
        heading = f"{category.number:02d} {category.name}"
        (index,) = [i for i, (_, line) in enumerate(lines)
                    if squash(line["text"]) == squash(heading)]
        page, head = lines[index]
        below = [line for p, line in lines[index + 1:] if p == page
                 and abs(line["x0"] - head["x0"]) < 8 and line["top"] > head["bottom"]]
        assert below, f"{heading} ends its column"
        first_term = plain_parts(category.entries[0].term)
        assert not first_term or squash(below[0]["text"]).startswith(first_term[0][:6]), heading


def test_html_is_written_beside_each_pdf(built: Project) -> None:
    for name in ("cheatsheet", "study-guide"):
        html = (built.out / f"{name}.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>")
        assert '<html lang="en">' in html


def test_renderer_fetches_nothing_but_data_and_its_own_assets(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not embed")
    assets = tmp_path / "assets"
    assets.mkdir()
    (assets / "ok.css").write_text("p { color: red }")
    html = (f'<link rel="stylesheet" href="{(assets / "ok.css").as_uri()}">'
            f'<link rel="attachment" href="{secret.as_uri()}">'
            '<img src="http://127.0.0.1:9/x.png"><img src="https://example.org/y.png">'
            '<p>text</p>')
    pdf, refused = html_to_pdf(html, assets)
    assert sorted(refused) == sorted([secret.as_uri(), "http://127.0.0.1:9/x.png",
                                      "https://example.org/y.png"])
    assert b"do not embed" not in pdf
    assert "/EmbeddedFile" not in str(pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"])
