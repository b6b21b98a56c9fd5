"""LaTeX formulas as vector images for the PDF, from the same LaTeX the Anki cards show.

Typesetting a formula costs tens of milliseconds, so each one is typeset once per machine and kept
in deckgen's cache, and a cold cache is filled by all cores at once. Sizes are stored in em, so
one image serves every document and font size.

What WeasyPrint draws is rewritten into the cheapest form that looks the same (`one_path`): all
the glyphs of a formula in one <path>, its bars as they were, glyph points on a grid of 0.03 px at
20 px/em (0.0015 em, 0.005 mm in 10 pt text, an eighth of a 600 dpi printer's dot). Each SVG
element, and each <use> of a <symbol> above all, costs WeasyPrint more than the curves it holds
(drawing this guide's formulas took less than half as long, measured); and integer coordinates
that are multiples of 3 stay integers when WeasyPrint turns a quadratic curve into the cubic one
PDF has, so the PDF says "9051" where it would say "30.170333" (a fifth smaller, and a fifth
faster to draw, than the same path in ziamath's decimals). The PDF is still larger than with
<use>: a glyph drawn in its own coordinates repeats byte for byte and compresses away, one at its
place on the page does not (this guide's study guide: 2.7 MB instead of 2.0 MB).
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version

from markupsafe import escape

from deckgen.cache import Slot, digest
from deckgen.errors import DeckgenError

_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_UNKNOWN_COMMAND = re.compile(r">(\\[A-Za-z]+)<")
_SIZE_PX = 20.0  # typeset at 20px, stored in em: 1em is then 20 units of the image
_FORM = "one-path, 0.01 px units, grid of 3"  # what `one_path` writes: in the cache key
_UNITS_PER_PX = 100  # one_path's coordinates are integers, in 0.01 px...
_GRID = 3  # ...and multiples of 3, so WeasyPrint's quadratic-to-cubic thirds stay integers
_SVG = "{http://www.w3.org/2000/svg}"
_PATH_COMMAND = re.compile(r"([A-Za-z])([^A-Za-z]*)")
_PATH_ARGS = {"M": 1, "L": 1, "Q": 2, "C": 3}  # points after each command ziafont writes

Key = tuple[str, bool]
"""A formula: its LaTeX and whether it is a display formula."""


class MathError(DeckgenError):
    """A formula the PDF renderer cannot typeset."""


@dataclass(frozen=True)
class Formula:
    """A typeset formula: SVG data and its box in em, `depth` being the part below the baseline."""

    svg: str
    width: float
    height: float
    depth: float

    def img(self, latex: str, display: bool) -> str:
        """An <img> that shows the formula at the size of the surrounding text, on its baseline."""
        data = base64.b64encode(self.svg.encode("utf-8")).decode("ascii")
        size = f"width:{self.width:.3f}em;height:{self.height:.3f}em"
        style = size if display else f"{size};vertical-align:{-self.depth:.3f}em"
        cls = "math display" if display else "math"
        return (f'<img class="{cls}" alt="{escape(latex)}" style="{style}" '
                f'src="data:image/svg+xml;base64,{data}">')


Point = tuple[int, int]


def _units(value: str) -> str:
    """An SVG length in px, exactly (to 0.001 units), in units: for the box and the bars."""
    return f"{float(value) * _UNITS_PER_PX:.3f}".rstrip("0").rstrip(".")


def _contours(d: str) -> list[tuple[Point, list[tuple[Point, ...]]]]:
    """The contours of an absolute M/L/Q/C/Z path: start and segments, on the grid, cleaned.

    A segment that goes nowhere (ziafont starts each contour with one) is dropped, and so is a
    closing line back to the start, which Z draws anyway. ValueError for anything else.
    """
    contours: list[tuple[Point, list[tuple[Point, ...]]]] = []
    scale = _UNITS_PER_PX / _GRID
    for command, arguments in _PATH_COMMAND.findall(d):
        if command == "Z" and not arguments.strip():
            continue
        numbers = [_GRID * round(float(v) * scale) for v in arguments.replace(",", " ").split()]
        if len(numbers) != 2 * _PATH_ARGS.get(command, 0):
            raise ValueError(f"path command {command}{arguments}")
        points = tuple(zip(numbers[::2], numbers[1::2], strict=True))
        if command == "M":
            contours.append((points[0], []))
        elif not contours:
            raise ValueError("path without M")
        else:
            contours[-1][1].append(points)
    cleaned = []
    for start, segments in contours:
        kept: list[tuple[Point, ...]] = []
        current = start
        for segment in segments:
            if any(point != current for point in segment):
                kept.append(segment)
                current = segment[-1]
        if kept and len(kept[-1]) == 1 and kept[-1][0] == start:
            kept.pop()
        if kept:
            cleaned.append((start, kept))
    return cleaned


def _path_data(contours: Iterable[tuple[Point, list[tuple[Point, ...]]]]) -> str:
    """Path data in relative commands, each letter written once per run (the shortest to parse)."""
    out: list[str] = []
    x = y = 0
    for (start_x, start_y), segments in contours:
        out.append(f"m{start_x - x} {start_y - y}" if out else f"M{start_x} {start_y}")
        x, y = start_x, start_y
        last = ""
        for segment in segments:
            end_x, end_y = segment[-1]
            if len(segment) == 1 and end_y == y:
                letter, text = "h", f"{end_x - x}"
            elif len(segment) == 1 and end_x == x:
                letter, text = "v", f"{end_y - y}"
            else:
                letter = "lqc"[len(segment) - 1]
                text = " ".join(f"{px - x} {py - y}" for px, py in segment)
            out.append(f" {text}" if letter == last else f"{letter}{text}")
            last = letter
            x, y = end_x, end_y
        out.append("z")
        x, y = start_x, start_y
    return "".join(out)


def one_path(svg: str) -> str:
    """ziamath's SVG (svg2 off: absolute paths) with all its glyphs in one <path>, same box.

    It looks the same: everything is filled black under the nonzero rule, where glyphs that
    overlap stay filled as when drawn one by one, since every glyph's outline turns the same way.
    Bars (fractions, radicals) stay <rect>s, exactly as they were: merged into the path, one
    turning the other way than the radical sign it touches would punch a hole in it, and PDF
    viewers snap a rectangle to whole pixels but not a path. Anything else (a colour, a stroke,
    another element, a command ziafont does not write) comes back as ziamath wrote it.
    """
    root = ET.fromstring(svg)
    glyphs: list[tuple[Point, list[tuple[Point, ...]]]] = []
    bars: list[str] = []

    def collect(element: ET.Element, fill: str | None) -> None:
        for child in element:
            tag = child.tag.removeprefix(_SVG)
            colour = child.get("fill", fill)
            allowed = {"fill"} | {"g": set(), "path": {"d"},
                                  "rect": {"x", "y", "width", "height"}}.get(tag, set())
            if tag not in ("g", "path", "rect") or set(child.attrib) - allowed:
                raise ValueError(f"element {tag} {sorted(child.attrib)}")
            if tag == "g":
                collect(child, colour)
            elif colour != "black":
                raise ValueError(f"fill {colour}")
            elif tag == "path":
                glyphs.extend(_contours(child.get("d", "")))
            else:
                x, y, width, height = (_units(child.get(a, "0"))
                                       for a in ("x", "y", "width", "height"))
                bars.append(f'<rect x="{x}" y="{y}" width="{width}" height="{height}"/>')

    try:
        collect(root, None)
        if len(root.get("viewBox", "").split()) != 4:
            raise ValueError("viewBox")
    except ValueError:
        return svg
    view = " ".join(_units(v) for v in root.get("viewBox", "").split())
    path = f'<path d="{_path_data(glyphs)}"/>' if glyphs else ""
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{root.get("width")}" '
            f'height="{root.get("height")}" viewBox="{view}">{path}{"".join(bars)}</svg>')


def typeset(key: Key) -> Formula | str:
    """The formula typeset by ziamath, or why it cannot be (so raw LaTeX never reaches paper)."""
    import ziamath  # heavy; only a PDF build needs it
    from ziamath.config import config

    latex, display = key
    config.svg2 = False  # absolute paths: no <symbol> and <use> for one_path to undo
    try:
        formula = ziamath.Latex(  # type: ignore[attr-defined]
            latex, size=_SIZE_PX, inline=not display, margin=0
        )
        mathml = formula.mathmlstr()
        svg = formula.svg()
    except RecursionError:
        return "groups nested too deeply: simplify it"
    except Exception as exc:  # latex2mathml raises many kinds, none of them user-friendly
        reason = type(exc).__name__.removesuffix("Error")
        return re.sub(r"(?<!^)(?=[A-Z])", " ", reason).lower() or "error"
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown:
        return f"unknown command {unknown.group(1)}"
    box = _VIEWBOX.search(svg)
    if box is None:  # pragma: no cover - ziamath always writes a viewBox
        return "no size"
    _, top, width, height = (float(v) / _SIZE_PX for v in box.groups())
    return Formula(svg=one_path(svg), width=width, height=height, depth=top + height)


class FormulaCache:
    """Typeset formulas by key, kept between builds; use it as a context manager to save them."""

    def __init__(self) -> None:
        self._slot = Slot("formulas", "ziamath")
        self._key = digest("ziamath", version("ziamath"), _FORM)
        self._formulas: dict[Key, Formula] = self._slot.get(self._key) or {}
        self._failures: dict[Key, str] = {}
        self._dirty = False

    def __enter__(self) -> FormulaCache:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.save()

    def prepare(self, keys: Iterable[Key], progress: Callable[[str], None] | None = None) -> None:
        """Typeset every formula not yet cached, on all cores when there are many."""
        missing = sorted({k for k in keys if k not in self._formulas and k not in self._failures})
        if not missing:
            return
        if progress is not None:
            progress(f"typesetting {len(missing)} new formula(s)")
        workers = min(os.cpu_count() or 1, 8)
        if len(missing) < 16 or workers == 1:
            results = [typeset(k) for k in missing]
        else:
            # Not fork: the parent may hold threads (Anki's backend in the tests, WeasyPrint's
            # font loader), and a forked child can inherit one of their locks taken for ever.
            context = multiprocessing.get_context("forkserver")
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                results = list(pool.map(typeset, missing, chunksize=8))
        for key, result in zip(missing, results, strict=True):
            if isinstance(result, Formula):
                self._formulas[key] = result
                self._dirty = True
            else:
                self._failures[key] = result

    def get(self, latex: str, display: bool) -> Formula:
        """The typeset formula; MathError when it cannot be typeset."""
        key = (latex, display)
        if key not in self._formulas and key not in self._failures:
            self.prepare([key])
        if key in self._failures:
            shown = latex if len(latex) <= 60 else latex[:60] + "..."
            raise MathError(f"cannot typeset \\({shown}\\): {self._failures[key]}")
        return self._formulas[key]

    def save(self) -> None:
        """Keep what was typeset for later builds, if anything was added."""
        if self._dirty:
            self._slot.put(self._key, self._formulas)
            self._dirty = False
