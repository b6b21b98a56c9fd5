"""Warnings about source that builds but could be better: what `deckgen check` adds."""

from __future__ import annotations

import re
from itertools import combinations

from deckgen.errors import Problem
from deckgen.model import Guide
from deckgen.source import ANSWER_WORD_LIMIT, GIST_WORD_LIMIT, MATH_SPAN, word_count
from deckgen.stamps import NOTE_PREFIX, Stamps

QUESTION_WORD_LIMIT = 40
NEAR_DUPLICATE = 0.8  # share of words two questions have in common


# A display formula's width, estimated from its LaTeX in em of the surrounding text: glyphs and
# spaces by kind, fractions by their wider part, scripts smaller, limits under big operators, and
# aligned/gathered lines by their widest column. Checked against MathJax in headless Chromium on
# this guide's 203 display formulas (before and after they were split): measured / estimated
# from 0.87 to 1.30, median 1.07.
PHONE_FORMULA_EM = 18.0  # AnkiDroid's column at 360 px holds ~19 em of display math at 17 px

_TOKEN = re.compile(r"\\[A-Za-z]+\*?|\\.|\s+|.", re.S)
_SPACES = {"quad": 1.0, "qquad": 2.0, ",": 0.17, ":": 0.22, ";": 0.28, " ": 0.33, "!": -0.17}
_NO_WIDTH = frozenset({
    "left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr", "biggl",
    "biggr", "Biggl", "Biggr", "displaystyle", "textstyle", "limits", "nolimits"})
_TEXT = frozenset({"text", "textbf", "textit", "operatorname", "operatorname*"})
_ONE_ARGUMENT = _TEXT | {
    "mathrm", "mathbf", "mathcal", "mathbb", "mathit", "mathsf", "boldsymbol", "hat", "tilde",
    "bar", "vec", "overline", "underline", "widehat", "widetilde", "dot", "ddot"}
_LIMITS = frozenset({"sum", "prod", "max", "min", "lim", "sup", "inf", "bigcup", "operatorname*"})
_RELATIONS = frozenset({
    "le", "ge", "leq", "geq", "approx", "sim", "in", "cdot", "times", "odot", "propto", "to",
    "mid", "subseteq", "subset", "cup", "cap", "setminus", "ll", "gg", "parallel", "neq", "equiv",
    "pm", "otimes", "oplus", "rightarrow", "leftarrow", "mapsto"})
_SYMBOLS = frozenset({
    "alpha", "beta", "gamma", "delta", "epsilon", "theta", "lambda", "sigma", "omega", "phi",
    "psi", "rho", "eta", "zeta", "kappa", "mu", "nu", "xi", "pi", "tau", "chi", "varepsilon",
    "varphi", "ell", "nabla", "partial", "infty", "dots", "ldots", "cdots", "top", "prime",
    "lVert", "rVert", "Vert", "lvert", "rvert", "langle", "rangle", "star"})


class _Formula:
    """Reads one line (or column) of LaTeX and adds up the widths of what MathJax would draw."""

    def __init__(self, latex: str) -> None:
        self._tokens: list[str] = [t for t in _TOKEN.findall(latex) if not t.isspace() or " " in t]
        self._at = 0

    def width(self, text: bool = False) -> float:
        """The width of tokens up to the end of the current group."""
        total = script = base = 0.0
        under = False  # the last atom takes limits under it (\sum, \max): scripts go below
        while self._at < len(self._tokens):
            token = self._take()
            if token == "}":
                break
            if token.isspace():
                total += 0.25 if text else 0.0
            elif token in ("_", "^") and not text:
                size = 0.7 * self._atom_or_group()
                room = base + script if under else script
                total += max(0.0, size - room)
                script = max(script, size - base if under else size)
            else:
                base = self._group(text) if token == "{" else self._atom(token, text)
                under, script = token[1:] in _LIMITS, 0.0
                total += base
        return total

    def _take(self) -> str:
        self._at += 1
        return self._tokens[self._at - 1]

    def _peek(self) -> str:
        while self._at < len(self._tokens) and self._tokens[self._at].isspace():
            self._at += 1
        return self._tokens[self._at] if self._at < len(self._tokens) else ""

    def _group(self, text: bool = False) -> float:
        return self.width(text)

    def _atom_or_group(self, text: bool = False) -> float:
        token = self._peek()
        if not token or token == "}":
            return 0.0
        self._take()
        return self._group(text) if token == "{" else self._atom(token, text)

    def _skip_group(self) -> None:
        if self._peek() == "{":
            self._take()
            self.width(text=True)

    def _atom(self, token: str, text: bool) -> float:
        if not token.startswith("\\") or len(token) == 1:
            return _glyph(token, text)
        name = token[1:]
        if name in _SPACES:
            return _SPACES[name]
        if name in _NO_WIDTH:
            return 0.0
        if name in ("begin", "end"):
            self._skip_group()
            return 0.0
        if name in ("frac", "dfrac", "tfrac", "binom"):
            return max(self._atom_or_group(), self._atom_or_group()) + 0.3
        if name == "sqrt":
            return self._atom_or_group() + 0.9
        if name in _ONE_ARGUMENT:
            return self._atom_or_group(text=name in _TEXT)
        if name in _RELATIONS:
            return 1.3
        if name in ("iff", "implies", "Longrightarrow"):
            return 2.2
        if name in ("sum", "prod", "int", "bigcup"):
            return 1.2
        if len(name) >= 3 and name.islower() and name not in _SYMBOLS:
            return 0.5 * len(name) + 0.2  # an upright name: \log, \exp, \max
        return 0.6


def _glyph(token: str, text: bool) -> float:
    if text:
        return 0.55
    if token in "=<>+-":
        return 1.3
    if token in ",;":
        return 0.45
    if token in "()[]|.'!/":
        return 0.4
    if token.isdigit():
        return 0.5
    return 0.75 if token.isupper() else 0.55


def formula_width_em(latex: str) -> float:
    """About how wide MathJax sets `latex` as display math, in em of the text around it."""
    rows = [line.split("&") for line in re.split(r"\\\\", latex)]
    columns = max(len(row) for row in rows)
    return sum(max(_Formula(row[i]).width() for row in rows if i < len(row))
               for i in range(columns))


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
    """Warnings for over-long fields, entries without a reference, near-duplicate questions,
    display formulas likely too wide for a phone and (given the lock file's stamps) entries that
    look renamed without `was`."""
    warnings: list[Problem] = []
    located = [(c, e) for c in guide.categories for e in c.entries]
    for category, entry in located:
        for field, limit in (("answer", ANSWER_WORD_LIMIT), ("gist", GIST_WORD_LIMIT),
                             ("question", QUESTION_WORD_LIMIT)):
            words = word_count(getattr(entry, field))
            if words > limit:
                warnings.append(Problem(category.path, f"{words} words; keep it to {limit} or "
                                        "fewer", entry.id, field, entry.line))
        for field in ("question", "answer", "gist"):
            for match in MATH_SPAN.finditer(getattr(entry, field)):
                latex = match.group(2)
                if latex is not None and formula_width_em(latex) > PHONE_FORMULA_EM:
                    shown = " ".join(latex.split())
                    shown = shown if len(shown) <= 50 else shown[:47] + "..."
                    warnings.append(Problem(
                        category.path, f"display formula \\[ {shown} \\] is likely too wide "
                        "for a phone: put one equation per line (aligned, gathered)",
                        entry.id, field, entry.line))
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
