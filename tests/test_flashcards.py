"""The flashcards, read back from the PDF: duplex geometry, every card, shortening, selection."""

from __future__ import annotations

import io
import itertools
import sqlite3
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pdfplumber
import pypdf
import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, Project, copy_project, embedded_fonts
from deckgen.build import BuildOptions, build
from deckgen.cli import main
from deckgen.flashcards import Selection, answer_cuts, word_cuts
from deckgen.mathsvg import FormulaCache
from deckgen.sheet import categories_view
from deckgen.source import load_guide
from test_pdf import MATH_FONT, plain_parts, squash

MM = 72 / 25.4
PAGES = {"a4": (210 * MM, 297 * MM), "letter": (8.5 * 72, 11 * 72)}
MARKER = squash("Continued in the study guide")
LONG_ANSWER = " ".join(
    f"Sentence number {n} of a long answer says one more thing about tanh, at some length, "
    f"so that the card fills up quickly." for n in range(1, 31))


@dataclass(frozen=True)
class Cell:
    """One card's box on a page, in PDF points from the top left corner."""

    x0: float
    top: float
    x1: float
    bottom: float

    @property
    def centre(self) -> tuple[float, float]:
        return (self.x0 + self.x1) / 2, (self.top + self.bottom) / 2

    def holds(self, obj: dict[str, Any], slack: float = 0.5) -> bool:
        return bool(obj["x0"] >= self.x0 - slack and obj["x1"] <= self.x1 + slack
                and obj["top"] >= self.top - slack and obj["bottom"] <= self.bottom + slack)


def merged(values: Iterable[float]) -> list[float]:
    """The values, those less than a point apart counted once (a line is drawn as two rects)."""
    result: list[float] = []
    for value in sorted(values):
        if not result or value - result[-1] > 1:
            result.append(value)
    return result


def grid(page: pdfplumber.page.Page) -> list[Cell]:
    """The cards' boxes, found from the cut marks in the margins of a front page."""
    xs = merged(r["x0"] for r in page.rects if r["bottom"] < 9 * MM and r["x1"] - r["x0"] < 1)
    ys = merged(r["top"] for r in page.rects if r["x1"] < 9 * MM and r["bottom"] - r["top"] < 1)
    assert len(xs) >= 2 and len(ys) >= 2, (xs, ys)
    return [Cell(a, b, c, d) for b, d in itertools.pairwise(ys) for a, c in itertools.pairwise(xs)]


def cell_texts(page: pdfplumber.page.Page, cells: list[Cell]) -> list[str]:
    """The text inside each cell, squashed; chars in stream order, so rotated text reads too."""
    return [squash("".join(c["text"] for c in page.chars if cell.holds(c))) for cell in cells]


@dataclass
class Sheets:
    """A flashcards PDF read back: per page, its cards' texts and boxes."""

    width: float
    height: float
    cells: list[Cell]
    texts: list[list[str]]  # per page, per cell
    pages: list[pdfplumber.page.Page]


@pytest.fixture(scope="module")
def sheets(built: Project) -> Iterator[Sheets]:
    with pdfplumber.open(built.out / "flashcards.pdf") as pdf:
        yield read_sheets(pdf)


def read_sheets(pdf: Any) -> Sheets:
    cells = grid(pdf.pages[0])
    first = pdf.pages[0]
    return Sheets(float(first.width), float(first.height), cells,
                  [cell_texts(page, cells) for page in pdf.pages], list(pdf.pages))


def find(texts: list[str], parts: list[str]) -> list[int]:
    return [i for i, text in enumerate(texts) if parts and all(p in text for p in parts)]


def near(a: tuple[float, float], b: tuple[float, float], mm: float = 2.0) -> bool:
    return abs(a[0] - b[0]) <= mm * MM and abs(a[1] - b[1]) <= mm * MM


def placements(sheets: Sheets, entries: list[Any]) -> dict[str, tuple[int, int, int]]:
    """For each entry: the front page, the card on it that shows its question, and the card on
    the next page that shows its gist. Each entry's question is on exactly one front."""
    found = {}
    for entry in entries:
        # The card's id (printed small on both sides) makes a short question or gist unique.
        question = [*plain_parts(entry.question), squash(entry.id)]
        gist = [*plain_parts(entry.gist), squash(entry.id)]
        hits = [(page, cell) for page in range(0, len(sheets.texts), 2)
                for cell in find(sheets.texts[page], question)]
        assert len(hits) == 1, (entry.id, hits)
        page, cell = hits[0]
        backs = find(sheets.texts[page + 1], gist)
        assert backs, (entry.id, "gist not on the next page")
        found[entry.id] = (page, cell, backs[0])
    return found


# -- the whole guide, built once for the session -----------------------------------------------

def test_page_count_is_even_and_pages_are_a4(built: Project, sheets: Sheets) -> None:
    guide, _ = load_guide(built.source)
    assert len(sheets.pages) % 2 == 0
    assert len(sheets.pages) == 2 * -(-len(guide.entries) // len(sheets.cells))
    assert (sheets.width, sheets.height) == pytest.approx(PAGES["a4"], abs=1)
    assert len(sheets.cells) == 6


def test_every_back_lies_behind_its_front_for_long_edge_flipping(built: Project,
                                                                 sheets: Sheets) -> None:
    guide, _ = load_guide(built.source)
    for entry_id, (page, front, back) in placements(sheets, list(guide.entries)).items():
        x, y = sheets.cells[front].centre
        # Turned over the long (vertical) edge, (x, y) lies behind (W - x, y) of the back page.
        assert near(sheets.cells[back].centre, (sheets.width - x, y)), (entry_id, page)


def test_no_text_outside_its_card_and_none_too_small(sheets: Sheets) -> None:
    for number, page in enumerate(sheets.pages, 1):
        for char in page.chars:
            assert any(cell.holds(char) for cell in sheets.cells), (number, char["text"])
            if MATH_FONT not in char["fontname"]:
                assert char["size"] >= 6.99, (number, char["text"], char["size"])
        for image in page.images:
            assert any(cell.holds(image) for cell in sheets.cells), number


def test_fonts_are_embedded(built: Project) -> None:
    fonts = embedded_fonts(pypdf.PdfReader(built.out / "flashcards.pdf").pages[:6])
    assert fonts and all(fonts.values()), fonts
    assert any("Carlito" in f for f in fonts)


def test_check_names_exactly_the_backs_printed_shortened(built: Project, sheets: Sheets) -> None:
    result = CliRunner().invoke(main, ["check", "--source", str(built.source),
                                       "--templates", str(built.templates)])
    assert result.exit_code == 0, result.output
    warned = {line.split("entry '", 1)[1].split("'", 1)[0] for line in result.stdout.splitlines()
              if "flashcard back shortened" in line}
    guide, _ = load_guide(built.source)
    found = placements(sheets, list(guide.entries))
    marked = {entry_id for entry_id, (page, _, back) in found.items()
              if MARKER in sheets.texts[page + 1][back]}
    assert warned == marked
    assert len(marked) < len(guide.entries) / 20  # the card holds nearly every answer whole


# -- small projects ----------------------------------------------------------------------------

def run(project: Project, *extra: str) -> Result:
    result = project.build(*extra)
    assert result.exit_code == 0, result.output
    return result


def open_sheets(project: Project) -> Sheets:
    with pdfplumber.open(project.out / "flashcards.pdf") as pdf:
        return read_sheets(pdf)


def test_short_edge_flipping_turns_the_back_page_half_a_turn(mini: Project) -> None:
    result = run(mini, "--flip", "short", "--paper", "letter")
    assert "flip on the short edge" in result.stdout
    sheets = open_sheets(mini)
    assert (sheets.width, sheets.height) == pytest.approx(PAGES["letter"], abs=1)
    guide, _ = load_guide(mini.source)
    for entry_id, (page, front, back) in placements(sheets, list(guide.entries)).items():
        x, y = sheets.cells[front].centre
        # Turned over the short (top) edge, (x, y) lies behind (x, H - y) of the back page; the
        # back is rotated half a turn so the cut card reads like the long-edge one.
        assert near(sheets.cells[back].centre, (x, sheets.height - y)), entry_id
        chars = [c for c in sheets.pages[page + 1].chars if sheets.cells[back].holds(c)]
        assert chars and all(c["matrix"][0] < 0 and c["matrix"][3] < 0 for c in chars)
        fronts = [c for c in sheets.pages[page].chars if sheets.cells[front].holds(c)]
        assert all(c["matrix"][0] > 0 for c in fronts)


def test_a_back_too_long_is_cut_after_a_sentence_and_check_says_so(mini: Project) -> None:
    alpha = mini.source / "01-alpha.yaml"
    long_question = "What is ReLU, " + " ".join(["and why"] * 200) + "?"
    alpha.write_text(alpha.read_text().replace(
        "answer: The open interval from -1 to 1.", f"answer: >-\n      {LONG_ANSWER}"
    ).replace("question: What is ReLU?", f"question: {long_question}"))
    result = run(mini)
    assert "1 back(s) shortened, 1 front(s) shortened" in result.stdout
    sheets = open_sheets(mini)
    guide, _ = load_guide(mini.source)
    tanh = next(e for e in guide.entries if e.id == "tanh")
    page, _, back = placements(sheets, [tanh])["tanh"]
    text = sheets.texts[page + 1][back]
    assert text.index(squash(tanh.gist)) < text.index(MARKER)  # the gist always shows
    shown = [n for n in range(1, 31) if squash(f"Sentence number {n} of") in text]
    assert shown == list(range(1, len(shown) + 1)) and 3 <= len(shown) < 30
    last = squash(f"Sentence number {shown[-1]} of a long answer says one more thing about "
                  "tanh, at some length, so that the card fills up quickly.")
    assert f"{last}\u2192{MARKER}" in text  # whole sentences, then the marker

    check = CliRunner().invoke(main, ["check", "--source", str(mini.source),
                                      "--templates", str(mini.templates)])
    assert check.exit_code == 0
    assert (f"warning: {alpha}:22: entry 'tanh': field 'answer': flashcard back shortened on A4"
            in check.stdout), check.stdout
    # A question too long for the front (far over any limit) is cut between words, said so.
    assert (f"warning: {alpha}:17: entry 'relu': field 'question': flashcard front shortened"
            in check.stdout), check.stdout
    relu = open_sheets(mini).texts[0]
    (front,) = find(relu, [squash("What is ReLU, and why"), squash("relu")])
    assert squash("The whole question is in the study guide") in relu[front]


def notes_in(deck: Path) -> int:
    with zipfile.ZipFile(deck) as package:
        data = package.read("collection.anki2")
    path = deck.with_suffix(".anki2")
    path.write_bytes(data)
    try:
        with sqlite3.connect(path) as db:
            count: int = db.execute("select count(*) from notes").fetchone()[0]
    finally:
        path.unlink()
    return count


def test_a_selection_chooses_the_printed_cards_never_the_deck(mini: Project) -> None:
    result = run(mini, "--tag", "formula")
    assert 'deck:"Mini Deck" tag:formula' in result.stdout
    sheets = open_sheets(mini)
    assert len(sheets.pages) == 2
    assert sum(bool(t) for t in sheets.texts[0]) == 1
    assert find(sheets.texts[0], plain_parts("What does softmax compute?"))
    study = squash("".join(p.extract_text() for p in pypdf.PdfReader(
        mini.out / "study-guide.pdf").pages))
    assert squash("What does softmax compute?") in study
    assert squash("What does BLEU measure?") not in study
    assert notes_in(mini.apkg()) == 5  # the deck keeps every entry

    for name in ("2", "02", "beta"):
        result = run(mini, "--category", name)
        texts = open_sheets(mini).texts[0]
        assert find(texts, plain_parts("How is perplexity defined?")), name
        assert find(texts, plain_parts("What does BLEU measure?")), name
        assert not find(texts, plain_parts("What is ReLU?")), name
    assert 'deck:"Mini Deck" tag:beta' in result.stdout


def test_level_selects_and_unknown_names_are_errors_listing_what_exists(mini: Project) -> None:
    beta = mini.source / "02-beta.yaml"
    beta.write_text(beta.read_text().replace("    term: BLEU\n", "    term: BLEU\n"
                                             "    level: advanced\n"))
    result = run(mini, "--level", "advanced")
    assert "tag:advanced" in result.stdout
    texts = open_sheets(mini).texts[0]
    assert sum(bool(t) for t in texts) == 1
    assert find(texts, plain_parts("What does BLEU measure?"))

    result = mini.build("--tag", "nosuch")
    assert result.exit_code == 1
    assert "--tag 'nosuch': no entry has this tag (the tags: alpha, beta, formula)" \
        in result.stderr
    result = mini.build("--category", "9")
    assert result.exit_code == 1
    assert "--category '9': no such category (give its number or slug: 01 (alpha), " \
        "02 (beta))" in result.stderr
    result = mini.build("--tag", "formula", "--category", "beta")
    assert result.exit_code == 1
    assert "holds no entry" in result.stderr


def test_unchanged_inputs_rebuild_nothing_and_a_changed_selection_only_the_documents(
        mini: Project) -> None:
    def rebuilt(**changes: Any) -> list[str]:
        options = BuildOptions(source=mini.source, out=mini.out, templates=mini.templates)
        return build(replace(options, **changes)).rebuilt

    assert "flashcards" in rebuilt()
    before = (mini.out / "flashcards.pdf").stat().st_mtime_ns
    assert rebuilt() == []
    assert (mini.out / "flashcards.pdf").stat().st_mtime_ns == before
    assert rebuilt(flip="short") == ["flashcards"]
    assert rebuilt(flip="short") == []
    tagged = Selection(tags=("formula",))
    assert rebuilt(selection=tagged) == ["cheatsheet", "study-guide", "flashcards"]
    assert rebuilt(selection=tagged) == []
    assert rebuilt(selection=Selection(tags=("formula",), level="core")) == [
        "study-guide", "flashcards"]  # the cheat sheet prints the core whatever the level
    assert rebuilt() == ["cheatsheet", "study-guide", "flashcards"]  # everything again
    css = mini.templates / "pdf" / "flashcards.css"
    css.write_text(css.read_text() + "\n.id { color: #333; }\n")
    assert rebuilt() == ["flashcards"]
    assert rebuilt() == []


def test_user_text_is_shown_as_typed_and_nothing_is_fetched(tmp_path: Path) -> None:
    from deckgen.flashcards import flashcards_pdf

    hostile = copy_project(tmp_path, FIXTURES / "hostile")
    guide, _ = load_guide(hostile.source)
    categories = categories_view(guide, FormulaCache())
    html, pdf, report = flashcards_pdf(guide, categories, hostile.templates, "a4")
    body = html.split("</style>", 1)[1]
    for raw in ("<script>", "<img src=x", '<link rel="attachment"', "<style>.card"):
        assert raw not in body, raw
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    assert "<img src=x onerror=alert(4)> stays text." in text
    assert report.sheets == 1 and report.cards == len(guide.entries)
    assert report.refused == []


# -- where an answer may be cut ----------------------------------------------------------------

def test_an_answer_is_cut_only_between_blocks_items_and_sentences() -> None:
    answer = ("First sentence. Second one, with \\(a. B\\) inside! Third:\n"
              "\\[ x = y. Z \\]\n"
              "After the formula.\n\n"
              "- item one. Still one\n"
              "- item two\n\n"
              "Last paragraph.")
    cuts = answer_cuts(answer)
    pieces = [answer[:c].rstrip() for c in cuts]
    assert pieces == [
        "First sentence.",
        "First sentence. Second one, with \\(a. B\\) inside!",
        "First sentence. Second one, with \\(a. B\\) inside! Third:",
        "First sentence. Second one, with \\(a. B\\) inside! Third:\n\\[ x = y. Z \\]",
        answer.split("\n\n")[0],
        answer.split("\n\n")[0] + "\n\n- item one. Still one",
        answer.rsplit("\n\n", 1)[0],
    ]
    assert word_cuts("one \\(a b\\) two") == [3, 11]
