"""`deckgen init`: a new guide's folder, small enough to read in a minute and valid as it stands."""

from __future__ import annotations

from pathlib import Path

from deckgen.errors import DeckgenError
from deckgen.resources import copy_defaults

DECK_YAML = """\
title: My Study Guide                # the deck's name in Anki and the .apkg's file name
description: Questions and answers I want to remember.
author: me                           # optional: the PDFs' metadata
intro: What this guide covers and how to use it.       # optional: opens the printed documents
closing: What to do once you know all of it.           # optional: closes them
"""

CATEGORY_YAML = r"""# One category per file, NN-slug.yaml: NN gives the order, slug its tag.
name: First Steps
guide: What this category is about, in a sentence or two.
entries:
  - id: what-is-a-deck          # stable identity: keep it when you edit the text
    term: Deck                  # short label, in bold on the cheat sheet
    question: What does deckgen make from this folder?
    answer: |
      An **Anki deck** to import, a printable cheat sheet and a study guide,
      all from the YAML files in `source/`. Answers are Markdown.
    gist: One source, three outputs.   # one line, printed on the cheat sheet
  - id: softmax
    term: Softmax
    question: What does softmax compute?
    # Formulas are LaTeX: between \( and \) inline, between \[ and \] on a line of their own.
    answer: |
      It turns a vector of scores into probabilities that sum to one:
      \[ \mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}} \]
    gist: Exponentiate and normalise, \(p_i \propto e^{z_i}\).
    tags: [formula]
    refs:
      - title: Attention Is All You Need
        author: Vaswani
        year: 2017
"""

GITIGNORE = """\
# deckgen's outputs: rebuilt from source/ at any time
/build/
"""

README = """\
# My study guide

Made with `deckgen init`. The guide lives in `source/`: `deck.yaml` holds the deck's title and
description, and each `NN-slug.yaml` file is one category of questions and answers.

Next steps:

1. Edit `source/deck.yaml` (the title names the deck) and `source/01-first-steps.yaml`; add a
   category by adding a file such as `source/02-more.yaml`.
2. `deckgen build` checks everything and writes `build/` (the `.apkg` deck, `cheatsheet.pdf`,
   `study-guide.pdf` and `flashcards.pdf`, cards to print on both sides and cut out);
   `deckgen watch` rebuilds on every save; `deckgen check` only validates.
3. In Anki: File > Import, pick the `.apkg` in `build/`. After an edit, build and import again:
   notes are matched by their `id`, so your reviews are kept and only changed notes are updated.
4. Commit `source/`, including `source/deckgen.lock` (it keeps re-imports from touching notes you
   did not edit); `build/` is ignored.

To change how cards or PDFs look, `deckgen init --templates` copies the default templates into
`templates/`; keep only the files you change there, the others stay as deckgen ships them.
"""


_REFUSED = "already there; deckgen init never overwrites a file (move it away, or start elsewhere)"


class InitError(DeckgenError):
    """`deckgen init` would overwrite a file that is already there, or cannot write."""


def init_project(folder: Path) -> list[Path]:
    """Start a new guide in `folder` (created if needed); returns the files written.

    Writes source/deck.yaml, one example category, a .gitignore for build/ and a README of next
    steps. Raises InitError, having written nothing, if any of them exists already.
    """
    files = {
        folder / "source" / "deck.yaml": DECK_YAML,
        folder / "source" / "01-first-steps.yaml": CATEGORY_YAML,
        folder / ".gitignore": GITIGNORE,
        folder / "README.md": README,
    }
    existing = [str(p) for p in files if p.exists()]
    if existing:
        raise InitError(f"{', '.join(existing)}: {_REFUSED}")
    try:
        for path, text in files.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("x", encoding="utf-8", newline="\n") as stream:
                stream.write(text)
    except FileExistsError as exc:  # appeared since we looked
        raise InitError(f"{exc.filename}: {_REFUSED}") from None
    except OSError as exc:
        raise InitError(f"cannot write here: {exc}") from None
    return list(files)


def init_templates(folder: Path) -> list[Path]:
    """Copy deckgen's default templates into `folder`/templates for editing; returns the files.

    Raises InitError, having written nothing, if any of them exists already.
    """
    try:
        return copy_defaults(folder / "templates")
    except FileExistsError as exc:
        raise InitError(f"{exc.filename}: {_REFUSED}") from None
    except OSError as exc:
        raise InitError(f"cannot write here: {exc}") from None
