"""A failed or interrupted build leaves the previous outputs exactly as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import deckgen.documents
from conftest import Project


def snapshot(project: Project) -> dict[str, bytes]:
    files = project.outputs()
    files["deckgen.lock"] = (project.source / "deckgen.lock").read_bytes()
    return files


def no_leftovers(project: Project) -> bool:
    folders = (project.out, project.source)
    return not [p for f in folders for p in f.iterdir() if p.suffix in (".tmp", ".old")]


def test_interrupt_while_rendering_keeps_the_previous_outputs(
    mini: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mini.build().exit_code == 0
    before = snapshot(mini)
    (mini.source / "02-beta.yaml").write_text(
        (mini.source / "02-beta.yaml").read_text().replace("lower is better", "lower wins"))

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(deckgen.documents.Documents, "finish", interrupted)
    result = mini.build()
    assert result.exit_code == 130
    assert "interrupted: the previous outputs are untouched" in result.stderr
    assert snapshot(mini) == before
    assert no_leftovers(mini)


def test_a_rename_failing_midway_puts_the_old_files_back(
    mini: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert mini.build().exit_code == 0
    before = snapshot(mini)
    (mini.source / "01-alpha.yaml").write_text(
        (mini.source / "01-alpha.yaml").read_text().replace("Zero for", "Nought for"))
    real_replace = os.replace
    calls: list[Path] = []

    def flaky_replace(src: str | Path, dst: str | Path) -> None:
        if Path(dst).parent in (mini.out, mini.source):  # not deckgen's cache
            calls.append(Path(dst))
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", flaky_replace)
    result = mini.build()
    assert result.exit_code == 1
    assert "cannot write the outputs" in result.stderr
    assert snapshot(mini) == before
    assert no_leftovers(mini)


def test_first_build_into_a_new_folder_writes_everything(mini: Project) -> None:
    result = mini.build()
    assert result.exit_code == 0
    assert sorted(mini.outputs()) == [
        ".deckgen-state.json", "cheatsheet.html", "cheatsheet.pdf", "flashcards.html",
        "flashcards.pdf", "mini-deck.apkg", "study-guide.html", "study-guide.pdf",
    ]
    assert no_leftovers(mini)


def test_ctrl_c_at_any_moment_leaves_old_or_new_outputs_never_a_mix(mini: Project) -> None:
    """A real `deckgen build` process, interrupted with SIGINT at moments across its run."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "deckgen", "build", "--source", str(mini.source),
               "--out", str(mini.out), "--templates", str(mini.templates)]
    subprocess.run(command, env=env, check=True, capture_output=True)
    old = snapshot(mini)
    edited = (mini.source / "02-beta.yaml").read_text().replace("lower is better", "lower wins")
    (mini.source / "02-beta.yaml").write_text(edited)

    started = time.monotonic()
    subprocess.run(command, env=env, check=True, capture_output=True)
    duration = time.monotonic() - started
    new = snapshot(mini)
    assert new != old
    outcomes = set()
    for step in range(10):
        restore(mini, old)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
        time.sleep(duration * step / 9)
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
        assert b"Traceback" not in stderr
        now = snapshot(mini)
        assert now in (old, new), {k: ("old" if v == old.get(k) else "new" if v == new.get(k)
                                      else "other") for k, v in now.items() if v != new.get(k)}
        outcomes.add("new" if now == new else "old")
        # 0: finished first; 130: deckgen caught the interrupt; -2: it came before start-up ended.
        assert process.returncode in (0, 130, -signal.SIGINT)
        assert no_leftovers(mini)
    assert "old" in outcomes


def restore(project: Project, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        target = project.source / name if name == "deckgen.lock" else project.out / name
        target.write_bytes(data)
