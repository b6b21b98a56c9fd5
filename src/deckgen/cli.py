"""The command line: options in, one library call, errors out as messages and exit codes."""

from __future__ import annotations

from pathlib import Path

import click

from deckgen import __version__
from deckgen.errors import DeckgenError

_DIR = click.Path(file_okay=False, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="deckgen")
def main() -> None:
    """Build an Anki deck and a printable cheat sheet from the guide kept in source/.

    Run from the project folder: `deckgen build` reads source/ and templates/ and writes build/.
    """


@main.command()
@click.option("--source", "source", type=_DIR, default=Path("source"), show_default=True,
              help="Folder holding deck.yaml and the NN-slug.yaml category files.")
@click.option("--out", "out", type=_DIR, default=Path("build"), show_default=True,
              help="Folder the .apkg, the PDF and its HTML are written to.")
@click.option("--templates", "templates", type=_DIR, default=Path("templates"),
              show_default=True, help="Folder holding the card and PDF templates.")
@click.option("--paper", type=click.Choice(["a4", "letter"]), default="a4", show_default=True,
              help="Paper size of the printed sheet (landscape).")
def build(source: Path, out: Path, templates: Path, paper: str) -> None:
    """Validate source/, then write the Anki deck and the cheat sheet to build/.

    Re-importing the new .apkg into Anki keeps every review: notes are matched by their entry id,
    and only entries whose content changed are updated.
    """
    from deckgen.build import BuildOptions
    from deckgen.build import build as run_build

    try:
        result = run_build(BuildOptions(source=source, out=out, templates=templates, paper=paper))
    except DeckgenError as exc:
        for line in exc.lines():
            click.echo(line, err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        click.echo("interrupted: the previous outputs are untouched", err=True)
        raise SystemExit(130) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}")
    for path in result.written:
        click.echo(f"wrote {path}")
    click.echo(f"{result.notes} notes, {len(result.changed_notes)} new or changed")
