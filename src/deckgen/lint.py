"""Warnings about source that builds but could be better: what `deckgen check` adds."""

from __future__ import annotations

import re
from itertools import combinations

from deckgen.errors import Problem
from deckgen.model import Guide
from deckgen.source import ANSWER_WORD_LIMIT, GIST_WORD_LIMIT, word_count
from deckgen.stamps import NOTE_PREFIX, Stamps

QUESTION_WORD_LIMIT = 40
NEAR_DUPLICATE = 0.8  # share of words two questions have in common


def _words(text: str) -> frozenset[str]:
    return frozenset(re.findall(r"[a-z0-9]+", text.lower()))


def renames_without_was(guide: Guide, stamps: Stamps) -> list[Problem]:
    """Warnings for new entries whose question is that of an id gone from the lock file.

    Such an entry was most likely renamed without `was:`, and would become a new note with no
    reviews while the old note stays behind.
    """
    from deckgen.anki import question_digest
    from deckgen.render import inline_html

    current = {e.id for e in guide.entries} | {old for e in guide.entries for old in e.was}
    gone: dict[str, str] = {}
    for key, stamp in sorted(stamps.old.items()):
        entry_id = key.removeprefix(NOTE_PREFIX)
        if key.startswith(NOTE_PREFIX) and entry_id not in current and stamp.question:
            gone.setdefault(stamp.question, entry_id)
    warnings = []
    for category in guide.categories:
        for entry in category.entries:
            if entry.was or stamps.record(f"{NOTE_PREFIX}{entry.id}") is not None:
                continue
            old = gone.get(question_digest(str(inline_html(entry.question))))
            if old is not None:
                warnings.append(Problem(
                    category.path, f"has the question of {old!r}, which is gone from the lock "
                    f"file: if it was renamed, add `was: {old}` to keep its note and reviews",
                    entry.id, "id", entry.line))
    return warnings


def lint(guide: Guide, stamps: Stamps | None = None) -> list[Problem]:
    """Warnings for over-long fields, entries without a reference, near-duplicate questions and
    (given the lock file's stamps) entries that look renamed without `was`."""
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
    if stamps is not None:
        warnings.extend(renames_without_was(guide, stamps))
    return warnings
