"""LaTeX formulas as vector images for the PDF, from the same LaTeX the Anki cards show."""

from __future__ import annotations

import base64
import re
from functools import lru_cache

from markupsafe import escape

from deckgen.errors import DeckgenError

_VIEWBOX = re.compile(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"')
_UNKNOWN_COMMAND = re.compile(r">(\\[A-Za-z]+)<")


class MathError(DeckgenError):
    """A formula the PDF renderer cannot typeset."""


@lru_cache(maxsize=4096)
def formula_img(latex: str, display: bool, size: float) -> str:
    """An <img> holding the formula as SVG, sized in px and sitting on the text's baseline.

    Raises MathError when the LaTeX cannot be typeset (syntax error or unknown command), so that
    raw LaTeX never reaches paper.
    """
    import ziamath  # heavy; only a PDF build needs it

    try:
        formula = ziamath.Latex(  # type: ignore[attr-defined]
            latex, size=size, inline=not display, margin=0
        )
        mathml = formula.mathmlstr()
        svg = formula.svg()
    except Exception as exc:  # latex2mathml raises many kinds, none of them user-friendly
        reason = type(exc).__name__.removesuffix("Error")
        reason = re.sub(r"(?<!^)(?=[A-Z])", " ", reason).lower() or "error"
        raise MathError(f"cannot typeset \\({latex}\\): {reason}") from None
    unknown = _UNKNOWN_COMMAND.search(mathml)
    if unknown:
        raise MathError(f"cannot typeset \\({latex}\\): unknown command {unknown.group(1)}")
    box = _VIEWBOX.search(svg)
    if box is None:  # pragma: no cover - ziamath always writes a viewBox
        raise MathError(f"cannot typeset \\({latex}\\): no size")
    _, top, width, height = (float(v) for v in box.groups())
    below_baseline = top + height
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    cls = "math display" if display else "math"
    style = (f"width:{width:.2f}px;height:{height:.2f}px"
             if display else
             f"width:{width:.2f}px;height:{height:.2f}px;vertical-align:{-below_baseline:.2f}px")
    return (f'<img class="{cls}" alt="{escape(latex)}" style="{style}" '
            f'src="data:image/svg+xml;base64,{data}">')
