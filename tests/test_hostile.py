"""Text is text: markup typed into any field is shown as typed on cards and on paper, never run,
never fetched, never attached."""

from __future__ import annotations

import io
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pypdf
import pytest

from anki_helpers import card_for, import_apkg, open_collection
from conftest import FIXTURES, Project, copy_project
from deckgen.mathsvg import FormulaCache
from deckgen.pdf import html_to_pdf
from deckgen.sheet import categories_view, cheatsheet_html, study_guide_html
from deckgen.source import load_guide

# Markup as the user typed it; if any of these reach HTML unescaped, it would be live.
RAW = ("<script", "<img src", "<link", "<style", "<i>is", "<b>Deck", "<Sons>", 'href="javascript')


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Project:
    project = copy_project(tmp_path_factory.mktemp("hostile"), FIXTURES / "hostile")
    result = project.build()
    assert result.exit_code == 0, result.output
    return project


def fields_in(package: Path) -> list[str]:
    with zipfile.ZipFile(package) as archive:
        data = archive.read("collection.anki2")
    database = Path(str(package) + ".anki2")
    database.write_bytes(data)
    with sqlite3.connect(database) as db:
        return [f for (flds,) in db.execute("select flds from notes") for f in flds.split("\x1f")]


def test_fields_in_the_package_hold_escaped_text(hostile: Project) -> None:
    fields = fields_in(hostile.apkg())
    joined = "\n".join(fields)
    for raw in RAW:
        assert raw not in joined, raw
    assert "&lt;img src=x onerror=alert(4)&gt; stays text." in joined
    assert "&lt;img src=&quot;file:///etc/passwd&quot; onerror=&quot;alert(2)&quot;&gt;" in joined
    assert "O&#39;Brien &amp; &lt;Sons&gt;" in joined
    assert r"\(a &lt; b\)" in joined and r"\[x_{i} &gt; y\]" in joined


def test_cards_show_the_markup_as_typed(hostile: Project, tmp_path: Path) -> None:
    col = open_collection(tmp_path / "anki")
    import_apkg(col, hostile.apkg())
    card = card_for(col, "script-tag")
    question, answer = card.question(), card.answer()
    assert "Does &lt;script&gt;alert('q')&lt;/script&gt; run?" in question
    body = answer.split("</style>", 1)[1]  # after the note type's own stylesheet
    for raw in RAW:
        assert raw not in body, raw
    col.close()


def test_pdfs_show_the_markup_and_fetch_nothing(hostile: Project) -> None:
    guide, _ = load_guide(hostile.source)
    categories = categories_view(guide, FormulaCache())
    for render in (cheatsheet_html, study_guide_html):
        html = render(guide, categories, hostile.templates, "a4")
        for raw in RAW:
            assert raw not in html.split("</style>", 1)[1], raw
        pdf, refused = html_to_pdf(html, hostile.templates)
        assert refused == []
        reader = pypdf.PdfReader(io.BytesIO(pdf))
        catalog: Any = reader.trailer["/Root"].get_object()
        assert "/EmbeddedFiles" not in catalog.get("/Names", {})
        assert all("/Annots" not in page or "/FileAttachment" not in str(page["/Annots"])
                   for page in reader.pages)
        text = "".join(page.extract_text() for page in reader.pages)
        assert "<img src=x onerror=alert(4)> stays text." in text
        assert "root:x:0:0" not in text
    study = (hostile.out / "study-guide.pdf").read_bytes()
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(study)).pages)
    assert '<link rel="attachment" href="file:///etc/hostname">' in text
    assert "[a link](javascript:alert(3))" in text
