"""`deckgen check`: validate and lint without writing anything."""

from __future__ import annotations

from click.testing import CliRunner, Result

from conftest import ROOT, Project
from deckgen.cli import main
from test_errors import overlay


def check(project: Project, *extra: str) -> Result:
    return CliRunner().invoke(main, ["check", "--source", str(project.source),
                                     "--templates", str(project.templates), *extra])


def test_check_writes_nothing_and_lists_warnings(mini: Project) -> None:
    before = sorted(p.name for p in mini.source.iterdir())
    result = check(mini)
    assert result.exit_code == 0, result.output
    assert not mini.out.exists()
    assert sorted(p.name for p in mini.source.iterdir()) == before
    assert "5 entries checked: 4 warning(s)" in result.stdout
    assert f"warning: {mini.source / '01-alpha.yaml'}:17: entry 'relu': field 'refs': " \
           "no reference" in result.stdout


def test_check_flags_near_duplicates_and_long_fields(mini: Project) -> None:
    beta = mini.source / "02-beta.yaml"
    beta.write_text(beta.read_text() + """\
  - id: bleu-again
    term: BLEU again
    question: What does BLEU measure, exactly?
    answer: |
      """ + " ".join(["word"] * 85) + """
    gist: Same as above.
""")
    result = check(mini)
    assert result.exit_code == 0
    assert "entry 'bleu-again': field 'answer': 85 words; keep it to 80 or fewer" in result.stdout
    assert "entry 'bleu': field 'question': question is nearly the same as entry " \
           "'bleu-again'" in result.stdout


def test_strict_turns_warnings_into_errors(mini: Project) -> None:
    result = check(mini, "--strict")
    assert result.exit_code == 1
    assert "error: " in result.stderr and "no reference" in result.stderr


def test_check_reports_errors_like_build(mini: Project) -> None:
    expected = overlay(mini, "unknown-key")
    result = check(mini)
    assert result.exit_code == 1
    assert expected[0] in result.stderr
    assert "Traceback" not in result.output


def test_check_catches_latex_the_pdf_cannot_render(mini: Project) -> None:
    expected = overlay(mini, "bad-latex")
    result = check(mini)
    assert result.exit_code == 1
    assert expected[0] in result.stderr


def test_the_real_source_checks_clean_of_errors() -> None:
    result = CliRunner().invoke(main, ["check", "--source", str(ROOT / "source")])
    assert result.exit_code == 0, result.stderr
    assert "325 entries checked" in result.stdout or "entries checked" in result.stdout
