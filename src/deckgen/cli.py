"""The command line: options in, one library call, errors out as messages and exit codes."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from deckgen import __version__
from deckgen.errors import DeckgenError

_DIR = click.Path(file_okay=False, path_type=Path)
T = TypeVar("T")


def _run(action: Callable[[], T]) -> T:
    """Run a library call; its errors become messages on stderr and an exit code, never a trace."""
    try:
        return action()
    except DeckgenError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        click.echo("interrupted: the previous outputs are untouched", err=True)
        raise SystemExit(130) from None
    except Exception as exc:
        if os.environ.get("DECKGEN_DEBUG"):
            raise
        click.echo(f"internal error: {type(exc).__name__}: {exc} (this is a bug in deckgen; "
                   "set DECKGEN_DEBUG=1 to see where)", err=True)
        raise SystemExit(2) from None


def _source_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--source", "source", type=_DIR, default=Path("source"), show_default=True,
        help="Folder holding deck.yaml and the NN-slug.yaml category files.")(function)


def _templates_option(function: Callable[..., None]) -> Callable[..., None]:
    return click.option(
        "--templates", "templates", type=_DIR, default=Path("templates"), show_default=True,
        help="Folder holding the card and PDF templates.")(function)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Build an Anki deck and a printable cheat sheet from the guide kept in source/.

    Run from the project folder: `deckgen build` reads source/ and templates/ and writes build/;
    `deckgen check` only validates and lints.
    """


@main.command()
@_source_option
@click.option("--out", "out", type=_DIR, default=Path("build"), show_default=True,
              help="Folder the .apkg, the PDFs and their HTML are written to.")
@_templates_option
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size of the printed sheet (landscape) and study guide (portrait).")
def build(source: Path, out: Path, templates: Path, paper: str) -> None:
    """Validate source/, then write the Anki deck, the cheat sheet and the study guide.

    Re-importing the new .apkg into Anki keeps every review: notes are matched by their entry id,
    and only entries whose content changed are updated.
    """
    from deckgen.build import BuildOptions
    from deckgen.build import build as run_build

    options = BuildOptions(source=source, out=out, templates=templates, paper=paper)
    result = _run(lambda: run_build(options))
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for path in result.written:
        click.echo(f"wrote {path}")
    click.echo(f"{result.notes} notes, {len(result.changed_notes)} new or changed")


@main.command()
@_source_option
@_templates_option
@click.option("--strict", is_flag=True,
              help="Treat warnings as errors (exit status 1 if there are any).")
def check(source: Path, templates: Path, strict: bool) -> None:
    """Validate and lint source/ without writing anything.

    Errors are what `deckgen build` would refuse (exit status 1). Warnings point at over-long
    fields, entries without a reference and near-duplicate questions (exit status 0 unless
    --strict).
    """
    from deckgen.build import BuildOptions
    from deckgen.build import check as run_check

    options = BuildOptions(source=source, templates=templates)
    entries, warnings = _run(lambda: run_check(options))
    for warning in warnings:
        click.echo(f"{'error' if strict else 'warning'}: {warning}", err=strict)
    click.echo(f"{entries} entries checked: {len(warnings)} warning(s)")
    if strict and warnings:
        raise SystemExit(1)
