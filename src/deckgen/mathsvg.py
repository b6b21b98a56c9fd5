"""LaTeX formulas as vector images for the PDF, from the same LaTeX the Anki cards show.

Typesetting a formula costs tens of milliseconds, so each one is typeset once per machine and kept
in deckgen's cache, and a cold cache is filled by all cores at once. Sizes are stored in em, so
one image serves every document and font size.
"""

from __future__ import annotations

import base64
import multiprocessing
import os
import re
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


def typeset(key: Key) -> Formula | str:
    """The formula typeset by ziamath, or why it cannot be (so raw LaTeX never reaches paper)."""
    import ziamath  # heavy; only a PDF build needs it

    latex, display = key
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
    return Formula(svg=svg, width=width, height=height, depth=top + height)


class FormulaCache:
    """Typeset formulas by key, kept between builds; use it as a context manager to save them."""

    def __init__(self) -> None:
        self._slot = Slot("formulas", "ziamath")
        self._key = digest("ziamath", version("ziamath"))
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
