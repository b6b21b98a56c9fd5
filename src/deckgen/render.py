"""Text to HTML: Markdown with raw HTML off, formulas kept intact, Jinja with autoescape on."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from deckgen.resources import Templates
from deckgen.source import MATH_SPAN

MathRenderer = Callable[[str, bool], str]
"""Turns (latex, display) into the HTML that stands for the formula."""

_PLACEHOLDER = "DECKGENMATH{}X"
_PLACEHOLDER_RE = re.compile(r"DECKGENMATH(\d+)X")


@cache
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML, images and links off: "<script>", "![x](url)" and "[x](url)" in a
    # field are shown as typed, never run or fetched.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["image", "link", "autolink", "html_block", "html_inline"])
    return md


def anki_math(latex: str, display: bool) -> str:
    """A formula as Anki's MathJax expects it: the delimiters kept, the LaTeX HTML-escaped."""
    opening, closing = (r"\[", r"\]") if display else (r"\(", r"\)")
    return html.escape(f"{opening}{latex}{closing}", quote=False)


def _protect_math(text: str) -> tuple[str, list[tuple[str, bool]]]:
    """Swap each formula for a placeholder Markdown leaves alone (backslashes, '_' and '*')."""
    formulas: list[tuple[str, bool]] = []

    def swap(match: re.Match[str]) -> str:
        display = match.group(2) is not None
        formulas.append(((match.group(2) if display else match.group(1)).strip(), display))
        return _PLACEHOLDER.format(len(formulas) - 1)

    # A placeholder-shaped word typed by the user must not be taken for a formula.
    text = _PLACEHOLDER_RE.sub(lambda m: m.group(0).replace("MATH", "M\u200bATH"), text)
    return MATH_SPAN.sub(swap, text), formulas


def _restore_math(rendered: str, formulas: list[tuple[str, bool]], math: MathRenderer) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: math(*formulas[int(m.group(1))]), rendered)


def markdown_html(text: str, math: MathRenderer = anki_math) -> Markup:
    """Block-level HTML for a Markdown field; user text is escaped, formulas go through `math`."""
    protected, formulas = _protect_math(text)
    return Markup(_restore_math(_markdown().render(protected), formulas, math).strip())


def inline_html(text: str, math: MathRenderer = anki_math) -> Markup:
    """Inline HTML (no wrapping paragraph) for a one-line field such as a gist or a question."""
    protected, formulas = _protect_math(text)
    rendered = _markdown().renderInline(protected)
    return Markup(_restore_math(rendered, formulas, math).strip())


def environment(templates: Path) -> jinja2.Environment:
    """The Jinja environment over the effective templates (`templates` first, then deckgen's).

    Autoescape is on and an undefined name is an error.
    """
    effective = Templates(templates).files

    def load(name: str) -> tuple[str, str, None] | None:
        found = effective.get(name)
        return None if found is None else (found.read_text(encoding="utf-8"), str(found), None)

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
