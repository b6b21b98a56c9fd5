"""The formula images WeasyPrint draws: one path of glyphs, the bars as rects, the box unchanged."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdf
import pytest
import ziamath
from ziamath.config import config

from deckgen.mathsvg import Formula, one_path, typeset
from deckgen.pdf import html_to_pdf

SVG = "{http://www.w3.org/2000/svg}"
FORMULAS = [
    (r"\sqrt{d_k}", False),
    (r"\frac{QK^\top}{\sqrt{d_k}}", True),
    (r"\mathrm{softmax}\left(\frac{x_i}{T}\right)", True),
    (r"\sum_{i=1}^{n} \log p(x_i)", True),
    (r"\begin{pmatrix} a & b \\ c & d \end{pmatrix}", True),
    (r"\begin{aligned} f &= \mathrm{ReLU}(W x + b), \\ \mathcal{L} &= \left\lVert x - \hat{x}"
     r" \right\rVert_2^2 + \lambda \lVert f \rVert_1 \end{aligned}", True),
]


def ziamath_svg(latex: str, display: bool, svg2: bool) -> str:
    """What ziamath itself writes, with <symbol>s and <use>s (svg2) or one path per glyph."""
    config.svg2 = svg2
    try:
        svg: str = ziamath.Latex(latex, size=20, inline=not display, margin=0).svg()  # type: ignore[attr-defined]
    finally:
        config.svg2 = True  # ziamath's default
    return svg


def contour_starts(svg: str) -> int:
    paths = ET.fromstring(svg).iter(SVG + "path")
    return sum(len(re.findall(r"[Mm]", path.get("d", ""))) for path in paths)


@pytest.mark.parametrize(("latex", "display"), FORMULAS)
def test_glyphs_in_one_path_bars_as_rects_and_the_box_unchanged(latex: str, display: bool) -> None:
    formula = typeset((latex, display))
    assert isinstance(formula, Formula)
    root = ET.fromstring(formula.svg)
    tags = [element.tag.removeprefix(SVG) for element in root]
    assert tags.count("path") == 1 and set(tags) <= {"path", "rect"}, tags
    assert not re.search(r"<(use|symbol|g)\b", formula.svg)

    # The box on the page is the one ziamath's own SVG gives, to the last digit.
    reference = ziamath_svg(latex, display, svg2=True)
    found = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"', reference)
    assert found is not None
    _, top, width, height = (float(v) / 20 for v in found.groups())
    assert (formula.width, formula.height, formula.depth) == (width, height, top + height)
    assert [float(v) for v in root.get("viewBox", "").split()] == pytest.approx(
        [float(v) * 100 for v in found.groups()], abs=1e-9)

    # Every glyph outline is there, and the bars are ziamath's own rectangles, to 0.01 px units.
    plain = ziamath_svg(latex, display, svg2=False)
    assert contour_starts(formula.svg) == contour_starts(plain)
    rects = [float(r.get(a, "")) for r in ET.fromstring(plain).iter(SVG + "rect")
             for a in ("x", "y", "width", "height")]
    assert [float(r.get(a, "")) / 100 for r in root.iter(SVG + "rect")
            for a in ("x", "y", "width", "height")] == pytest.approx(rects, abs=1e-9)
    if r"\frac" in latex or r"\sqrt" in latex:
        assert rects

    # Glyph points are integers on a grid of 3 units, so WeasyPrint's cubic curves stay integers.
    path = root.find(SVG + "path")
    assert path is not None
    numbers = re.findall(r"-?[\d.]+", path.get("d", ""))
    assert all(re.fullmatch(r"-?\d+", n) and int(n) % 3 == 0 for n in numbers)


def test_a_zero_length_segment_and_the_closing_line_are_dropped() -> None:
    svg = ('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2" viewBox="0 -1 2 2">'
           '<path d="M 0.03 0 L 0.03 0 L 0.06 0 Q 0.06 0.03 0.03 0.03 L 0.03 0 Z " fill="black" />'
           '</svg>')
    assert one_path(svg) == ('<svg xmlns="http://www.w3.org/2000/svg" width="2" height="2" '
                             'viewBox="0 -100 200 200"><path d="M3 0h3q0 3 -3 3z"/></svg>')


@pytest.mark.parametrize("strange", [
    '<path d="M 0 0 L 1 1 Z" fill="red" />',  # \color
    '<path d="M 0 0 L 1 1 Z" fill="black" stroke="black" />',
    '<path d="M 0 0 A 1 1 0 0 1 1 1 Z" fill="black" />',
    '<line x1="0" y1="0" x2="1" y2="1" />',
])
def test_anything_one_path_does_not_know_is_left_as_ziamath_wrote_it(strange: str) -> None:
    svg = f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 2 2">{strange}</svg>'
    assert one_path(svg) == svg


def test_weasyprint_draws_them_with_integer_curves(tmp_path: Path) -> None:
    images = []
    for latex, display in FORMULAS:
        formula = typeset((latex, display))
        assert isinstance(formula, Formula)
        images.append(formula.img(latex, display))
    pdf, refused = html_to_pdf("<html><body><p>" + "</p><p>".join(images) + "</p></body></html>",
                               tmp_path / "templates")
    assert refused == []
    page = pypdf.PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents()
    assert content is not None
    drawn = content.get_data().decode("latin-1")
    assert drawn.count(" re\n") >= 3  # the fraction and radical bars
    assert re.search(r"\n\d+ -?\d+ \d+ -?\d+ -?\d+ -?\d+ c\n", drawn)  # integer curves
