"""Printable flashcards: every selected entry as a card to cut out, printed on both sides.

A sheet is a grid of cards, 2 x 3 on A4 and Letter portrait (96 x 93 mm on A4, 99 x 87 mm on
Letter: at 2 x 4 half of this guide's backs did not fit): a page of fronts (the question), then
a page of backs (the gist and the answer), so the PDF always has an even number of pages.

Duplex geometry. Take a portrait sheet, x from its left edge and y from its top, seen from the
side being printed. Printed on both sides and flipped on the long edge (the printer's default,
the sheet turned like a book's page), the point (x, y) of the front lies behind the point
(W - x, y) of the back page: a card in row r, column c of the fronts has its back in row r,
column (cols - 1 - c), upright. Flipped on the short edge (turned like a notepad's page), the
printer turns the back page half a turn compared with the long edge: (x, y) lies behind
(x, H - y). So with `flip="short"` the back page is the long-edge one turned half a turn: the
back of row r, column c sits in row (rows - 1 - r), column c, and is itself rotated 180 degrees.
Either way the cut cards come out the same: turn a card over sideways and its back is upright.
The margins are equal left and right, top and bottom, so the grid is its own mirror image.

A back that does not fit its card is shortened: the gist always shows, and the answer is cut
after the last block, list item or sentence that fits (never inside a line), followed by a
"continued in the study guide" line. What fits is measured, not estimated: the cards are laid
out by WeasyPrint exactly as they are printed, the boxes of each card are compared with the
card's box, and shortened versions of the cards that overflow are laid out again (a binary
search over the places where the answer may be cut) until the longest that fits is found.
Those decisions are kept in deckgen's cache per card, so a rebuild, or `deckgen check` after a
build, lays out only cards it has not seen.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from markupsafe import Markup

from deckgen.cache import Slot, digest
from deckgen.errors import DeckgenError, Problem
from deckgen.media import MEDIA_DIR
from deckgen.model import Category, Entry, Guide
from deckgen.render import _markdown, environment, inline_html, markdown_html
from deckgen.resources import Templates
from deckgen.sheet import SheetCategory, SheetItem, _math
from deckgen.source import LEVELS, MATH_SPAN

FLIPS = ("long", "short")
COLUMNS, ROWS = 2, 3
_PAGES_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
_PAGE_CSS = {"a4": "A4 portrait", "letter": "letter portrait"}
_MARGIN_MM = 9.0  # every side: printers leave 4-5 mm unprinted; the cut marks live here
_SLACK_PX = 0.5  # how far (in CSS px, 1/96 in) a box may pass its card's edge: rounding
_STYLES_KEPT = 4  # card styles whose measurements the cache keeps
_TEMPLATE = "pdf/flashcards.html.j2"
_STYLES = ("pdf/flashcards.html.j2", "pdf/flashcards.css", "pdf/fonts.css")


class SelectionError(DeckgenError):
    """A --tag, --category or --level names nothing in the source."""


# Sheets laid out together: an edited card lays out its part again (eight pages).
SHEETS_PER_PART = 4


@dataclass(frozen=True)
class Selection:
    """Which entries the printed documents show: every entry that has one of `tags` (if any),
    is in one of `categories` (if any) and is of `level` (if given).

    Categories are named by number ("7", "07") or file slug ("scaling-laws"); an entry's tags
    are its own and its category's slug, as on its note in Anki. The Anki deck always holds
    every entry: in Anki the same cards are a filtered deck (see `anki_search`).
    """

    tags: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    level: str | None = None

    def __bool__(self) -> bool:
        return bool(self.tags or self.categories or self.level)

    def key(self, level: bool = True) -> str:
        """The selection as text for an output's digest; empty when everything is printed."""
        parts = [f"tags={','.join(sorted(set(self.tags)))}" if self.tags else "",
                 f"categories={','.join(sorted(set(self.categories)))}" if self.categories else "",
                 f"level={self.level}" if level and self.level else ""]
        return " ".join(p for p in parts if p)

    def describe(self) -> str:
        """The selection in words, e.g. "tag attention, category 07, core entries"."""
        parts = []
        if self.tags:
            parts.append(f"tag {' or '.join(self.tags)}")
        if self.categories:
            parts.append(f"category {' or '.join(self.categories)}")
        if self.level:
            parts.append(f"{self.level} entries")
        return ", ".join(parts) or "every entry"

    def _categories(self, guide: Guide) -> set[int]:
        """The numbers of the categories named; SelectionError lists what exists otherwise."""
        chosen, unknown = set(), []
        for name in self.categories:
            found = [c.number for c in guide.categories
                     if (name.isdigit() and int(name) == c.number) or name == c.slug]
            chosen.update(found)
            if not found:
                unknown.append(name)
        if unknown:
            known = ", ".join(f"{c.number:02d} ({c.slug})" for c in guide.categories)
            raise SelectionError(f"--category {', '.join(map(repr, unknown))}: no such category "
                                 f"(give its number or slug: {known})")
        return chosen

    def _check_tags(self, guide: Guide) -> None:
        known = sorted({t for c in guide.categories for e in c.entries for t in _tags(c, e)})
        unknown = [t for t in self.tags if t not in known]
        if unknown:
            raise SelectionError(f"--tag {', '.join(map(repr, unknown))}: no entry has this tag "
                                 f"(the tags: {', '.join(known)})")

    def check(self, guide: Guide) -> None:
        """Raise SelectionError when a tag, category or level names nothing, or the selection as
        a whole selects no entry."""
        if self.level is not None and self.level not in LEVELS:
            raise SelectionError(f"--level {self.level!r}: must be one of {', '.join(LEVELS)}")
        self._check_tags(guide)
        self._categories(guide)
        if not any(self.selects(c, e, guide) for c in guide.categories for e in c.entries):
            raise SelectionError(f"the selection ({self.describe()}) holds no entry")

    def selects(self, category: Category, entry: Entry, guide: Guide, level: bool = True) -> bool:
        """Whether `entry` of `category` is printed."""
        if self.categories and category.number not in self._categories(guide):
            return False
        if self.tags and not set(self.tags) & set(_tags(category, entry)):
            return False
        return not (level and self.level is not None and entry.level != self.level)

    def apply(self, guide: Guide, categories: list[SheetCategory],
              level: bool = True) -> list[SheetCategory]:
        """The categories' view with only the selected entries, empty categories left out.

        With `level` False the level is not applied (the cheat sheet prints the core entries
        of whatever tags and categories are chosen).
        """
        if not self:
            return categories
        self.check(guide)
        by_number = {c.number: c for c in guide.categories}
        result = []
        for view in categories:
            category = by_number[view.number]
            entries = {e.id: e for e in category.entries}
            items = tuple(i for i in view.items
                          if self.selects(category, entries[i.id], guide, level))
            if items:
                result.append(replace(view, items=items))
        return result

    def anki_search(self, guide: Guide) -> str:
        """The Anki Browser search (or filtered deck) that holds the same cards."""
        terms = [f'deck:"{_anki_escape(guide.title)}"']
        if self.tags:
            terms.append(_any(f"tag:{t}" for t in self.tags))
        if self.categories:
            numbers = self._categories(guide)
            terms.append(_any(f"tag:{c.slug}" for c in guide.categories if c.number in numbers))
        if self.level == "advanced":
            terms.append("tag:advanced")
        elif self.level == "core":
            terms.append("-tag:advanced")
        return " ".join(terms)


def _tags(category: Category, entry: Entry) -> tuple[str, ...]:
    return (category.slug, *entry.tags)


def _any(terms: Iterable[str]) -> str:
    listed = list(dict.fromkeys(terms))
    return listed[0] if len(listed) == 1 else f"({' OR '.join(listed)})"


def _anki_escape(text: str) -> str:
    return re.sub(r'([\\"*_])', r"\\\1", text)


@dataclass(frozen=True)
class Geometry:
    """Where the cards are on a sheet, in millimetres from the page's top left corner."""

    paper: str
    width: float
    height: float
    columns: int = COLUMNS
    rows: int = ROWS
    margin: float = _MARGIN_MM

    @property
    def card_width(self) -> float:
        return (self.width - 2 * self.margin) / self.columns

    @property
    def card_height(self) -> float:
        return (self.height - 2 * self.margin) / self.rows

    @property
    def per_sheet(self) -> int:
        return self.columns * self.rows

    def cell(self, row: int, column: int) -> tuple[float, float]:
        """The top left corner of the card in `row`, `column`."""
        return self.margin + column * self.card_width, self.margin + row * self.card_height

    def back_of(self, row: int, column: int, flip: str) -> tuple[int, int, bool]:
        """Where the back of the front at (row, column) is printed: row, column, rotated."""
        if flip == "short":
            return self.rows - 1 - row, column, True
        return row, self.columns - 1 - column, False


def geometry(paper: str) -> Geometry:
    """The sheet's layout on `paper` ("a4" or "letter")."""
    width, height = _PAGES_MM[paper]
    return Geometry(paper, width, height)


@dataclass(frozen=True)
class Face:
    """One side of a card as the template shows it."""

    key: str  # names the card's box in the layout (data-fit)
    side: str  # "front" or "back"
    colour: str
    number: int
    category: str
    id: str
    advanced: bool
    question: Markup = Markup("")  # noqa: RUF009 - immutable
    gist: Markup = Markup("")  # noqa: RUF009
    answer: Markup = Markup("")  # noqa: RUF009
    cut: bool = False


@dataclass(frozen=True)
class _Card:
    """A card and every shorter version of each side, longest first (index 0: in full)."""

    index: int
    item: SheetItem
    category: SheetCategory
    source: Category
    entry: Entry
    fronts: tuple[tuple[str | None, bool], ...]  # (question text, or None for the item's own)
    backs: tuple[tuple[str | None, str | None, bool], ...]  # (gist, answer, shortened)


@dataclass
class FlashcardsReport:
    """What the flashcards took: the page budget and the cards that had to be shortened."""

    paper: str
    flip: str
    cards: int = 0
    sheets: int = 0
    shortened: list[Problem] = field(default_factory=list)
    selection: str = "every entry"
    anki_search: str | None = None
    refused: list[str] = field(default_factory=list)  # URLs the locked fetcher did not fetch

    @property
    def pages(self) -> int:
        return 2 * self.sheets

    @property
    def backs_shortened(self) -> int:
        return sum(p.field != "question" for p in self.shortened)

    def lines(self) -> list[str]:
        """The report printed after a build."""
        paper = "A4" if self.paper == "a4" else "Letter"
        sheets = "1 sheet" if self.sheets == 1 else f"{self.sheets} sheets"
        lines = [f"flashcards: {self.cards} cards ({self.selection}) on {sheets} of "
                 f"{paper} ({self.pages} pages, duplex, flip on the {self.flip} edge); "
                 f"{self.backs_shortened} back(s) shortened"
                 + (f", {len(self.shortened) - self.backs_shortened} front(s) shortened"
                    if len(self.shortened) > self.backs_shortened else "")
                 + (" (deckgen check names them)" if self.shortened else "")]
        if self.anki_search is not None:
            lines.append(f"  in Anki the same cards are the search (or filtered deck) "
                         f"{self.anki_search}; the deck itself holds every entry")
        return lines


# -- where a text may be cut ----------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?][\"'\u2019\u201d)\]]*(?=\s+\S)")
_PLACEHOLDER = "DECKGENCUT{}X"


def _protected(text: str) -> tuple[str, Callable[[int], int], list[tuple[int, int, bool]]]:
    """`text` with its formulas swapped for placeholders, a map from offsets in it back to
    offsets in `text`, and each placeholder's span and whether it is a display formula."""
    pieces, spans, shifts = [], [], []
    at = size = 0
    for number, match in enumerate(MATH_SPAN.finditer(text)):
        pieces.append(text[at:match.start()])
        size += match.start() - at
        placeholder = _PLACEHOLDER.format(number)
        spans.append((size, size + len(placeholder), match.group(2) is not None))
        shifts.append((size + len(placeholder), match.end() - match.start() - len(placeholder)))
        pieces.append(placeholder)
        size += len(placeholder)
        at = match.end()
    pieces.append(text[at:])

    def original(offset: int) -> int:
        return offset + sum(shift for end, shift in shifts if end <= offset)

    return "".join(pieces), original, spans


def answer_cuts(text: str) -> list[int]:
    """Offsets in an answer's Markdown where it may be cut: after a block (paragraph, list,
    table, code, figure), after an item of a list, after a sentence, and before or after a
    display formula; never inside a formula. Ascending, each leaving some text before it."""
    protected, original, spans = _protected(text)
    starts = [0]
    for line in protected.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))

    def line_start(number: int) -> int:
        return starts[min(number, len(starts) - 1)]

    cuts: set[int] = set()
    tokens = _markdown().parse(protected)
    for index, token in enumerate(tokens):
        if token.map is None:
            continue
        if token.level == 0 and token.nesting >= 0:
            cuts.add(line_start(token.map[1]))
        if token.type == "list_item_open" and token.level == 1:
            cuts.add(line_start(token.map[1]))
        if (token.type == "inline" and token.level == 1 and index
                and tokens[index - 1].type == "paragraph_open"):
            start, end = line_start(token.map[0]), line_start(token.map[1])
            for match in _SENTENCE_END.finditer(protected, start, end):
                cuts.add(match.end())
            for begin, finish, display in spans:
                if display and start <= begin < end:
                    cuts.update((begin, finish))
    # Offsets that leave the same text (a sentence's end and its paragraph's) count once.
    found = sorted({len(text[:original(c)].rstrip()) for c in cuts})
    return [c for c in found if 0 < c < len(text.rstrip()) and text[:c].strip()]


def word_cuts(text: str) -> list[int]:
    """Offsets between the words of a one-line field, outside formulas."""
    protected, original, _ = _protected(text)
    start, end = len(protected) - len(protected.lstrip()), len(protected.rstrip())
    return [original(m.start()) for m in re.finditer(r"\s+", protected)
            if start < m.start() < end]


# -- the cards --------------------------------------------------------------------------------

def _cards(guide: Guide, categories: list[SheetCategory]) -> list[_Card]:
    by_number = {c.number: c for c in guide.categories}
    cards: list[_Card] = []
    for view in categories:
        source = by_number[view.number]
        entries = {e.id: e for e in source.entries}
        for item in view.items:
            entry = entries[item.id]
            fronts: list[tuple[str | None, bool]] = [(None, False)]
            fronts += [(entry.question[:c].rstrip() + "\u2026", True)
                       for c in reversed(word_cuts(entry.question))]
            backs: list[tuple[str | None, str | None, bool]] = [(None, None, False)]
            backs += [(None, entry.answer[:c].rstrip(), True)
                      for c in reversed(answer_cuts(entry.answer))]
            backs.append((None, "", True))
            backs += [(entry.gist[:c].rstrip() + "\u2026", "", True)
                      for c in reversed(word_cuts(entry.gist))]
            cards.append(_Card(len(cards), item, view, source, entry, tuple(fronts),
                               tuple(backs)))
    return cards


_BEFORE_DISPLAY = re.compile(r'\s+(?=<img class="math display")')
_FIGURE = re.compile(r'<img class="figure" src="[^"]*" alt="([^"]*)">')


def _for_card(answer: Markup) -> Markup:
    """The answer as a card's back prints it.

    A figure becomes a line naming it ("Figure, in the study guide: <alt text>"): scaled to a
    card (at most ~25 mm high) the labels of this guide's figures came out 1.6-2.5 pt, too small
    to read, and the figure took the room of several lines of the answer. And the space before
    a display formula goes (a block: the space shows nothing): WeasyPrint 70 breaks a line
    after its first word when the text before a block image fits the line but for that
    trailing space ("The / exponential of ..."). Both tags are deckgen's own (user text arrives
    escaped, so it cannot spell them); the Anki cards and the study guide are left as they are.
    """
    text = _FIGURE.sub(r'<span class="figure-note">Figure, in the study guide: \1</span>',
                       str(answer))
    return Markup(_BEFORE_DISPLAY.sub("", text))


class _Faces:
    """Renders a card's sides at a given shortening, formulas and figures as on paper."""

    def __init__(self, guide: Guide) -> None:
        self._figures = {m.name: m.path.resolve().as_uri() for m in guide.media}
        self._formulas: Any = None

    def close(self) -> None:
        if self._formulas is not None:
            self._formulas.save()

    def _field(self, card: _Card, name: str) -> Callable[[str, bool], str]:
        if self._formulas is None:
            from deckgen.mathsvg import FormulaCache

            self._formulas = FormulaCache()  # the formulas are already typeset: from the cache
        return _math(self._formulas, Problem(card.source.path, "", card.entry.id, name,
                                             card.entry.line))

    def _base(self, card: _Card, key: str) -> Face:
        return Face(key=key, side="front" if key[0] == "f" else "back",
                    colour=card.category.colour, number=card.category.number,
                    category=card.category.name, id=card.item.id, advanced=card.item.advanced)

    def front(self, card: _Card, choice: int) -> Face:
        text, cut = card.fronts[choice]
        question = card.item.question if text is None else inline_html(
            text, self._field(card, "question"))
        return replace(self._base(card, f"f{card.index}"), question=question, cut=cut)

    def back(self, card: _Card, choice: int) -> Face:
        gist_text, answer_text, cut = card.backs[choice]
        gist = card.item.gist if gist_text is None else inline_html(
            gist_text, self._field(card, "gist"))
        answer = card.item.answer if answer_text is None else markdown_html(
            answer_text, self._field(card, "answer"), self._figures)
        return replace(self._base(card, f"b{card.index}"), gist=gist, answer=_for_card(answer),
                       cut=cut)


# -- measuring --------------------------------------------------------------------------------

def _boxes(box: Any) -> Iterator[Any]:
    yield box
    for child in getattr(box, "children", None) or ():
        yield from _boxes(child)


def _classes(box: Any) -> list[str]:
    element = getattr(box, "element", None)
    return str(element.get("class") or "").split() if element is not None else []


def _outermost(box: Any, name: str) -> Iterator[Any]:
    """The boxes of class `name` under `box`, not those inside them (anonymous boxes share
    their element's class)."""
    if name in _classes(box):
        yield box
        return
    for child in getattr(box, "children", None) or ():
        yield from _outermost(child, name)


def overflowing(document: Any) -> tuple[set[str], set[str]]:
    """The keys (data-fit) of the cards laid out in `document`, and of those whose content
    passes their card's content box (or that were split over pages)."""
    pages: dict[str, set[int]] = {}
    over: set[str] = set()
    for number, page in enumerate(document.pages):
        for card in _outermost(page._page_box, "card"):
            key = str(card.element.get("data-fit"))
            pages.setdefault(key, set()).add(number)
            top, left = card.content_box_y(), card.content_box_x()
            bottom, right = top + card.height, left + card.width
            for content in _outermost(card, "content"):
                for inner in _boxes(content):
                    y, x = inner.border_box_y(), inner.border_box_x()
                    if inner is not content and (
                            y < top - _SLACK_PX or y + inner.border_height() > bottom + _SLACK_PX
                            or x < left - _SLACK_PX
                            or x + inner.border_width() > right + _SLACK_PX):
                        over.add(key)
                        break
    over.update(k for k, found in pages.items() if len(found) > 1)
    return set(pages), over


def _html(guide: Guide, templates: Path, shape: Geometry, **context: Any) -> str:
    return environment(templates).get_template(_TEMPLATE).render(
        guide=guide, g=shape, page_css=_PAGE_CSS[shape.paper], **context)


def _measure(guide: Guide, templates: Path, shape: Geometry, media: Path,
             faces: list[Face]) -> set[str]:
    """The keys of `faces` that do not fit their card, laid out as printed."""
    from deckgen.pdf import render_html

    # One column of cards on one tall page: nothing a card holds can push another card.
    tall = shape.card_height * (len(faces) + 1) + 5000
    html = _html(guide, templates, shape, mode="measure", faces=faces, tall=tall)
    document, _ = render_html(html, templates, media)
    seen, over = overflowing(document)
    return over | {f.key for f in faces if f.key not in seen}


def _fit_key(templates: Path, shape: Geometry) -> str:
    styles = Templates(templates)
    parts = [styles.read_bytes(name) for name in _STYLES if name in styles.files]
    return digest("flashcards-fit", repr(shape), version("weasyprint"), *parts)


def _card_key(guide: Guide, card: _Card) -> str:
    e, c = card.entry, card.category
    figures = [m.path.read_bytes() for m in guide.media if m.name in e.answer]
    return digest(e.id, e.question, e.answer, e.gist, e.level, c.name, str(c.number), c.colour,
                  card.item.question, card.item.gist, card.item.answer, *figures)


def fit(guide: Guide, categories: list[SheetCategory], templates: Path, paper: str,
        progress: Callable[[str], None] | None = None
        ) -> tuple[list[_Card], dict[int, tuple[int, int]], _Faces]:
    """Each card and how far each of its sides must be shortened to fit (0: not at all)."""
    shape = geometry(paper)
    cards = _cards(guide, categories)
    faces = _Faces(guide)
    # One cached value per paper: for each of the last few card styles (a project's own
    # flashcards.css, the default), each card's decision.
    slot = Slot("flashcards", f"fit-{paper}")
    slot_key = digest("flashcards-fit")
    styles: dict[str, dict[str, tuple[int, int]]] = slot.get(slot_key) or {}
    style = _fit_key(templates, shape)
    known = styles.pop(style, {})
    keys = {card.index: _card_key(guide, card) for card in cards}
    chosen: dict[int, tuple[int, int]] = {}
    todo = []
    for card in cards:
        if keys[card.index] in known:
            chosen[card.index] = known[keys[card.index]]
        else:
            todo.append(card)
    media = guide_media(guide)
    if todo:
        if progress is not None:
            progress(f"laying out {len(todo)} flashcard(s) to see what fits")
        # Each side: (lowest candidate not known to overflow, highest known to fit).
        front = {c.index: [0, len(c.fronts) - 1] for c in todo}
        back = {c.index: [0, len(c.backs) - 1] for c in todo}
        by_index = {c.index: c for c in todo}
        first = True
        while True:
            trying: list[tuple[str, int, int]] = []
            for searches, side in ((front, "f"), (back, "b")):
                for index, (low, high) in searches.items():
                    if low < high:
                        trying.append((side, index, low if first else (low + high) // 2))
            if not trying:
                break
            shown = [faces.front(by_index[i], n) if side == "f" else faces.back(by_index[i], n)
                     for side, i, n in trying]
            over = _measure(guide, templates, shape, media, shown)
            for (side, index, tried), face in zip(trying, shown, strict=True):
                searches = front if side == "f" else back
                if face.key in over:
                    searches[index][0] = tried + 1
                else:
                    searches[index][1] = tried
            first = False
        for card in todo:
            decision = (front[card.index][1], back[card.index][1])
            chosen[card.index] = decision
            known[keys[card.index]] = decision
        if len(known) > 50_000:  # stale cards of older sources: start again from this build's
            known = {keys[c.index]: chosen[c.index] for c in cards}
        styles[style] = known  # the most recent last
        slot.put(slot_key, dict(list(styles.items())[-_STYLES_KEPT:]))
    return cards, chosen, faces


def guide_media(guide: Guide) -> Path:
    """The folder the figures are read from (the locked fetcher serves only it)."""
    if guide.media:
        return guide.media[0].path.parent
    return guide.categories[0].path.parent / MEDIA_DIR if guide.categories else Path(MEDIA_DIR)


def _shortened(cards: list[_Card], chosen: dict[int, tuple[int, int]],
               paper: str) -> list[Problem]:
    on = "A4" if paper == "a4" else "Letter"
    problems = []
    for card in cards:
        front, back = chosen[card.index]
        entry = card.entry
        if back:
            gist, answer, _ = card.backs[back]
            what = ("even the gist is too long for the card: it is cut too" if gist is not None
                    else "the answer is cut after its first part(s)" if answer
                    else "only the gist fits: the answer is left to the study guide")
            problems.append(Problem(card.source.path, f"flashcard back shortened on {on} "
                                    f"({what}); shorten the answer to print it whole", entry.id,
                                    "answer" if gist is None else "gist", entry.line))
        if front:
            problems.append(Problem(card.source.path, f"flashcard front shortened on {on}: the "
                                    "question is too long for the card", entry.id, "question",
                                    entry.line))
    return problems


def shortened_cards(guide: Guide, categories: list[SheetCategory], templates: Path,
                    paper: str, progress: Callable[[str], None] | None = None) -> list[Problem]:
    """The cards whose back (or front) must be shortened to fit: what `deckgen check` warns
    about. Measured as the build measures (and kept in the cache the build reads)."""
    cards, chosen, faces = fit(guide, categories, templates, paper, progress)
    faces.close()
    return _shortened(cards, chosen, paper)


def flashcards_html(guide: Guide, categories: list[SheetCategory], templates: Path, paper: str,
                    selection: Selection | None = None, flip: str = "long",
                    progress: Callable[[str], None] | None = None,
                    ) -> tuple[str, FlashcardsReport]:
    """The flashcards of the entries in `categories` (already selected, see Selection.apply):
    their HTML, every card fitted to its card first, and the report (sheets, shortened backs).

    The HTML is in parts of a few sheets each (<!--deckgen:part-->), each laid out on its own.
    """
    if flip not in FLIPS:
        raise ValueError(f"flip must be one of {FLIPS}")
    shape = geometry(paper)
    cards, chosen, faces = fit(guide, categories, templates, paper, progress)
    fronts = [faces.front(c, chosen[c.index][0]) for c in cards]
    backs = [faces.back(c, chosen[c.index][1]) for c in cards]
    faces.close()
    sheets = []
    for start in range(0, len(cards), shape.per_sheet):
        front_slots, back_slots = [], []
        for at in range(start, min(start + shape.per_sheet, len(cards))):
            row, column = divmod(at - start, shape.columns)
            x, y = shape.cell(row, column)
            front_slots.append({"x": x, "y": y, "turned": False, "face": fronts[at]})
            back_row, back_column, turned = shape.back_of(row, column, flip)
            x, y = shape.cell(back_row, back_column)
            back_slots.append({"x": x, "y": y, "turned": turned, "face": backs[at]})
        sheets.append((front_slots, back_slots))
    if not sheets:  # nothing selected: still a sheet, front and back, so the pages stay paired
        sheets.append(([], []))
    marks = _cut_marks(shape)
    html = _html(guide, templates, shape, mode="print", sheets=sheets, marks=marks,
                 flip=flip, total=len(sheets), per_part=SHEETS_PER_PART)
    report = FlashcardsReport(paper=paper, flip=flip, cards=len(cards), sheets=len(sheets),
                              shortened=_shortened(cards, chosen, paper))
    if selection:
        report.selection = selection.describe()
        report.anki_search = selection.anki_search(guide)
    return html, report


def flashcards_pdf(guide: Guide, categories: list[SheetCategory], templates: Path, paper: str,
                   selection: Selection | None = None, flip: str = "long",
                   progress: Callable[[str], None] | None = None
                   ) -> tuple[str, bytes, FlashcardsReport]:
    """The flashcards as one document: their HTML, their PDF and the report, where a side that
    no shortening fits (one unbreakable word), clipped at the card's edge, is reported too."""
    from deckgen.pdf import document_pdf, render_html

    html, report = flashcards_html(guide, categories, templates, paper, selection, flip,
                                   progress)
    document, report.refused = render_html(html, templates, guide_media(guide))
    _, over = overflowing(document)
    cards = _cards(guide, categories)
    for card in cards:
        for side, name in (("f", "question"), ("b", "gist")):
            if f"{side}{card.index}" in over:
                report.shortened.append(Problem(
                    card.source.path, "does not fit its flashcard even shortened: it is "
                    "clipped at the card's edge", card.entry.id, name, card.entry.line))
    return html, document_pdf(document), report


def _cut_marks(shape: Geometry) -> list[dict[str, float]]:
    """Thin lines along the cuts: ticks in the margins and small crosses where cuts meet."""
    gap, cross = 1.5, 2.0
    marks = []
    xs = [shape.margin + c * shape.card_width for c in range(shape.columns + 1)]
    ys = [shape.margin + r * shape.card_height for r in range(shape.rows + 1)]
    reach = shape.margin - 2 * gap
    for x in xs:
        marks.append({"x": x, "y": gap, "w": 0, "h": reach})
        marks.append({"x": x, "y": shape.height - gap - reach, "w": 0, "h": reach})
    for y in ys:
        marks.append({"x": gap, "y": y, "w": reach, "h": 0})
        marks.append({"x": shape.width - gap - reach, "y": y, "w": reach, "h": 0})
    for x in xs[1:-1]:
        for y in ys[1:-1]:
            marks.append({"x": x, "y": y - cross, "w": 0, "h": 2 * cross})
            marks.append({"x": x - cross, "y": y, "w": 2 * cross, "h": 0})
    for x in xs[1:-1]:  # where an inner cut meets the outer edge
        for y in (ys[0], ys[-1]):
            marks.append({"x": x, "y": y - cross if y == ys[-1] else y, "w": 0, "h": cross})
    for y in ys[1:-1]:
        for x in (xs[0], xs[-1]):
            marks.append({"x": x - cross if x == xs[-1] else x, "y": y, "w": cross, "h": 0})
    return marks
