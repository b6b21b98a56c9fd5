"""Warnings about source that builds but could be better: what `deckgen check` adds."""

from __future__ import annotations

import re
from itertools import combinations

from deckgen.errors import Problem
from deckgen.model import Guide
from deckgen.source import ANSWER_WORD_LIMIT, GIST_WORD_LIMIT, word_count

QUESTION_WORD_LIMIT = 40
NEAR_DUPLICATE = 0.8  # share of words two questions have in common


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def lint(guide: Guide) -> list[Problem]:
    """Warnings for over-long fields, entries without a reference, and near-duplicate questions."""
    warnings: list[Problem] = []
    located = [(c, e) for c in guide.categories for e in c.entries]
    for category, entry in located:
        for field, limit in (("answer", ANSWER_WORD_LIMIT), ("gist", GIST_WORD_LIMIT),
                             ("question", QUESTION_WORD_LIMIT)):
            words = word_count(getattr(entry, field))
            if words > limit:
                warnings.append(Problem(category.path, f"{words} words; keep it to {limit} or "
                                        "fewer", entry.id, field, entry.line))
        if not entry.refs:
            warnings.append(Problem(category.path, "no reference: cite the paper the idea comes "
                                    "from, if there is one", entry.id, "refs", entry.line))
    questions = [(c, e, _words(e.question)) for c, e in located]
    for (c1, e1, w1), (_, e2, w2) in combinations(questions, 2):
        if min(len(w1), len(w2)) >= 4 and len(w1 & w2) / len(w1 | w2) >= NEAR_DUPLICATE:
            warnings.append(Problem(c1.path, f"question is nearly the same as entry {e2.id!r}'s",
                                    e1.id, "question", e1.line))
    return warnings
