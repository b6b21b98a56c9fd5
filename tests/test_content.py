"""The content itself: every category deep enough, every guide point covered, limits held."""

from __future__ import annotations

import itertools
import re

import pytest

from conftest import FIXTURES, ROOT
from deckgen.lint import lint
from deckgen.model import Guide
from deckgen.source import GIST_WORD_LIMIT, MATH_SPAN, load_guide, word_count

GUIDE_TEXT = (FIXTURES / "llm-interview-guide.txt").read_text(encoding="utf-8")
WRITTEN_OUT = ("Understanding of Transformer Architecture", "Neural Network Fundamentals",
               "Language Modeling")


def squash(text: str) -> str:
    return " ".join(text.split())


def guide_lines() -> dict[str, str]:
    """The guide's one-line description of each of its 15 categories, by heading."""
    lines = GUIDE_TEXT.splitlines()
    result = {}
    for heading, line in itertools.pairwise(lines):
        if heading.endswith(":") and line.startswith("- "):
            result[heading.removesuffix(":")] = line.removeprefix("- ")
    return result


def written_out_points() -> dict[str, list[str]]:
    """The "Heading: explanation" points of the three sections the guide writes out."""
    lines = GUIDE_TEXT.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() in WRITTEN_OUT]
    points: dict[str, list[str]] = {}
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        section = points.setdefault(lines[start].strip(), [])
        for line in lines[start + 1:end]:
            match = re.match(r"^([A-Z][A-Za-z .\-]{2,60}): ", line)
            if match:
                section.append(match.group(1))
    return points


@pytest.fixture(scope="module")
def guide() -> Guide:
    guide, _ = load_guide(ROOT / "source")
    return guide


def test_the_guide_parses_into_15_lines_and_42_points() -> None:
    assert len(guide_lines()) == 15
    assert [len(p) for p in written_out_points().values()] == [12, 15, 15]


def test_fifteen_categories_in_the_guides_order_each_with_its_line(guide: Guide) -> None:
    assert [c.number for c in guide.categories] == list(range(1, 16))
    assert [squash(c.guide) for c in guide.categories] == list(guide_lines().values())
    for category in guide.categories:
        overviews = [e for e in category.entries if e.point == "overview"]
        assert len(overviews) == 1, category.name


def test_depth_at_least_12_per_category_and_200_in_all(guide: Guide) -> None:
    for category in guide.categories:
        assert len(category.entries) >= 12, category.name
    assert len(guide.entries) >= 200


def test_every_written_out_point_has_an_entry(guide: Guide) -> None:
    covered = {(c.number, e.point) for c in guide.categories for e in c.entries}
    for number, (section, points) in enumerate(written_out_points().items(), start=1):
        for point in points:
            assert (number, point) in covered, f"{section}: {point}"


def test_ids_unique_and_fields_within_limits(guide: Guide) -> None:
    ids = [e.id for e in guide.entries]
    assert len(ids) == len(set(ids))
    for entry in guide.entries:
        assert word_count(entry.gist) <= GIST_WORD_LIMIT, entry.id
        assert "\n" not in entry.gist, entry.id
        assert 1 <= len(entry.term.split()) <= 6, entry.id
        for ref in entry.refs:
            assert 1900 <= ref.year <= 2026 and ref.title and ref.author, entry.id


def test_math_is_delimited_and_balanced(guide: Guide) -> None:
    for entry in guide.entries:
        for text in (entry.question, entry.answer, entry.gist, entry.term):
            outside = MATH_SPAN.sub("", text)
            assert not re.search(r"\\[()\[\]]", outside), entry.id
            # LaTeX commands belong inside formulas, never in plain text.
            assert not re.search(r"\\(frac|sqrt|sum|mathrm|log|exp|top|theta|alpha)\b",
                                 outside), entry.id


# The formulas an interviewer expects written out, by the entry that owns each.
REQUIRED_FORMULAS = {
    "scaled-dot-product-attention": r"\\sqrt\{d_k\}",
    "softmax-function-properties": r"\\exp|e\^",
    "lm-cross-entropy-objective": r"\\log",
    "perplexity-definition": r"\\exp",
    "adam-optimizer-bias-correction": r"\\hat\{m\}_t",
    "layer-normalization-formula": r"\\sigma|\\sqrt",
    "kaplan-power-laws": r"\^\{?\\alpha",
    "chinchilla-parametric-loss": r"\\frac\{A\}\{N\^",
    "bleu-score-formula": r"\\mathrm\{BP\}|\\text\{BP\}",
    "rouge-n-recall": r"\\frac",
    "pass-at-k-unbiased-estimator": r"\\binom",
    "precision-recall-f1": r"\\frac",
}


@pytest.mark.parametrize("entry_id", sorted(REQUIRED_FORMULAS))
def test_required_formula_is_written_out(guide: Guide, entry_id: str) -> None:
    (entry,) = [e for e in guide.entries if e.id == entry_id]
    formulas = "".join(m.group(0) for m in MATH_SPAN.finditer(entry.answer)).replace(" ", "")
    assert re.search(REQUIRED_FORMULAS[entry_id], formulas), formulas


def test_intro_and_closing_come_from_the_guide(guide: Guide) -> None:
    assert squash(guide.intro).rstrip(".:") in squash(GUIDE_TEXT)
    assert squash(guide.closing) in squash(GUIDE_TEXT)


def test_no_two_entries_ask_nearly_the_same_question(guide: Guide) -> None:
    near = [str(w) for w in lint(guide) if "nearly the same" in w.message]
    assert near == []


def test_every_advanced_entry_cites_its_source_and_every_category_has_them(guide: Guide) -> None:
    for category in guide.categories:
        advanced = [e for e in category.entries if e.advanced]
        assert len(advanced) >= 6, category.name
        for entry in advanced:
            assert entry.refs, entry.id


def test_a_removed_entry_lives_on_in_the_entry_that_absorbed_it(guide: Guide) -> None:
    # Entries merged away in the second edition: their notes (and reviews) must not be orphaned.
    merged = {"lm-loss-cross-entropy-vs-mse", "minibatch-sgd-noise",
              "data-deduplication-regularization", "test-time-compute-scaling-law",
              "emergent-abilities-mirage-debate", "eval-contamination-score-checks",
              "label-smoothing-lm-loss", "weight-decay-l2-vs-decoupled",
              "layernorm-not-a-regularizer", "position-embeddings-brief",
              "subword-tokenization-rationale", "embeddings-static-vs-contextual"}
    claimed = {old for e in guide.entries for old in e.was}
    assert merged <= claimed
    assert not merged & {e.id for e in guide.entries}
