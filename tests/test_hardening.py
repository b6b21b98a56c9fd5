"""The failures found by trying to break the build: each ends in a correct build or one clear
error, and the messages say what is true."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

import pdfplumber
import pytest

import deckgen.anki
import deckgen.build
import deckgen.documents
import deckgen.pdf
import deckgen.source
from anki_helpers import card_for, import_apkg, open_collection
from conftest import Project
from deckgen.build import BuildOptions, build, slugify
from deckgen.source import MAX_FIELD_CHARS, MAX_FILE_BYTES
from test_errors import assert_refused, last_good
from test_watch import next_outcome, watching

BETA_HEAD = "name: Beta Things\nguide: The second category's one line.\nentries:\n"


def entry(number: int, answer: str) -> str:
    return (f"  - id: e{number}\n    term: T{number}\n    question: Q{number}?\n"
            f"    answer: {answer}\n    gist: G{number}.\n")


def options(project: Project) -> BuildOptions:
    return BuildOptions(source=project.source, out=project.out, templates=project.templates)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


# -- an edit made while a build runs -------------------------------------------------------------

def edit_after_reading(monkeypatch: pytest.MonkeyPatch, path: Path, old: str, new: str) -> None:
    """Make the next build's source be edited right after the build has read it."""
    real = deckgen.source.load_guide
    done: list[bool] = []

    def load_then_edit(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        if not done:
            done.append(True)
            edit(path, old, new)
        return result

    monkeypatch.setattr(deckgen.build, "load_guide", load_then_edit)


def test_an_edit_made_while_a_build_runs_is_built_next_time(
        mini: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    beta = mini.source / "02-beta.yaml"
    edit_after_reading(monkeypatch, beta, "lower is better", "lower wins")
    assert build(options(mini)).rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
    assert "lower wins" in beta.read_text()
    assert "lower wins" not in (mini.out / "study-guide.html").read_text()

    result = build(options(mini))
    assert result.rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
    assert result.changed_notes == ["perplexity"]
    assert "lower wins" in (mini.out / "study-guide.html").read_text()
    assert build(options(mini)).up_to_date


def test_watch_builds_an_edit_made_while_it_was_building(
        mini: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    beta = mini.source / "02-beta.yaml"
    edit_after_reading(monkeypatch, beta, "lower is better", "lower wins")
    with watching(mini, interval=0.05) as outcomes:
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt
        result, error = next_outcome(outcomes)
        assert error is None and result is not None
        assert result.changed_notes == ["perplexity"]
    assert "lower wins" in (mini.out / "study-guide.html").read_text()


# -- interrupts and killed builds ----------------------------------------------------------------

def test_ctrl_c_during_the_swap_says_the_new_outputs_were_written(
        mini: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    assert mini.build().exit_code == 0
    before = last_good(mini)
    edit(mini.source / "02-beta.yaml", "lower is better", "lower wins")
    real_replace = os.replace

    def replace_with_ctrl_c(src: Any, dst: Any) -> None:
        if Path(dst).parent == mini.out:  # the swap, not the cache
            # Sent to the main thread, which holds it until the swap is done.
            signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_with_ctrl_c)
    result = mini.build()
    monkeypatch.undo()
    assert result.exit_code == 130
    assert result.stderr == (f"interrupted after the new outputs were all written to {mini.out} "
                             f"and {mini.source}\n")
    after = last_good(mini)
    assert after != before and "lower wins" in after["study-guide.html"].decode()
    assert mini.build().stdout == f"everything in {mini.out} is up to date\n"
    assert not [p for p in mini.out.iterdir() if p.suffix in (".tmp", ".old")]


def leave_leftovers(project: Project) -> None:
    """A real process that made a build's temporaries and backups and was then SIGKILLed."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from deckgen.build import _create_beside\n"
        "out, source = Path(sys.argv[1]), Path(sys.argv[2])\n"
        "for target in (out / 'mini-deck.apkg', out / 'cheatsheet.pdf',"
        " out / '.deckgen-state.json', source / 'deckgen.lock'):\n"
        "    _, temporary = _create_beside(target)\n"
        "    os.link(temporary, temporary.with_suffix('.old'))\n"
        "os.kill(os.getpid(), 9)\n")
    process = subprocess.run([sys.executable, "-c", script, str(project.out), str(project.source)])
    assert process.returncode == -signal.SIGKILL


def test_leftovers_of_a_killed_build_are_removed_by_the_next(mini: Project) -> None:
    before = built_mini(mini)
    leave_leftovers(mini)
    # One from a build before temporaries carried the process id, and a user's own file.
    (mini.out / ".study-guide.pdf.k2j_x8aq.tmp").write_bytes(b"old")
    (mini.source / "notes.txt.tmp").write_bytes(b"mine")
    leftovers = [p for f in (mini.out, mini.source) for p in f.iterdir()
                 if p.suffix in (".tmp", ".old")]
    assert len(leftovers) == 10
    result = mini.build()
    assert result.stdout == f"everything in {mini.out} is up to date\n"
    assert last_good(mini) == before
    assert [p.name for f in (mini.out, mini.source) for p in f.iterdir()
            if p.suffix in (".tmp", ".old")] == ["notes.txt.tmp"]


def test_a_running_builds_temporaries_are_left_alone(mini: Project) -> None:
    assert mini.build().exit_code == 0
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = mini.out / f".mini-deck.apkg.{sleeper.pid}.abcd1234.tmp"
        live.write_bytes(b"being written")
        assert mini.build().exit_code == 0
        assert live.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert mini.build().exit_code == 0
    assert not live.exists()


# -- sizes: refused before anything is rendered --------------------------------------------------

@pytest.fixture
def rendering_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any attempt to render the deck or a PDF fails the test."""
    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError("rendered although the input is refused")

    monkeypatch.setattr(deckgen.anki, "build_package", forbidden)
    monkeypatch.setattr(deckgen.documents.Documents, "start", forbidden)


def built_mini(mini: Project) -> dict[str, bytes]:
    assert mini.build().exit_code == 0
    return last_good(mini)


def test_a_huge_category_file_is_refused_unread(mini: Project, monkeypatch: pytest.MonkeyPatch,
                                                 request: pytest.FixtureRequest) -> None:
    before = built_mini(mini)
    request.getfixturevalue("rendering_forbidden")
    beta = mini.source / "02-beta.yaml"
    with beta.open("a") as stream:
        stream.write(entry(9, "'" + "x" * (50 * 1024 * 1024) + "'"))
    assert_refused(mini, mini.build(), [
        f"02-beta.yaml: file is over the limit of {MAX_FILE_BYTES:,} bytes"], before)


def test_a_huge_field_is_refused(mini: Project, request: pytest.FixtureRequest) -> None:
    before = built_mini(mini)
    request.getfixturevalue("rendering_forbidden")
    (mini.source / "02-beta.yaml").write_text(BETA_HEAD + entry(1, "x" * 500_000))
    assert_refused(mini, mini.build(), [
        f"02-beta.yaml:7: entry 'e1': field 'answer': 500,000 characters, over the limit of "
        f"{MAX_FIELD_CHARS:,}"], before)


def test_the_issues_alias_bomb_is_refused(mini: Project, request: pytest.FixtureRequest) -> None:
    """One 100 KB answer `&s`, then `answer: *s` in 2,000 entries: a 180 KB file."""
    before = built_mini(mini)
    request.getfixturevalue("rendering_forbidden")
    text = BETA_HEAD + entry(0, "&s " + "word " * 20_000)
    text += "".join(entry(n, "*s") for n in range(1, 2001))
    (mini.source / "02-beta.yaml").write_text(text)
    assert_refused(mini, mini.build(), ["02-beta.yaml: YAML aliases (*name) repeat text"], before)


# -- files that are not plain files --------------------------------------------------------------

def test_a_pipe_named_like_a_category_is_an_error(mini: Project) -> None:
    before = built_mini(mini)
    os.mkfifo(mini.source / "03-gamma.yaml")
    assert_refused(mini, mini.build(), [
        "03-gamma.yaml: is not a regular file (a device, pipe or socket)"], before)


def test_a_link_to_a_device_is_an_error(mini: Project) -> None:
    before = built_mini(mini)
    (mini.source / "03-gamma.yaml").symlink_to("/dev/zero")
    assert_refused(mini, mini.build(), [
        "03-gamma.yaml: is a link to /dev/zero, outside the source folder"], before)


def test_a_link_inside_the_source_folder_is_followed(mini: Project) -> None:
    beta = mini.source / "02-beta.yaml"
    kept = mini.source / "beta-text.txt"
    beta.rename(kept)
    beta.symlink_to(kept.name)
    assert mini.build().exit_code == 0


# -- names --------------------------------------------------------------------------------------

def test_ascii_titles_keep_their_file_names() -> None:
    assert slugify("LLM Interview Guide") == "llm-interview-guide"
    assert slugify("Mini Deck") == "mini-deck"
    assert slugify("  C++ & Rust: 2024_edition!  ") == "c-rust-2024-edition"
    assert slugify("!!!") == "deck"


def test_non_ascii_titles_give_readable_distinct_names() -> None:
    names = [slugify(t) for t in ("日本語のデッキ", "中文的卡组", "Ünïcødé Déck", "Русская колода",
                                   "हिन्दी डेक")]
    assert names == ["日本語のデッキ", "中文的卡组", "ünïcødé-déck", "русская-колода", "हिन्दी-डेक"]
    assert slugify("Une\u0301") == slugify("Uné")  # decomposed and composed accents agree
    assert len(slugify("長" * 300).encode()) <= 120


@pytest.mark.parametrize(("title", "name"), [("日本語のデッキ", "日本語のデッキ.apkg"),
                                             ("Ünïcødé Déck", "ünïcødé-déck.apkg")])
def test_the_deck_file_is_named_after_a_non_ascii_title(mini: Project, title: str, name: str,
                                                        tmp_path: Path) -> None:
    edit(mini.source / "deck.yaml", "title: Mini Deck", f"title: {title}")
    assert mini.out / name in build(options(mini)).written
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.out / name)
    assert title in col.decks.all_names()
    col.close()


# -- Markdown tables ----------------------------------------------------------------------------

TABLE = """|
      | model | parameters |
      |---|---:|
      | GPT-2 | 1.5 B |
      | GPT-3 \\(\\approx\\) | **175 B** |"""


def test_a_markdown_table_is_a_table_on_the_card_and_on_paper(mini: Project,
                                                            tmp_path: Path) -> None:
    (mini.source / "02-beta.yaml").write_text(BETA_HEAD + entry(1, TABLE), encoding="utf-8")
    assert mini.build().exit_code == 0
    col = open_collection(tmp_path / "anki")
    import_apkg(col, mini.apkg())
    answer = card_for(col, "e1").answer()
    col.close()
    assert "<table>" in answer and "<th>model</th>" in answer
    assert '<td style="text-align:right"><strong>175 B</strong></td>' in answer
    assert "|---|" not in answer
    with pdfplumber.open(io.BytesIO((mini.out / "study-guide.pdf").read_bytes())) as pdf:
        text = "\n".join(page.extract_text() or "" for page in pdf.pages)
    assert "GPT-2 1.5 B" in text and "|" not in text


# -- writing ------------------------------------------------------------------------------------

def test_disk_full_names_the_folder(mini: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    before = built_mini(mini)
    edit(mini.source / "02-beta.yaml", "lower is better", "lower wins")
    real_fdopen = os.fdopen

    def full_disk(handle: int, mode: str = "r", *args: Any, **kwargs: Any) -> IO[Any]:
        # The kernel's own ENOSPC: /dev/full takes writes until they reach it.
        os.close(handle)
        return real_fdopen(os.open("/dev/full", os.O_WRONLY), mode)

    monkeypatch.setattr(os, "fdopen", full_disk)
    result = mini.build()
    monkeypatch.undo()
    assert result.exit_code == 1
    assert result.stderr == (f"error: {mini.out}: cannot write the outputs (no space left on the "
                             "disk: free some space and build again); the previous outputs are "
                             "untouched\n")
    assert last_good(mini) == before
    assert not [p for p in mini.out.iterdir() if p.suffix in (".tmp", ".old")]


def test_an_unwritable_output_folder_is_found_before_rendering(
        mini: Project, tmp_path: Path, rendering_forbidden: None) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = mini.build("--out", str(blocker / "build"))
    assert result.exit_code == 1
    assert result.stderr == f"error: {blocker / 'build'}: cannot write here (Not a directory)\n"
    assert not (mini.source / "deckgen.lock").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_output_folder_is_found_before_rendering(
        mini: Project, rendering_forbidden: None) -> None:
    mini.out.mkdir()
    mini.out.chmod(0o555)
    try:
        result = mini.build()
    finally:
        mini.out.chmod(0o755)
    assert result.exit_code == 1
    assert result.stderr == f"error: {mini.out}: cannot write here (Permission denied)\n"


def test_watch_reports_a_link_to_nothing_as_soon_as_it_appears(mini: Project) -> None:
    with watching(mini, interval=0.05) as outcomes:
        result, error = next_outcome(outcomes)
        assert error is None and result is not None
        (mini.source / "03-gamma.yaml").symlink_to("02-gone.yaml")
        result, error = next_outcome(outcomes)
        assert result is None and error is not None
        assert "03-gamma.yaml: is a link to" in "\n".join(error.lines())
