"""The printable documents' HTML: the cheat sheet and the study guide, from templates/pdf/."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from markupsafe import Markup

from deckgen.errors import Problem, SourceError
from deckgen.mathsvg import MathError, formula_img
from deckgen.model import Category, Entry, Guide
from deckgen.render import environment, inline_html, markdown_html

PAPERS = {"a4": "A4", "letter": "letter"}

# One colour per category, in the guide's order; dark enough for text on white and in greyscale.
PALETTE = (
    "#1f5fa8", "#b3401c", "#2b7a3d", "#7a3fa0", "#b07d00", "#0f7c7c", "#a3235a", "#4a5a12",
    "#3f51b5", "#9c5a1a", "#2f6f5f", "#8a2f2f", "#5b4a8f", "#00707f", "#6b6b00",
)

# Formula sizes in CSS px, matched to the text they sit in.
SHEET_MATH_PX = 9.6
GUIDE_MATH_PX = 12.5


@dataclass(frozen=True)
class SheetItem:
    id: str
    term: Markup
    gist: Markup
    question: Markup
    answer: Markup
    refs: tuple[str, ...]


@dataclass(frozen=True)
class SheetCategory:
    number: int
    slug: str
    name: str
    label: str
    colour: str
    guide: Markup
    items: tuple[SheetItem, ...]


def _math(size: float, where: Problem) -> partial[str]:
    def render(latex: str, display: bool) -> str:
        try:
            return formula_img(latex, display, size)
        except MathError as exc:
            raise SourceError([Problem(where.file, str(exc), where.entry, where.field,
                                       where.line)]) from None
    return partial(render)


def _item(category: Category, entry: Entry, size: float, *, full: bool) -> SheetItem:
    def field_math(name: str) -> partial[str]:
        return _math(size, Problem(category.path, "", entry.id, name, entry.line))

    return SheetItem(
        id=entry.id,
        term=inline_html(entry.term, field_math("term")),
        gist=inline_html(entry.gist, field_math("gist")),
        question=inline_html(entry.question, field_math("question")) if full else Markup(""),
        answer=markdown_html(entry.answer, field_math("answer")) if full else Markup(""),
        refs=tuple(str(r) for r in entry.refs),
    )


def _categories(guide: Guide, size: float, *, full: bool) -> list[SheetCategory]:
    """The view of every category for a template; all formula problems raised together."""
    problems: list[Problem] = []
    result = []
    for index, category in enumerate(guide.categories):
        items = []
        for entry in category.entries:
            try:
                items.append(_item(category, entry, size, full=full))
            except SourceError as exc:
                problems.extend(exc.problems)
        result.append(SheetCategory(
            number=category.number, slug=category.slug, name=category.name, label=category.label,
            colour=PALETTE[index % len(PALETTE)], guide=inline_html(category.guide),
            items=tuple(items),
        ))
    if problems:
        raise SourceError(problems)
    return result


def cheatsheet_html(guide: Guide, templates: Path, paper: str) -> str:
    """The cheat sheet: every entry's term and gist, category by category, in columns."""
    env = environment(templates)
    return env.get_template("pdf/cheatsheet.html.j2").render(
        guide=guide, categories=_categories(guide, SHEET_MATH_PX, full=True),
        paper=PAPERS[paper], intro=inline_html(guide.intro), closing=inline_html(guide.closing),
    )
