"""`deckgen watch`: one warm process rebuilds after each change and survives a failed build."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from conftest import FIXTURES, Project, copy_project
from deckgen.build import BuildOptions, BuildResult
from deckgen.errors import DeckgenError
from deckgen.resources import DEFAULTS
from deckgen.watch import watch

Outcome = tuple[BuildResult | None, DeckgenError | None]


def next_outcome(outcomes: queue.Queue[Outcome]) -> Outcome:
    return outcomes.get(timeout=60)


@contextmanager
def watching(project: Project, interval: float) -> Iterator[queue.Queue[Outcome]]:
    """`watch` running in a thread on the project; its results and errors arrive in the queue."""
    outcomes: queue.Queue[Outcome] = queue.Queue()
    stop = threading.Event()
    options = BuildOptions(source=project.source, out=project.out, templates=project.templates)
    thread = threading.Thread(target=watch, daemon=True, kwargs={
        "options": options, "interval": interval, "stop": stop,
        "on_build": lambda result, error: outcomes.put((result, error))})
    thread.start()
    try:
        yield outcomes
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_watch_rebuilds_on_change_reports_errors_and_keeps_going(mini: Project) -> None:
    with watching(mini, interval=0.05) as outcomes:
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt
        beta = mini.source / "02-beta.yaml"
        good = beta.read_text()

        beta.write_text(good.replace("lower is better", "lower wins"))
        result, error = next_outcome(outcomes)
        assert error is None and result is not None
        assert result.rebuilt == ["deck", "cheatsheet", "study-guide", "flashcards"]
        assert result.changed_notes == ["perplexity"]

        beta.write_text(good.replace("answer:", "anwser:", 1))
        result, error = next_outcome(outcomes)
        assert result is None and error is not None
        assert "did you mean 'answer'?" in "\n".join(error.lines())

        beta.write_text(good)
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.changed_notes == ["perplexity"]

        css = mini.templates / "anki" / "card.css"
        css.write_text(css.read_text() + "\n.card { color: navy; }\n")
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt == ["deck"]
        assert outcomes.empty()


def test_a_burst_of_saves_makes_one_build(mini: Project) -> None:
    with watching(mini, interval=0.3) as outcomes:
        next_outcome(outcomes)
        beta = mini.source / "02-beta.yaml"
        for n in range(5):
            beta.write_text(beta.read_text().replace("lower is better", f"lower is better {n}")
                            if n == 0 else beta.read_text().replace(f" {n - 1}", f" {n}"))
            time.sleep(0.05)
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.changed_notes == ["perplexity"]
        time.sleep(1.0)
        assert outcomes.empty()


def test_the_watch_command_builds_on_change_and_stops_on_ctrl_c(mini: Project) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "deckgen", "watch", "--interval", "0.1",
         "--source", str(mini.source), "--out", str(mini.out),
         "--templates", str(mini.templates)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert process.stdout is not None
    lines: list[str] = []
    # Lines are read by a thread, so waiting has a deadline even when the watch prints nothing.
    arrived: queue.Queue[str] = queue.Queue()
    stdout = process.stdout

    def read_lines() -> None:
        for line in stdout:
            arrived.put(line)

    reader = threading.Thread(target=read_lines, daemon=True)
    reader.start()

    def wait_for(text: str) -> None:
        deadline = time.monotonic() + 120
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = arrived.get(timeout=left)
            except queue.Empty:
                break
            lines.append(line)
            if text in line:
                return
        raise AssertionError(f"{text!r} never came: {lines}")

    try:
        wait_for("watching")
        beta = mini.source / "02-beta.yaml"
        beta.write_text(beta.read_text().replace("lower is better", "lower wins"))
        wait_for("1 new or changed")
        wait_for("watching")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)
        reader.join(timeout=10)
    assert process.stderr is not None
    err = process.stderr.read()
    out = "".join(arrived.queue)
    assert process.returncode == 0
    assert "stopped watching" in out
    assert err == ""


def test_a_templates_folder_made_while_watching_is_watched(tmp_path: Path) -> None:
    bare = copy_project(tmp_path, FIXTURES / "mini", templates=False)
    with watching(bare, interval=0.05) as outcomes:
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt
        css = bare.templates / "anki" / "card.css"
        css.parent.mkdir(parents=True)
        css.write_text((DEFAULTS / "anki" / "card.css").read_text() + "\n.card { color: navy; }\n")
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt == ["deck"]
        css.write_text(css.read_text() + "\n.card { color: teal; }\n")  # and inside it from then on
        result, error = next_outcome(outcomes)
        assert error is None and result is not None and result.rebuilt == ["deck"]
        assert outcomes.empty()
