"""Benchmark the edit loop: what `deckgen build` costs after each kind of edit.

    python benchmarks/edits.py                      # this guide and a synthetic 1,000 entries
    python benchmarks/edits.py --sources guide --runs 1    # a quick look

For each source it measures, as median wall time and peak memory of all the build's processes
(each build a fresh `deckgen build` process, as a user runs it; the formula cache warm, since
typesetting happens once per machine):
  full        a build into an empty folder with an empty parts cache
  floor       WeasyPrint rendering the same three documents one after another, plus genanki
              writing the same notes: the serial floor, a fresh process too (its start-up and
              imports counted, as the build's are), measured between the full builds
  no-op       a build with nothing changed
  answer      after editing one sentence of one answer (in the middle category)
  gist        after editing the gist of one core entry (the cheat sheet shows it)
  card-css    after editing the card style (templates/anki/card.css)
and prints the targets: full <= 0.7 x floor (on all cores); answer <= 0.15 x full;
gist <= 0.3 x full; no-op <= 0.02 x full.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import make_source

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("full", "floor", "no-op", "answer", "gist", "card-css")
TARGETS = (("full", "floor", 0.7), ("answer", "full", 0.15), ("gist", "full", 0.3),
           ("no-op", "full", 0.02))


def session_rss_mb(session: int) -> float:
    """The resident memory of every process in `session`, in MB (Linux /proc)."""
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            if int(stat[3]) != session:  # field 6 of stat: the session id
                continue
            total += int(stat[21]) * os.sysconf("SC_PAGE_SIZE")  # field 24: rss in pages
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e6


def timed(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Run `command` in a session of its own; wall seconds and the session's peak memory."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True)
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, session_rss_mb(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{out.decode()}{err.decode()}")
    return {"seconds": seconds, "peak_mb": peak}


def floor_child(out: Path, source: Path, templates: Path) -> None:
    """The serial floor, in this (fresh) process: WeasyPrint renders the documents the build
    wrote, one after the other, as single documents; genanki writes the same notes."""
    from genanki import Deck, Model, Note, Package
    from weasyprint import HTML

    from deckgen.anki import FIELDS, MODEL_ID, CardTemplates, note_fields, note_guid
    from deckgen.pdf import _locked_fetcher
    from deckgen.render import environment
    from deckgen.resources import Templates
    from deckgen.source import load_guide

    guide, _ = load_guide(source)
    references = environment(templates).get_template("anki/references.html.j2")
    looks = CardTemplates.read(templates)
    notes = [(c.label, note_fields(e, references), note_guid(e.id))
             for c in guide.categories for e in c.entries]
    pages = [(out / f"{name}.html").read_text(encoding="utf-8")
             for name in ("cheatsheet", "study-guide", "flashcards")]
    root = templates.resolve()
    for html in pages:
        HTML(string=html, base_url=root.as_uri() + "/",
             url_fetcher=_locked_fetcher(Templates(templates), root, (source / "media",), []),
             ).write_pdf()
    model = Model(MODEL_ID, "deckgen Q&A", fields=[{"name": f} for f in FIELDS],
                  templates=[{"name": "Q", "qfmt": looks.front, "afmt": looks.back}],
                  css=looks.css)
    decks: dict[str, Deck] = {}
    for label, fields, guid in notes:
        deck = decks.setdefault(label, Deck(len(decks) + 1, label))
        deck.add_note(Note(model=model, fields=fields, guid=guid))
    Package(list(decks.values())).write_to_file(str(out.parent / "floor.apkg"),
                                               timestamp=1_700_000_000)


def edit_answer(source: Path, run: int) -> None:
    """Change one sentence of the first answer of the middle category file."""
    files = sorted(source.glob("[0-9]*.yaml"))
    path = files[len(files) // 2]
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.strip().startswith("answer:"):
            block = line.strip() == "answer: |"
            at = i + 1 if block else i
            lines[at] = lines[at].rstrip("\n") + f" Edit {run}.\n"
            break
    path.write_text("".join(lines), encoding="utf-8")


def edit_gist(source: Path, run: int) -> None:
    """Change the gist of the first core entry of the middle category file."""
    files = sorted(source.glob("[0-9]*.yaml"))
    path = files[len(files) // 2]
    text = path.read_text(encoding="utf-8")
    entries = text.split("\n  - id: ")
    for n, entry in enumerate(entries[1:], start=1):
        if "level: advanced" in entry or "\n    gist: " not in entry:
            continue
        head, rest = entry.split("\n    gist: ", 1)
        gist, tail = [*rest.split("\n", 1), ""][:2]
        if gist.startswith(("|", ">", "'", '"')):
            continue
        entries[n] = f"{head}\n    gist: {gist} Edit {run}.\n{tail}"
        break
    path.write_text("\n  - id: ".join(entries), encoding="utf-8")


def measure_source(name: str, source: Path, work: Path, runs: int) -> dict[str, Any]:
    project = work / name
    shutil.copytree(source, project / "source", ignore=shutil.ignore_patterns("deckgen.lock"))
    from deckgen.resources import copy_defaults

    copy_defaults(project / "templates")
    cache = work / f"cache-{name}"
    env = {**os.environ, "DECKGEN_CACHE_DIR": str(cache)}
    out = project / "build"

    def command(folder: Path) -> list[str]:
        return [sys.executable, "-m", "deckgen", "build", "--source", str(project / "source"),
                "--out", str(folder), "--templates", str(project / "templates"), "-q"]

    timed(command(work / f"warm-{name}"), env)  # typesets every formula once: not measured
    samples: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache / "parts", ignore_errors=True)
        samples["full"].append(timed(command(out), env))
        samples["floor"].append(timed(
            [sys.executable, __file__, "--floor", str(out), str(project / "source"),
             str(project / "templates")], env))
    for _ in range(runs):
        samples["no-op"].append(timed(command(out), env))
    for n in range(runs):
        edit_answer(project / "source", n)
        samples["answer"].append(timed(command(out), env))
    for n in range(runs):
        edit_gist(project / "source", n)
        samples["gist"].append(timed(command(out), env))
    css = project / "templates" / "anki" / "card.css"
    for n in range(runs):
        css.write_text(css.read_text(encoding="utf-8") + f"\n/* edit {n} */\n", encoding="utf-8")
        samples["card-css"].append(timed(command(out), env))
    row = {kind: {"seconds": statistics.median(s["seconds"] for s in samples[kind]),
                  "peak_mb": max(s["peak_mb"] for s in samples[kind]), "runs": runs}
           for kind in KINDS}
    for kind in KINDS:
        print(f"{name:<8} {kind:<9} {row[kind]['seconds']:8.2f} s {row[kind]['peak_mb']:7.0f} MB  "
              f"(median of {runs})", flush=True)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", default="guide,1000",
                        help="'guide' (this repository's source) and/or synthetic entry counts "
                        "(default: guide,1000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--floor", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.floor:
        floor_child(*(Path(a) for a in args.floor))
        return
    started = time.perf_counter()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="deckgen-edits-") as tmp:
        for name in args.sources.split(","):
            if name == "guide":
                source = ROOT / "source"
            else:
                source = Path(tmp) / f"synthetic-{name}"
                make_source(source, int(name))
            results[name] = measure_source(name, source, Path(tmp), args.runs)
    print()
    for name, row in results.items():
        for kind, base, limit in TARGETS:
            ratio = row[kind]["seconds"] / row[base]["seconds"]
            met = "ok  " if ratio <= limit else "MISS"
            what = f"{name}: {kind} / {base}"
            print(f"{met} {what:<28} {ratio:6.3f}  (target <= {limit})")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
