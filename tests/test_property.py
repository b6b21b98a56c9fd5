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
        assert len(list((root / "build").glob("*.*"))) == 6  # 5 outputs and the state file
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
