"""`deckgen check` warns about a display formula likely too wide for a phone."""

from __future__ import annotations

from click.testing import CliRunner

from conftest import Project
from deckgen.cli import main
from deckgen.lint import PHONE_FORMULA_EM, formula_width_em

TWO_EQUATIONS = (r"m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad "
                 r"v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2")
ONE_PER_LINE = (r"\begin{aligned} m_t &= \beta_1 m_{t-1} + (1-\beta_1) g_t, \\ "
                r"v_t &= \beta_2 v_{t-1} + (1-\beta_2) g_t^2 \end{aligned}")


def test_the_estimate_follows_what_mathjax_draws() -> None:
    # Measured in headless Chromium with Anki's MathJax at 17 px: 452 px and 233 px wide.
    assert formula_width_em(TWO_EQUATIONS) > PHONE_FORMULA_EM
    assert formula_width_em(ONE_PER_LINE) < PHONE_FORMULA_EM
    assert formula_width_em(ONE_PER_LINE) < formula_width_em(TWO_EQUATIONS) / 1.6
    assert formula_width_em(r"\frac{a + b + c}{d}") < formula_width_em("a + b + c + d")
    assert formula_width_em(r"\sum_{i=1}^{n} x_i") < formula_width_em(r"x_{i=1}^{n} x_i")


def test_check_names_file_entry_and_field_of_a_wide_formula(mini: Project) -> None:
    beta = mini.source / "02-beta.yaml"
    beta.write_text(beta.read_text(encoding="utf-8") + f"""\
  - id: adam-moments
    term: Adam moments
    question: Which two running averages does Adam keep?
    answer: |
      Both, per parameter:
      \\[ {TWO_EQUATIONS} \\]
    gist: First and second moments of the gradient.
    refs:
      - title: 'Adam: A Method for Stochastic Optimization'
        author: Kingma
        year: 2014
""", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--source", str(mini.source),
                                       "--templates", str(mini.templates)])
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.stdout.splitlines() if "too wide for a phone" in line]
    assert warnings == [
        f"warning: {beta}:17: entry 'adam-moments': field 'answer': display formula "
        r"\[ m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t, \qquad... \] is likely too wide for "
        "a phone: put one equation per line (aligned, gathered)"
    ]

    beta.write_text(beta.read_text(encoding="utf-8").replace(TWO_EQUATIONS, ONE_PER_LINE),
                    encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--source", str(mini.source),
                                       "--templates", str(mini.templates)])
    assert "too wide for a phone" not in result.stdout
