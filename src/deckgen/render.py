"""Text to HTML: Markdown with raw HTML off, formulas kept intact, Jinja with autoescape on."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from markdown_it.token import Token
from markupsafe import Markup

from deckgen.resources import Templates
from deckgen.source import MATH_SPAN

MathRenderer = Callable[[str, bool], str]
"""Turns (latex, display) into the HTML that stands for the formula."""

Figures = dict[str, str]
"""The figures a field may show: the name written in the source -> the URL of the image."""

_PLACEHOLDER = "DECKGENMATH{}X"
_PLACEHOLDER_RE = re.compile(r"DECKGENMATH(\d+)X")


@cache
def _markdown() -> MarkdownIt:
    # commonmark with raw HTML and links off: "<script>" and "[x](url)" in a field are shown as
    # typed, never run or fetched. An image is shown only when it is one of the figures the caller
    # allows (checked files of source/media/); any other "![x](url)" is shown as typed. Pipe
    # tables are shown as tables.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.disable(["link", "autolink", "html_block", "html_inline"])
    md.enable("table")
    md.add_render_rule("image", _render_image)
    return md


def _render_image(self: object, tokens: Sequence[Token], idx: int, options: object,
                  env: dict[str, object]) -> str:
    token = tokens[idx]
    alt = "".join(child.content for child in token.children or [])
    name = str(token.attrGet("src") or "")
    figures = env.get("figures")
    url = figures.get(name) if isinstance(figures, dict) else None
    if url is None:
        return html.escape(f"![{alt}]({name})")
    return f'<img class="figure" src="{html.escape(url)}" alt="{html.escape(alt)}">'


_NESTING_MARK = re.compile(r"[>*_`+-]|\d[.)]")


def markdown_depth_over(text: str, limit: int) -> int | None:
    """How deeply a Markdown field's HTML elements nest (lists, quotes, emphasis, tables), when
    that is more than `limit`; None when it is not.

    Markdown-it stops reading blocks nested past its own limit (20 levels, about 9 lists),
    dropping the rest of the text, so a field within a `limit` under 20 is shown in full.
    """
    protected, _ = _protect_math(text)
    # Each level needs a mark: '>' a quote, '-', '+', '*' or '1.' a list and its item, '*' or
    # '_' emphasis, '`' code, '|' a table's four levels. Text with few marks is not parsed.
    bound = 2 + 2 * len(_NESTING_MARK.findall(protected)) + 4 * protected.count("|")
    if bound <= limit:
        return None
    depth = deepest = 0
    stack = [iter(_markdown().parse(protected))]
    while stack:
        token = next(stack[-1], None)
        if token is None:
            stack.pop()
            continue
        depth += token.nesting
        deepest = max(deepest, depth)
        if token.children:
            stack.append(iter(token.children))
    return deepest if deepest > limit else None


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


def markdown_html(text: str, math: MathRenderer = anki_math,
                  figures: Figures | None = None) -> Markup:
    """Block-level HTML for a Markdown field; user text is escaped, formulas go through `math`,
    and `![alt](name)` shows the image `figures` gives for that name (else the text as typed)."""
    protected, formulas = _protect_math(text)
    rendered = _markdown().render(protected, {"figures": figures or {}})
    return Markup(_restore_math(rendered, formulas, math).strip())


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
