"""Bad source: exit code 1, one line per problem naming file, entry and field; no traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import FIXTURES, Project
from deckgen.cli import main

CASES = sorted(p.name for p in (FIXTURES / "bad").iterdir())


def overlay(project: Project, case: str) -> list[str]:
    """Copy the case's files (links as links) over the project's source; the lines the error
    must contain."""
    folder = FIXTURES / "bad" / case
    for path in folder.iterdir():
        if path.is_dir() and not path.is_symlink():
            shutil.copytree(path, project.source / path.name, dirs_exist_ok=True)
        elif path.name != "expected.txt":
            shutil.copy(path, project.source / path.name, follow_symlinks=False)
    return (folder / "expected.txt").read_text(encoding="utf-8").splitlines()


def last_good(project: Project) -> dict[str, bytes]:
    """What a failed build must leave alone: build/ and the lock file."""
    return {**project.outputs(), "lock": (project.source / "deckgen.lock").read_bytes()}


def assert_refused(project: Project, result: Result, expected: list[str],
                   before: dict[str, bytes]) -> None:
    """The build failed with exit 1, no traceback, the expected errors, and wrote nothing."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    errors = result.stderr.splitlines()
    for line in expected:
        assert any(line in e for e in errors), f"{line!r} not in:\n{result.stderr}"
    assert all(e.startswith("error: ") and str(project.source) in e for e in errors)
    assert last_good(project) == before


@pytest.mark.parametrize("case", CASES)
def test_bad_source_is_reported_and_build_is_untouched(mini: Project, case: str) -> None:
    assert mini.build().exit_code == 0
    before = last_good(mini)
    expected = overlay(mini, case)
    assert_refused(mini, mini.build(), expected, before)
    assert mini.build().exit_code == 1  # and again: a failed build is never "up to date"


@pytest.mark.parametrize("case", CASES)
def test_check_refuses_what_build_refuses(mini: Project, case: str) -> None:
    expected = overlay(mini, case)
    result = CliRunner().invoke(main, ["check", "--source", str(mini.source),
                                       "--templates", str(mini.templates)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for line in expected:
        assert line in result.stderr, f"{line!r} not in:\n{result.stderr}"


def test_every_problem_in_the_source_is_reported_in_one_run(mini: Project) -> None:
    overlay(mini, "unknown-key")
    shutil.copy(FIXTURES / "bad" / "wrong-type" / "02-beta.yaml", mini.source / "03-gamma.yaml")
    (mini.source / "04-delta.yaml").write_bytes(b"")
    result = mini.build()
    assert result.exit_code == 1
    assert "did you mean 'answer'?" in result.stderr
    assert "03-gamma.yaml:6: entry 'bleu': field 'question'" in result.stderr
    assert "04-delta.yaml: file is empty" in result.stderr


def test_missing_source_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["build", "--source", str(tmp_path / "nope"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr == f"error: {tmp_path / 'nope'}: source folder does not exist\n"


def test_empty_source_folder(tmp_path: Path) -> None:
    (tmp_path / "source").mkdir()
    result = CliRunner().invoke(main, ["build", "--source", str(tmp_path / "source"),
                                       "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "deck.yaml: missing" in result.stderr
    assert "no category files (NN-slug.yaml)" in result.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output_folder(mini: Project, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, [
        "build", "--source", str(mini.source), "--templates", str(mini.templates),
        "--out", str(blocker / "build")])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {blocker / 'build'}: cannot write here")
    assert "Traceback" not in result.output


@pytest.mark.parametrize("case", sorted(p.name for p in (FIXTURES / "warn").iterdir()))
def test_warnings_do_not_stop_the_build(mini: Project, case: str) -> None:
    folder = FIXTURES / "warn" / case
    for path in folder.glob("*.yaml"):
        shutil.copy(path, mini.source / path.name)
    result = mini.build()
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    for line in (folder / "expected.txt").read_text(encoding="utf-8").splitlines():
        assert f"warning: {mini.source / line}" in result.stdout, line
