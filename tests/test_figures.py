"""Figures from source/media/: in the package, in the collection after a real import, on paper."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pdfplumber
import pytest
from click.testing import CliRunner

from anki_helpers import import_apkg, open_collection
from conftest import FIXTURES, ROOT, Project
from deckgen.cli import main
from deckgen.media import MAX_BYTES
from deckgen.source import load_guide

MEDIA = ROOT / "source" / "media"


def _make_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_figures", MEDIA / "make.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plot_script_still_draws_the_committed_plots() -> None:
    make = _make_script()
    assert make.PLOTS, "the script draws no plot"
    for name in make.PLOTS:
        assert make.render(name) == (MEDIA / name).read_bytes(), (
            f"{name} differs from what source/media/make.py draws; run it and commit the result")


def test_the_guide_shows_at_least_six_figures_each_in_an_answer() -> None:
    guide, _ = load_guide(ROOT / "source")
    assert len(guide.media) >= 6
    shown = [e for e in guide.entries if "](" in e.answer and any(
        f"]({m.name})" in e.answer for m in guide.media)]
    assert len(shown) >= 6


def test_figures_are_packaged_and_reach_the_collections_media_folder(
    built: Project, tmp_path: Path
) -> None:
    guide, _ = load_guide(built.source)
    with zipfile.ZipFile(built.apkg()) as package:
        media_map = json.loads(package.read("media"))
        packaged = {name: package.read(number) for number, name in media_map.items()
                    if not name.startswith("_")}  # "_" files are the card's font
    expected = {m.anki_name: m.path.read_bytes() for m in guide.media}
    assert packaged == expected
    assert all("/" not in name and name.startswith("deckgen-") for name in packaged)

    col = open_collection(tmp_path / "anki")
    import_apkg(col, built.apkg())
    check = col.media.check()
    assert list(check.missing) == [] and list(check.unused) == []
    folder = Path(col.media.dir())
    for name, data in expected.items():
        assert (folder / name).read_bytes() == data
    for media in guide.media:
        (nid,) = col.find_notes(f'"Answer:*{media.anki_name}*"')
        assert f'<img class="figure" src="{media.anki_name}"' in col.get_note(nid)["Answer"]
    col.close()


def test_a_figure_makes_the_same_bytes_each_build_and_a_new_name_when_edited(
    mini: Project,
) -> None:
    (mini.source / "media").mkdir()
    svg = mini.source / "media" / "box.svg"
    svg.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 4 4">'
                   '<rect width="4" height="4"/></svg>')
    entry = mini.source / "01-alpha.yaml"
    entry.write_text(entry.read_text().replace(
        "The open interval from -1 to 1.",
        "|\n      The open interval from -1 to 1.\n\n      ![A black box](box.svg)"))
    assert mini.build().exit_code == 0
    first = mini.apkg().read_bytes()
    for path in mini.out.iterdir():
        path.unlink()
    assert mini.build().exit_code == 0
    assert mini.apkg().read_bytes() == first
    svg.write_text(svg.read_text().replace('width="4"', 'width="3"'))
    result = mini.build()
    assert result.exit_code == 0 and "1 new or changed" in result.output, result.output
    with zipfile.ZipFile(mini.apkg()) as package:
        (name,) = [n for n in json.loads(package.read("media")).values() if n.startswith("deck")]
    with zipfile.ZipFile(io.BytesIO(first)) as package:
        (old_name,) = [n for n in json.loads(package.read("media")).values()
                       if n.startswith("deck")]
    assert name != old_name and name.startswith("deckgen-box-")


def _page_of(pdf: Any, words: str) -> Any:
    """The first page holding `words` (spaces ignored: an SVG's labels come without them)."""
    wanted = "".join(words.split())
    for page in pdf.pages:
        if wanted in "".join((page.extract_text() or "").split()):
            return page
    raise AssertionError(f"{words!r} is on no page")


def test_the_study_guide_draws_the_figures_as_vector_graphics(built: Project) -> None:
    with pdfplumber.open(built.out / "study-guide.pdf") as pdf:
        # The diagrams' labels are text in the PDF: the SVG stayed vector, not a bitmap.
        diagram = _page_of(pdf, "What is the architecture of a GPT model")
        text = "".join((diagram.extract_text() or "").split())
        assert "residualstream" in text and "\u00d7Lblocks" in text
        _page_of(pdf, "3 · Reinforcement learning (PPO)")
        assert not any(page.images for page in pdf.pages), "a figure was rasterized"
        # The plots' lines are drawn as curves on the page that shows them.
        plot = _page_of(pdf, "What is a warmup-stable-decay learning-rate schedule")
        following = pdf.pages[plot.page_number] if plot.page_number < len(pdf.pages) else plot
        assert max(len(plot.curves) + len(plot.lines),
                   len(following.curves) + len(following.lines)) > 20


def test_a_figure_far_too_large_is_an_error_and_build_is_untouched(mini: Project) -> None:
    assert mini.build().exit_code == 0
    before = mini.outputs()
    (mini.source / "media").mkdir()
    (mini.source / "media" / "huge.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(MAX_BYTES))
    entry = mini.source / "01-alpha.yaml"
    entry.write_text(entry.read_text().replace(
        "The open interval from -1 to 1.", "'The open interval. ![A huge picture](huge.png)'"))
    result = mini.build()
    assert result.exit_code == 1
    assert "entry 'tanh': field 'answer': ![A huge picture](huge.png): the file is 2.0 MB" in (
        result.stderr)
    assert mini.outputs() == before


def test_an_unused_media_file_is_a_check_warning(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(FIXTURES / "mini", source)
    (source / "media").mkdir()
    (source / "media" / "spare.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (source / "media" / "notes.txt").write_text("not a figure, not reported")
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert "spare.svg: no entry shows this figure" in result.output
    assert "notes.txt" not in result.output


@pytest.mark.parametrize("target", ["../deck.yaml", "/etc/passwd", "https://example.com/x.png",
                                    "file:///etc/passwd", "media/box.svg"])
def test_the_pdf_renderer_reads_figures_from_source_media_only(
    mini: Project, target: str
) -> None:
    entry = mini.source / "01-alpha.yaml"
    entry.write_text(entry.read_text().replace(
        "The open interval from -1 to 1.", f"'See ![a figure]({target})'"))
    result = mini.build()
    assert result.exit_code == 1
    assert "only files in" in result.stderr and "Traceback" not in result.output
