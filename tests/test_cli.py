"""The command line documents itself and the code stays typed and linted."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from deckgen.cli import main


def test_every_command_and_option_has_help() -> None:
    assert main.help
    for name, command in main.commands.items():
        result = CliRunner().invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert command.help, name
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{name} {param.name}"
                assert param.opts[0] in result.output


def test_top_level_help_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "build" in result.output


@pytest.mark.parametrize(
    "tool", [["ruff", "check", "."], ["mypy", "--strict"]]
)
def test_code_is_clean(tool: list[str]) -> None:
    result = subprocess.run([sys.executable, "-m", *tool], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout + result.stderr
