"""An edit costs what it changes: each output depends only on what it shows, and the study guide
is laid out again only in the parts that changed, yet reads exactly as a from-scratch render."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pypdf
import pytest

from conftest import Project, copy_project
from deckgen.build import BuildOptions, BuildResult, build
from deckgen.pdf import html_to_pdf

# The mini project's study guide: the title page, two categories and the closing advice.
PARTS = 4


def run(project: Project, out: Path | None = None) -> BuildResult:
    return build(BuildOptions(source=project.source, out=out or project.out,
                              templates=project.templates))


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture
def fresh(mini: Project) -> Project:
    result = run(mini)
    assert result.rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
    assert result.laid_out == {"cheatsheet": (1, 1), "study-guide": (PARTS, PARTS),
                               "flashcards": (1, 1)}
    return mini


def summary(pdf: bytes) -> dict[str, Any]:
    """What a reader of the PDF sees: text per page, bookmarks, links, metadata."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    destinations = {name: reader.get_destination_page_number(d)
                    for name, d in reader.named_destinations.items()}

    def outline(items: list[Any], depth: int = 0) -> list[tuple[int, str, int | None]]:
        flat = []
        for item in items:
            if isinstance(item, list):
                flat += outline(item, depth + 1)
            else:
                flat.append((depth, item.title, reader.get_destination_page_number(item)))
        return flat

    links = []
    for number, page in enumerate(reader.pages):
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link" and "/Dest" in annotation:
                rect = tuple(round(float(v)) for v in annotation["/Rect"])
                links.append((number, rect, destinations[str(annotation["/Dest"])]))
    meta: dict[str, Any] = dict(reader.metadata or {})
    return {
        "pages": [page.extract_text() for page in reader.pages],
        "outline": outline(reader.outline),
        "links": sorted(links),
        "meta": {k: str(v) for k, v in meta.items() if k in ("/Title", "/Author", "/Keywords")},
        "sizes": [tuple(round(float(v)) for v in page.mediabox) for page in reader.pages],
    }


def test_an_incremental_study_guide_equals_one_rendered_from_scratch(
    fresh: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One answer grows by a page: its category and the contents page are laid out again.
    long = " ".join(f"Sentence {n} of a much longer answer about BLEU." for n in range(180))
    edit(fresh.source / "02-beta.yaml",
         "answer: Modified n-gram precision against references, with a brevity penalty.",
         f"answer: Modified n-gram precision against references. {long}")
    result = run(fresh)
    assert result.rebuilt == ["deck", "study-guide", "flashcards"]  # no answer on the sheet
    assert result.laid_out == {"study-guide": (2, PARTS), "flashcards": (1, 1)}
    incremental = (fresh.out / "study-guide.pdf").read_bytes()

    monkeypatch.setenv("DECKGEN_CACHE_DIR", str(tmp_path / "empty-cache"))
    scratch = copy_project(tmp_path / "scratch", fresh.source)
    assert run(scratch).laid_out["study-guide"] == (PARTS, PARTS)
    from_scratch = (scratch.out / "study-guide.pdf").read_bytes()

    mine, theirs = summary(incremental), summary(from_scratch)
    assert mine == theirs
    assert len(mine["pages"]) >= 5
    assert mine["outline"] == [(0, "01 Alpha Things", 1), (0, "02 Beta Things", 2),
                               (0, "Before the interview", len(mine["pages"]) - 1)]
    contents = mine["pages"][0]
    assert re.search(r"02\s+Beta Things\s*\.+\s*3\b", contents)
    assert re.search(rf"Before the interview\s*\.+\s*{len(mine['pages'])}\b", contents)
    # Every contents line links to the page its category starts on.
    assert {target for page, _, target in mine["links"] if page == 0} == {
        1, 2, len(mine["pages"]) - 1}
    for number, text in enumerate(mine["pages"], start=1):
        assert f"{number} / {len(mine['pages'])}" in text
    assert mine["meta"]["/Title"].endswith("study guide")

    # The parts read as the whole document laid out in one piece does, page for page.
    html = (fresh.out / "study-guide.html").read_text(encoding="utf-8")
    whole, _ = html_to_pdf(html, fresh.templates, fresh.source / "media")
    one_piece = summary(whole)
    folio = re.compile(r"\s*\d+ / \d+\s*")
    assert [folio.sub(" ", p).split() for p in mine["pages"]] == [
        folio.sub(" ", p).split() for p in one_piece["pages"]]
    assert mine["outline"] == one_piece["outline"]


def test_what_each_edit_lays_out_again(fresh: Project) -> None:
    beta = fresh.source / "02-beta.yaml"
    # An answer: the deck, one part of the study guide, the card's sheet of flashcards; the
    # cheat sheet shows no answer.
    edit(beta, "with a brevity penalty.", "with a brevity penalty for short output.")
    result = run(fresh)
    assert result.rebuilt == ["deck", "study-guide", "flashcards"]
    assert result.laid_out == {"study-guide": (1, PARTS), "flashcards": (1, 1)}
    # A core entry's gist: the cheat sheet too.
    edit(beta, "lower is better.", "lower is better, 1 is perfect.")
    result = run(fresh)
    assert result.rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
    assert result.laid_out == {"cheatsheet": (1, 1), "study-guide": (1, PARTS),
                               "flashcards": (1, 1)}
    # An edit undone finds its renders in the cache: nothing is laid out again.
    edit(beta, "lower is better, 1 is perfect.", "lower is better.")
    result = run(fresh)
    assert result.rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
    assert result.laid_out == {"cheatsheet": (0, 1), "study-guide": (0, PARTS),
                               "flashcards": (0, 1)}
    # The card style: the deck alone.
    (fresh.templates / "anki" / "card.css").write_text(
        (fresh.templates / "anki" / "card.css").read_text() + "\n.gist { color: teal; }\n")
    assert run(fresh).rebuilt == ["deck"]
    # The study guide's style: every part of it, and nothing else.
    (fresh.templates / "pdf" / "study-guide.css").write_text(
        (fresh.templates / "pdf" / "study-guide.css").read_text() + "\nh3 { color: teal; }\n")
    result = run(fresh)
    assert result.rebuilt == ["study-guide"]
    assert result.laid_out == {"study-guide": (PARTS, PARTS)}
    assert run(fresh).rebuilt == []


SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="120" height="40" viewBox="0 0 120 40">'
       '<rect x="1" y="1" width="118" height="38" fill="none" stroke="#1f5fa8"/></svg>')


def test_a_figure_edit_lays_out_only_the_part_that_shows_it(mini: Project) -> None:
    (mini.source / "media").mkdir()
    (mini.source / "media" / "box.svg").write_text(SVG)
    edit(mini.source / "01-alpha.yaml", "It turns scores into probabilities:",
         "It turns scores into probabilities:\n\n      ![A box](box.svg)\n")
    assert run(mini).laid_out["study-guide"] == (PARTS, PARTS)
    (mini.source / "media" / "box.svg").write_text(SVG.replace("#1f5fa8", "#b3401c"))
    result = run(mini)
    assert result.rebuilt == ["deck", "study-guide"]  # a flashcard names its figure, no more
    assert result.laid_out == {"study-guide": (1, PARTS), "flashcards": (0, 1)}
