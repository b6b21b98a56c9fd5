"""The printable documents' HTML: the cheat sheet and the study guide, from templates/pdf/."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from markupsafe import Markup

from deckgen.cache import Slot, digest
from deckgen.errors import Problem, SourceError
from deckgen.mathsvg import FormulaCache, MathError
from deckgen.mathtext import text_formula
from deckgen.model import Category, Entry, Guide
from deckgen.render import MathRenderer, environment, inline_html, markdown_html
from deckgen.source import MATH_SPAN

PAPERS = {"a4": "A4", "letter": "letter"}

# One colour per category, in the guide's order; dark enough for text on white and in greyscale.
PALETTE = (
    "#1f5fa8", "#b3401c", "#2b7a3d", "#7a3fa0", "#b07d00", "#0f7c7c", "#a3235a", "#4a5a12",
    "#3f51b5", "#9c5a1a", "#2f6f5f", "#8a2f2f", "#5b4a8f", "#00707f", "#6b6b00",
)



@dataclass(frozen=True)
class SheetItem:
    id: str
    term: Markup
    gist: Markup
    question: Markup
    answer: Markup
    refs: tuple[str, ...]
    advanced: bool = False


@dataclass(frozen=True)
class SheetCategory:
    number: int
    slug: str
    name: str
    label: str
    colour: str
    guide: Markup
    items: tuple[SheetItem, ...]

    @property
    def core_items(self) -> tuple[SheetItem, ...]:
        """The entries of the core curriculum: what the cheat sheet prints."""
        return tuple(item for item in self.items if not item.advanced)


def _math(formulas: FormulaCache, where: Problem) -> MathRenderer:
    """Formulas for paper: simple ones as text, the rest as images; failures name `where`."""

    def render(latex: str, display: bool) -> str:
        as_text = None if display else text_formula(latex)
        if as_text is not None:
            return as_text
        try:
            return formulas.get(latex, display).img(latex, display)
        except MathError as exc:
            raise SourceError([Problem(where.file, str(exc), where.entry, where.field,
                                       where.line)]) from None

    return render


def _item(category: Category, entry: Entry, formulas: FormulaCache,
          figures: dict[str, str]) -> SheetItem:
    def field_math(name: str) -> MathRenderer:
        return _math(formulas, Problem(category.path, "", entry.id, name, entry.line))

    return SheetItem(
        id=entry.id,
        term=inline_html(entry.term, field_math("term")),
        gist=inline_html(entry.gist, field_math("gist")),
        question=inline_html(entry.question, field_math("question")),
        answer=markdown_html(entry.answer, field_math("answer"), figures),
        refs=tuple(str(r) for r in entry.refs),
        advanced=entry.advanced,
    )


def formulas_in(guide: Guide, categories: Iterable[Category] | None = None,
                ) -> set[tuple[str, bool]]:
    """Every formula the printed documents show as an image (of `categories`, by default all)."""
    found = set()
    chosen = guide.categories if categories is None else categories
    for entry in (e for c in chosen for e in c.entries):
        for text in (entry.term, entry.question, entry.answer, entry.gist):
            for match in MATH_SPAN.finditer(text):
                display = match.group(2) is not None
                latex = (match.group(2) if display else match.group(1)).strip()
                if display or text_formula(latex) is None:
                    found.add((latex, display))
    return found


def categories_view(guide: Guide, formulas: FormulaCache,
                    progress: Callable[[str], None] | None = None) -> list[SheetCategory]:
    """The view of every category for the templates; all formula problems raised together.

    A category read from the same file bytes, showing the same figures, is taken from deckgen's
    cache (its Markdown and formulas rendered by an earlier build).
    """
    # Figures are read by the PDF renderer from source/media/ itself, through its locked fetcher.
    figures = {m.name: m.path.resolve().as_uri() for m in guide.media}
    shown = repr(sorted((m.name, figures[m.name], m.digest) for m in guide.media))
    owner = str(guide.categories[0].path.parent.resolve()) if guide.categories else ""
    slot = Slot("sheet", owner)
    stored = slot.get(digest("sheet")) if owner else None
    cached: dict[str, SheetCategory] = stored if isinstance(stored, dict) else {}
    keys = [digest(c.digest, str(index), shown, version("ziamath")) if c.digest else ""
            for index, c in enumerate(guide.categories)]
    missing = [c for c, key in zip(guide.categories, keys, strict=True) if key not in cached]
    formulas.prepare(formulas_in(guide, missing), progress)
    problems: list[Problem] = []
    result = []
    for index, (category, key) in enumerate(zip(guide.categories, keys, strict=True)):
        if key in cached:
            result.append(cached[key])
            continue
        items = []
        for entry in category.entries:
            try:
                items.append(_item(category, entry, formulas, figures))
            except SourceError as exc:
                problems.extend(exc.problems)
        result.append(SheetCategory(
            number=category.number, slug=category.slug, name=category.name, label=category.label,
            colour=PALETTE[index % len(PALETTE)], guide=inline_html(category.guide),
            items=tuple(items),
        ))
    if problems:
        raise SourceError(problems)
    if owner and missing:
        slot.put(digest("sheet"), {k: v for k, v in zip(keys, result, strict=True) if k})
    return result


def cheatsheet_html(guide: Guide, categories: list[SheetCategory], templates: Path,
                    paper: str) -> str:
    """The cheat sheet: each core entry's term and gist, category by category, in columns."""
    return environment(templates).get_template("pdf/cheatsheet.html.j2").render(
        guide=guide, categories=categories, paper=PAPERS[paper],
        intro=inline_html(guide.intro), closing=inline_html(guide.closing),
    )


def study_guide_html(guide: Guide, categories: list[SheetCategory], templates: Path,
                     paper: str, pages: dict[str, int] | None = None) -> str:
    """The study guide: every question and answer in full, with a table of contents.

    `pages` maps ids to page numbers (and "total" to the page count), as the last layout found.
    """
    return environment(templates).get_template("pdf/study-guide.html.j2").render(
        guide=guide, categories=categories, paper=PAPERS[paper], pages=pages or {},
        intro=markdown_html(guide.intro), closing=markdown_html(guide.closing),
    )
