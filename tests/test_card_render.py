"""Every card of the built deck in headless Chromium, as Anki desktop and AnkiDroid show it.

Each card is imported with Anki's backend, rendered by Anki's template engine, typeset by the
MathJax Anki ships, and shown at 360 x 740 (a phone) and 1000 x 800, light and night. A card
fails on a MathJax error or TeX left as text, on anything wider than the card's column (a display
formula that would need its own scroll bar included) or a page that scrolls sideways, and on text
under 4.5:1 contrast. One screenshot per variant of the most formula-heavy card is kept in
build/card-screenshots/, with the figures of each variant in summary-<variant>.json.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from anki_helpers import card_for, import_apkg, open_collection
from card_browser import VARIANTS, Card, Reviewer, Variant, chromium, summary
from conftest import FIXTURES, ROOT, Project, copy_project

SCREENSHOTS = ROOT / "build" / "card-screenshots"
PHONE, PHONE_NIGHT = VARIANTS[4], VARIANTS[5]  # AnkiDroid at 360 x 740
assert PHONE.name == "ankidroid-360x740-light" and PHONE_NIGHT.name == "ankidroid-360x740-night"


@pytest.fixture(scope="module")
def deck_cards(built: Project, tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Card], Path]:
    """Every card of the built deck as Anki renders it, and the media folder it was imported to."""
    col = open_collection(tmp_path_factory.mktemp("render") / "anki")
    import_apkg(col, built.apkg())
    cards = sorted((Card.of(col.get_card(cid)) for cid in col.find_cards("")), key=lambda c: c.id)
    media = Path(col.media.dir())
    col.close()
    return cards, media


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def deck_reviewer(browser: Browser, deck_cards: tuple[list[Card], Path]) -> Reviewer:
    return Reviewer(browser, deck_cards[1])


def problems_of(results: list[dict[str, Any]]) -> list[str]:
    return [f"{r['id']}: {problem}" for r in results for problem in r["problems"]]


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_every_card_reads_well(
    variant: Variant, deck_cards: tuple[list[Card], Path], deck_reviewer: Reviewer
) -> None:
    cards, _ = deck_cards
    results = deck_reviewer.check(variant, cards)
    assert [r["id"] for r in results] == [c.id for c in cards]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    figures = summary(results, variant.height)
    (SCREENSHOTS / f"summary-{variant.name}.json").write_text(figures + "\n", encoding="utf-8")
    heaviest = max(results, key=lambda r: (sum(f["display"] for f in r["formulas"]), r["id"]))
    card = next(c for c in cards if c.id == heaviest["id"])
    deck_reviewer.screenshot(variant, card, SCREENSHOTS / f"{variant.name}.png")

    assert sum(len(r["formulas"]) for r in results) > 100  # MathJax did typeset the deck
    assert not problems_of(results), "\n".join(problems_of(results)[:40])
    assert not deck_reviewer.stray_requests
    # The font the card asks for came from the deck's media, upright and italic.
    assert {("Source Sans 3", "normal", "loaded"), ("Source Sans 3", "italic", "loaded")} <= \
        deck_reviewer.fonts
    # Anki's own margin above the card (20 px on desktop, AnkiDroid's 0.5em), one 1 px divider.
    lowest_top = 16 if variant.client == "desktop" else 8
    assert min(r["contentTop"] for r in results) >= lowest_top
    assert {r["dividerHeight"] for r in results} == {1}
    if variant.phone:  # the question and the key point are on the first screen
        below = [r["id"] for r in results if (r["gistBottom"] or 0) > variant.height]
        assert not below, f"key point below the first screen: {below}"


# The same checks must fail on a card that is wrong. Each case edits one note (or the note
# type's CSS) of the small fixture deck inside the collection, as a user could in Anki.

WIDE = r"\[ " + " + ".join(f"x_{{{i}}}^{{2}}" for i in range(1, 30)) + r" \]"


class Edited:
    """The small fixture deck imported into a collection, and a browser to show its cards."""

    def __init__(self, col: Any, browser: Reviewer) -> None:
        self.col = col
        self.browser = browser

    def check(self, variant: Variant, answer: str = "", css: str = "") -> list[str]:
        """The problems found on the 'softmax' card with its answer or its CSS changed."""
        (result,) = self.browser.check(variant, [edited_card(self.col, answer, css)])
        assert not self.browser.stray_requests
        problems: list[str] = result["problems"]
        return problems


@pytest.fixture(scope="module")
def mini_deck(browser: Browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edited]:
    project = copy_project(tmp_path_factory.mktemp("mini"), FIXTURES / "mini")
    assert project.build().exit_code == 0
    col = open_collection(project.root / "anki")
    import_apkg(col, project.apkg())
    yield Edited(col, Reviewer(browser, Path(col.media.dir())))
    col.close()


def edited_card(col: Any, answer: str, css: str) -> Card:
    """The fixture's 'softmax' card as Anki renders it with its answer or CSS changed (both are
    restored afterwards)."""
    card = card_for(col, "softmax")
    note = card.note()
    note_type = note.note_type()
    assert note_type is not None
    original_answer, original_css = note["Answer"], note_type["css"]
    try:
        if answer:
            note["Answer"] = answer
            col.update_note(note)
        if css:
            note_type["css"] += css
            col.models.update_dict(note_type)
        rendered = Card.of(col.get_card(card.id))
    finally:
        note["Answer"] = original_answer
        col.update_note(note)
        note_type["css"] = original_css
        col.models.update_dict(note_type)
    return rendered


def test_the_fixture_card_passes(mini_deck: Edited) -> None:
    assert mini_deck.check(PHONE, answer="<p>Plain \\(x^2\\) text.</p>") == []


def test_a_too_wide_formula_fails_but_scrolls_inside_the_card(mini_deck: Edited) -> None:
    problems = mini_deck.check(PHONE, answer=f"<p>Wide:</p>{WIDE}")
    assert len(problems) == 1, problems
    assert problems[0].startswith("display formula ") and " px column: " in problems[0]
    # The card's CSS keeps it in its own scroll box: the page itself does not scroll sideways.
    assert not any("page scrolls sideways" in p for p in problems)


def test_a_wide_formula_without_the_cards_css_overflows_the_page(mini_deck: Edited) -> None:
    unsafe = '.card mjx-container[display="true"] { overflow: visible; }'
    problems = mini_deck.check(PHONE, answer=f"<p>Wide:</p>{WIDE}", css=unsafe)
    assert any("page scrolls sideways" in p for p in problems), problems


@pytest.mark.parametrize("tex, expected", [
    (r"\(\frac{a}\)", "MathJax error"),
    (r"\(\notacommand{x}\)", r"unknown command \notacommand"),
])
def test_a_tex_error_fails(mini_deck: Edited, tex: str, expected: str) -> None:
    problems = mini_deck.check(PHONE, answer=f"<p>Broken: {tex}</p>")
    assert any(expected in p for p in problems), problems


def test_tex_left_as_text_fails(mini_deck: Edited) -> None:
    problems = mini_deck.check(PHONE, answer=r"<p>Unclosed \( x^2 here.</p>")
    assert any(p.startswith("TeX left as text") for p in problems), problems


def test_dark_on_dark_text_fails(mini_deck: Edited) -> None:
    css = ".nightMode .answer, .night_mode .answer { color: #2b2f35; }"
    assert mini_deck.check(PHONE, css=css) == []  # light mode is untouched
    problems = mini_deck.check(PHONE_NIGHT, css=css)
    assert any(p.startswith("contrast ") and "rgb(43,47,53)" in p for p in problems), problems
