"""The command line: options in, one library call, errors out as messages and exit codes."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from deckgen import __version__
from deckgen.errors import DeckgenError, OutputsWritten, Problem

if TYPE_CHECKING:
    from deckgen.build import BuildOptions, BuildResult
    from deckgen.stamps import DeckChanges

_DIR = click.Path(file_okay=False, path_type=Path)
T = TypeVar("T")


def _quiet_about_interrupts(unraisable: Any) -> None:
    """A Ctrl-C landing in a finalizer (WeasyPrint has some) is the user's, not a crash to print.

    The build itself still stops: deckgen.pdf remembers an interrupt during rendering.
    """
    if not isinstance(unraisable.exc_value, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


def _run(action: Callable[[], T]) -> T:
    """Run a library call; its errors become messages on stderr and an exit code, never a trace."""
    try:
        return action()
    except DeckgenError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(1) from None
    except OutputsWritten as exc:
        click.echo(f"interrupted after the new outputs were all written to {exc}", err=True)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        click.echo("interrupted: the previous outputs are untouched", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("DECKGEN_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (this is a bug in deckgen; "
                   "set DECKGEN_DEBUG=1 to see where)", err=True)
        raise SystemExit(2) from None


# Options shared by several commands (each use makes its own click.Option).
_source_option = click.option(
    "--source", "source", type=_DIR, default=Path("source"), show_default=True,
    help="Folder holding deck.yaml and the NN-slug.yaml category files.")


def _existing_unless_default(ctx: click.Context, param: click.Parameter, value: Path) -> Path:
    """The default templates/ may be absent (deckgen's own are used); a folder named must exist."""
    source = ctx.get_parameter_source(param.name or "")
    if source is not click.core.ParameterSource.DEFAULT and not value.is_dir():
        raise click.BadParameter(f"{value}: no such folder", ctx, param)
    return value


_templates_option = click.option(
    "--templates", "templates", type=_DIR, default=Path("templates"), show_default=True,
    callback=_existing_unless_default,
    help="Folder of your own templates: each file there replaces deckgen's default of the "
         "same name (anki/card.css, pdf/cheatsheet.css, ...); without it, the defaults.")
_out_option = click.option(
    "--out", "out", type=_DIR, default=Path("build"), show_default=True,
    help="Folder the .apkg, the PDFs and their HTML are written to.")
_paper_option = click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
    help="Paper size of the cheat sheet (landscape) and study guide (portrait).")
_quiet_option = click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
_tag_option = click.option(
    "--tag", "tags", multiple=True, metavar="TAG",
    help="Print only entries with this tag (or this category's slug); repeat for any of "
         "several. Chooses the entries of the PDFs, never of the Anki deck.")
_category_option = click.option(
    "--category", "categories", multiple=True, metavar="N|SLUG",
    help="Print only this category's entries: its number (7 or 07) or its file's slug; "
         "repeat for any of several. The PDFs only, never the Anki deck.")
_level_option = click.option(
    "--level", type=click.Choice(["core", "advanced"]), default=None,
    help="Print only core or only advanced entries (flashcards and study guide; the cheat "
         "sheet prints the core). The PDFs only, never the Anki deck.")
_flip_option = click.option(
    "--flip", type=click.Choice(["long", "short"]), default="long", show_default=True,
    help="The edge your printer flips a duplex sheet on: flashcards.pdf places the backs "
         "for it.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Build an Anki deck and a printable cheat sheet from the guide kept in source/.

    Run from the project folder: `deckgen build` reads source/ (and templates/, where you keep
    your own) and writes build/; `deckgen check` only validates and lints; `deckgen sync` brings
    an Anki collection up to date; `deckgen init` starts a new guide.
    """
    sys.unraisablehook = _quiet_about_interrupts


class _Status:
    """Progress on a terminal: one line, rewritten in place, gone when the work is done.

    Only a carriage return and spaces, which every terminal (Windows' console too) understands.
    """

    def __init__(self, quiet: bool) -> None:
        self.live = not quiet and sys.stdout.isatty()
        self.shown = 0  # length of the line on screen

    def __call__(self, message: str) -> None:
        if self.live:
            line = f"{message}..."
            click.echo(f"\r{line.ljust(self.shown)}", nl=False)
            self.shown = len(line)

    def clear(self) -> None:
        if self.shown:
            click.echo(f"\r{' ' * self.shown}\r", nl=False)
            self.shown = 0


def _options(source: Path, out: Path, templates: Path, paper: str, tags: tuple[str, ...],
             categories: tuple[str, ...], level: str | None, flip: str) -> BuildOptions:
    """The build's options from the command line's."""
    from deckgen.build import BuildOptions
    from deckgen.flashcards import Selection

    selection = Selection(tuple(tags), tuple(categories), level)
    return BuildOptions(source=source, out=out, templates=templates, paper=paper,
                        selection=selection or None, flip=flip)


def _report(result: BuildResult, out: Path) -> None:
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for notice in result.notices:
        click.echo(notice)
    if result.up_to_date:
        click.echo(f"everything in {out} is up to date")
        return
    for path in result.written:
        click.echo(f"wrote {path}")
    if "deck" in result.rebuilt:
        click.echo(f"{result.notes} notes, {len(result.changed_notes)} new or changed")
    if result.flashcards is not None:
        for line in result.flashcards.lines():
            click.echo(line)
    if result.changes:
        for line in _changes_report(result.changes, out):
            click.echo(line)


def _changes_report(changes: DeckChanges, out: Path) -> list[str]:
    """What File > Import cannot apply, each with the Anki Browser search that selects it."""
    from deckgen.anki import MODEL_ID

    def search(ids: list[str]) -> str:
        fields = " OR ".join(f'"Id:{i}"' for i in ids)
        return f"mid:{MODEL_ID} ({fields})"

    lines = []
    if changes.moved or changes.removed or changes.title:
        lines.append("File > Import cannot apply what follows: run `deckgen sync`, or in Anki's "
                     "Browser search for the cards named and act on them:")
    groups: dict[tuple[str, str], list[str]] = {}
    for entry, old, new in changes.moved:
        groups.setdefault((old, new), []).append(entry)
    for (old, new), entries in sorted(groups.items()):
        where = f"{changes.root}::{new}"
        lines.append(f"  moved from {old!r} to {new!r}: {', '.join(entries)}")
        lines.append(f"    search {search(entries)}, then Change Deck to {where!r}")
    if changes.removed:
        lines.append(f"  removed: {', '.join(changes.removed)}")
        lines.append(f"    search {search(changes.removed)}, then delete the notes")
    if changes.title:
        old_title, new_title = changes.title
        lines.append(f"  deck title {old_title!r} is now {new_title!r}: in Anki rename the deck "
                     f"{old_title!r} to {new_title!r} before importing the new deck from {out}")
    for old, new in changes.renamed:
        lines.append(f"renamed {old!r} to {new!r}: the same note, reviews kept")
    for old, new in changes.looks_renamed:
        lines.append(f"warning: {old!r} is gone and {new!r} has its question: if it was renamed, "
                     f"add `was: {old}` to {new!r} to keep its note and reviews")
    return lines


def _build_options(function: Callable[..., None]) -> Callable[..., None]:
    """The options `build` and `watch` share."""
    for option in reversed((_source_option, _out_option, _templates_option, _paper_option,
                            _tag_option, _category_option, _level_option, _flip_option,
                            _quiet_option)):
        function = option(function)
    return function


@main.command()
@_build_options
def build(source: Path, out: Path, templates: Path, paper: str, tags: tuple[str, ...],
          categories: tuple[str, ...], level: str | None, flip: str, quiet: bool) -> None:
    """Validate source/, then write the Anki deck, the cheat sheet, the study guide and the
    flashcards.

    Only outputs whose inputs changed (source, templates, deckgen's version, options) are
    rebuilt. Re-importing the new .apkg into Anki keeps every review: notes are matched by their
    entry id, and only entries whose content changed are updated. --tag, --category and
    --level choose what the PDFs print; the deck always holds every entry.
    """
    status = _Status(quiet)

    def run() -> BuildResult:
        # Imported here so that a Ctrl-C during the imports is reported like any other.
        from deckgen.build import build as run_build

        options = _options(source, out, templates, paper, tags, categories, level, flip)
        return run_build(options, progress=status)

    try:
        result = _run(run)
    finally:
        status.clear()
    if not quiet:
        _report(result, out)


@main.command()
@_build_options
@click.option("--interval", type=click.FloatRange(min=0.05), default=0.5, show_default=True,
              help="Seconds the folders must stay unchanged before a rebuild starts.")
def watch(source: Path, out: Path, templates: Path, paper: str, tags: tuple[str, ...],
          categories: tuple[str, ...], level: str | None, flip: str, quiet: bool,
          interval: float) -> None:
    """Rebuild whenever source/ or templates/ change, until Ctrl-C.

    Runs in one process, so each rebuild starts warm; the operating system reports changes, and
    they are collected until the folders have been quiet for --interval. A failed build prints
    its errors and the watch goes on.
    """
    from deckgen.watch import watch as run_watch

    options = _options(source, out, templates, paper, tags, categories, level, flip)
    status = _Status(quiet)

    def on_build(result: BuildResult | None, error: DeckgenError | None) -> None:
        status.clear()
        if error is not None:
            for line in error.lines():
                click.echo(line, err=True)
        elif result is not None and not quiet:
            _report(result, out)
        if not quiet:
            folders = f"{source} and {templates}" if templates.is_dir() else f"{source}"
            click.echo(f"watching {folders} (Ctrl-C to stop)")

    try:
        run_watch(options, on_build, interval=interval, progress=status)
    except KeyboardInterrupt:
        status.clear()
        if not quiet:
            click.echo("stopped watching")


@main.command()
@_build_options
@click.option("--collection", type=click.Path(dir_okay=False, path_type=Path),
              help="The collection.anki2 file to bring up to date.")
@click.option("--profile", help="An Anki profile's name: its collection in Anki's data folder "
              "(ANKI_BASE, or ~/.local/share/Anki2, ~/Library/Application Support/Anki2, "
              "%APPDATA%\\Anki2).")
@click.option("--dry-run", is_flag=True, help="Print what would change, change nothing.")
@click.option("--prune", is_flag=True,
              help="Delete notes whose entry is gone, instead of tagging them deckgen::removed.")
def sync(source: Path, out: Path, templates: Path, paper: str, tags: tuple[str, ...],
         categories: tuple[str, ...], level: str | None, flip: str, quiet: bool,
         collection: Path | None, profile: str | None, dry_run: bool, prune: bool) -> None:
    """Bring an Anki collection to the source: import, move, rename, tag what is gone.

    Builds first when the deck is stale. Refuses while Anki has the collection open, and backs
    it up with Anki's own backup before changing it. Only deckgen's notes and decks are touched.
    """
    from deckgen.build import build as run_build
    from deckgen.build import built_deck
    from deckgen.sync import profile_collection
    from deckgen.sync import sync as run_sync

    if (collection is None) == (profile is None):
        click.echo("error: give one of --collection PATH or --profile NAME", err=True)
        raise SystemExit(1)
    options = _options(source, out, templates, paper, tags, categories, level, flip)
    status = _Status(quiet)
    try:
        built = _run(lambda: run_build(options, progress=status))
    finally:
        status.clear()
    if not quiet and not built.up_to_date:
        _report(built, out)
    target = collection if collection is not None else _run(
        lambda: profile_collection(str(profile)))
    package = _run(lambda: built_deck(out))
    result = _run(lambda: run_sync(package, target, dry_run=dry_run, prune=prune))
    if not quiet:
        if result.backup is not None:
            click.echo(f"backed up {target} to {result.backup}")
        for line in result.plan:
            click.echo(f"{'would have ' if dry_run else ''}{line}")
    click.echo(result.summary())


@main.command()
@_source_option
@_templates_option
@click.option(
    "--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
    help="Paper size the flashcards are checked on (a back too long for its card is a "
         "warning).")
@click.option("--strict", is_flag=True,
              help="Treat warnings as errors (exit status 1 if there are any).")
@_quiet_option
def check(source: Path, templates: Path, paper: str, strict: bool, quiet: bool) -> None:
    """Validate and lint source/ without writing anything.

    Errors are what `deckgen build` would refuse (exit status 1). Warnings point at over-long
    fields, entries without a reference, near-duplicate questions and flashcards whose back
    must be shortened to fit (exit status 0 unless --strict).
    """
    def run() -> tuple[int, list[Problem]]:
        from deckgen.build import BuildOptions
        from deckgen.build import check as run_check

        return run_check(BuildOptions(source=source, templates=templates, paper=paper))

    entries, warnings = _run(run)
    for warning in warnings:
        if strict or not quiet:
            click.echo(f"{'error' if strict else 'warning'}: {warning}", err=strict)
    if not quiet:
        click.echo(f"{entries} entries checked: {len(warnings)} warning(s)")
    if strict and warnings:
        raise SystemExit(1)


@main.command()
@click.argument("folder", type=_DIR, default=Path("."))
@click.option("--templates", "templates", is_flag=True,
              help="Copy deckgen's default templates into FOLDER/templates to edit them, "
                   "instead of starting a guide.")
def init(folder: Path, templates: bool) -> None:
    """Start a new guide in FOLDER (default: here); never overwrites a file.

    Writes source/deck.yaml, an example category (two entries, one with a formula), a .gitignore
    for build/ and a README of the next steps. With --templates, writes only templates/: keep
    there the files you change, delete the rest.
    """
    from deckgen.scaffold import init_project, init_templates

    written = _run(lambda: init_templates(folder) if templates else init_project(folder))
    for path in written:
        click.echo(f"wrote {path}")
    if templates:
        click.echo(f"edit the files in {folder / 'templates'}; delete those you keep as they were")
    else:
        click.echo(f"next: run `deckgen build` in {folder}, then import the .apkg in build/ "
                   "into Anki")
