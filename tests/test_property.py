"""Whatever a user types into a source file, the build succeeds or fails with the clear error."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import FIXTURES
from deckgen.cli import main
from deckgen.render import markdown_html

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
VALUES: st.SearchStrategy[Any] = st.recursive(
    st.one_of(TEXT, st.integers(), st.floats(allow_nan=False), st.booleans(), st.none()),
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(TEXT, inner, max_size=3)),
    max_leaves=6,
)
ENTRY_FIELDS = ("id", "term", "question", "answer", "gist", "tags", "refs", "point", "extra")
FILE_FIELDS = ("name", "guide", "entries")
# Text that exercises the parts users trip over: formulas, markup and YAML syntax.
TRICKY = st.lists(st.sampled_from([
    "\\(", "\\)", "\\[", "\\]", "x_i", "\\frac{a}{b}", "\\sqrt{", "}", "{", "<b>", "&", "*", "_",
    "`", "#", "- ", ": ", "'", '"', "\n", "\\", "%", "\t", "é", "\u200b", "DECKGENMATH0X",
]), max_size=12).map("".join)


def build(source_text: str | bytes) -> tuple[Result, Path]:
    root = Path(tempfile.mkdtemp(prefix="deckgen-prop-"))
    shutil.copytree(FIXTURES / "mini", root / "source")
    target = root / "source" / "02-beta.yaml"
    if isinstance(source_text, bytes):
        target.write_bytes(source_text)
    else:
        target.write_text(source_text, encoding="utf-8")
    result = CliRunner().invoke(main, [
        "build", "--source", str(root / "source"), "--out", str(root / "build")])
    return result, root


def assert_clean_outcome(result: Result, root: Path) -> None:
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    event(f"exit {result.exit_code}")
    if result.exit_code == 0:
        assert len(list((root / "build").glob("*.*"))) == 8  # 7 outputs and the state file
    else:
        assert not (root / "build").exists()
        lines = result.stderr.splitlines()
        assert lines and all(line.startswith(f"error: {root / 'source'}") for line in lines), \
            result.stderr
    shutil.rmtree(root)


def mini_beta() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((FIXTURES / "mini" / "02-beta.yaml").read_text())
    return data


SLOW = settings(max_examples=40, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@SLOW
@given(field=st.sampled_from(ENTRY_FIELDS), value=st.one_of(VALUES, TRICKY))
def test_any_value_in_any_entry_field(field: str, value: Any) -> None:
    data = mini_beta()
    data["entries"][0][field] = value
    assert_clean_outcome(*build(yaml.safe_dump(data, allow_unicode=True)))


@SLOW
@given(field=st.sampled_from(("term", "question", "answer", "gist")),
       value=st.one_of(TEXT, TRICKY, st.tuples(TEXT, TRICKY, TEXT).map("".join)))
def test_any_text_in_any_text_field(field: str, value: str) -> None:
    data = mini_beta()
    data["entries"][1][field] = value
    assert_clean_outcome(*build(yaml.safe_dump(data, allow_unicode=True)))


@SLOW
@given(field=st.sampled_from(FILE_FIELDS), value=VALUES)
def test_any_value_in_any_file_field(field: str, value: Any) -> None:
    data = mini_beta()
    data[field] = value
    assert_clean_outcome(*build(yaml.safe_dump(data, allow_unicode=True)))


@SLOW
@given(text=st.one_of(TEXT, TRICKY, st.binary(max_size=80)))
def test_any_file_content(text: str | bytes) -> None:
    assert_clean_outcome(*build(text))


# -- deep and large Markdown and LaTeX ----------------------------------------------------------

BLOCKS = st.lists(st.sampled_from(["- ", "1. ", "> "]), max_size=40)
INLINE = st.lists(st.sampled_from(["*", "**", "_", "__"]), max_size=30)


def nested_markdown(blocks: list[str], inline: list[str]) -> str:
    """The word 'deepest' inside `inline` emphasis, inside `blocks` lists and quotes (outermost
    first), each level with a line of its own."""
    text = "deepest"
    for mark in reversed(inline):
        text = f"{mark}{text}{mark}"
    for level, mark in reversed(list(enumerate(blocks))):
        indent = " " * len(mark) if mark != "> " else "> "
        text = f"{mark}level{level}\n" + "\n".join(indent + line for line in text.splitlines())
    return text


def check_answer(answer: str, *, build_it: bool = False) -> Result:
    data = mini_beta()
    data["entries"][0]["answer"] = answer
    root = Path(tempfile.mkdtemp(prefix="deckgen-prop-"))
    shutil.copytree(FIXTURES / "mini", root / "source")
    (root / "source" / "02-beta.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                                  encoding="utf-8")
    command = ["build", "--out", str(root / "build")] if build_it else ["check"]
    result = CliRunner().invoke(main, [*command, "--source", str(root / "source")])
    assert "Traceback" not in result.output
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 1:
        (line,) = result.stderr.splitlines()
        assert line.startswith(f"error: {root / 'source' / '02-beta.yaml'}:")
        assert "entry 'perplexity': field 'answer': " in line
        assert len(line) < 400  # never the whole field echoed back
    elif build_it:
        study = (root / "build" / "study-guide.html").read_text(encoding="utf-8")
        assert study.count("deepest") == 1
    shutil.rmtree(root)
    return result


@SLOW
@given(blocks=BLOCKS, inline=INLINE)
def test_deep_markdown_is_shown_in_full_or_refused(blocks: list[str], inline: list[str]) -> None:
    text = nested_markdown(blocks, inline)
    result = check_answer(text)
    event(f"exit {result.exit_code}")
    if result.exit_code == 1:
        assert "Markdown nested" in result.stderr and "over the limit of 16" in result.stderr
        return
    html = markdown_html(text)
    assert "deepest" in html
    assert all(f"level{n}" in html for n in range(len(blocks)))
    assert html.count("<blockquote>") == blocks.count("> ")
    assert html.count("<ul>") == blocks.count("- ")


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(blocks=st.lists(st.sampled_from(["- ", "1. ", "> "]), min_size=4, max_size=7),
       inline=st.lists(st.sampled_from(["*", "**", "_"]), max_size=4))
def test_the_deepest_markdown_accepted_builds_cards_and_paper(
        blocks: list[str], inline: list[str]) -> None:
    check_answer(nested_markdown(blocks, inline), build_it=True)


GROUPS = st.lists(st.sampled_from([
    "\\frac{%s}{2}", "\\sqrt{%s}", "{%s}", "\\left(%s\\right)", "%s^{2}", "\\mathrm{%s}",
    "\\sqrt\\frac{%s}{3}",
]), max_size=600)


@SLOW
@given(groups=GROUPS)
def test_deep_formulas_are_typeset_or_refused_in_a_short_line(groups: list[str]) -> None:
    latex = "x"
    for group in groups:
        latex = group % latex
    result = check_answer(f"Look: \\[{latex}\\]")
    event(f"exit {result.exit_code}")
    if result.exit_code == 1:
        assert "over the limit of 20" in result.stderr or "cannot typeset" in result.stderr


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs=st.integers(min_value=1, max_value=300),
       words=st.integers(min_value=1, max_value=60))
def test_large_fields_are_shown_in_full_or_refused(paragraphs: int, words: int) -> None:
    text = "\n\n".join(f"p{n} " + "word \\(x_{n}\\) " * words for n in range(paragraphs))
    result = check_answer(text)
    event(f"exit {result.exit_code}")
    if result.exit_code == 1:
        assert f"{len(text.strip()):,} characters, over the limit of 10,000" in result.stderr
    else:
        assert f"p{paragraphs - 1} " in markdown_html(text)
