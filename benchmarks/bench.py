"""Benchmark deckgen's build on synthetic sources of 100, 1,000 and 10,000 entries.

    python benchmarks/bench.py                          # the default run (under 10 minutes)
    python benchmarks/bench.py --sizes 100 --pdf-sizes 100 --runs 1   # a quick look

For each size it reports, as median wall time and peak memory (each measurement in a fresh
process, imports excluded from the time):
  deck-cold  load + validate the source, render the notes, write the .apkg, with empty caches
  deck       the same with the caches of an earlier build (what a rebuild after an edit costs)
  genanki    genanki alone writing the same notes (the deck path's floor)
and, at the --pdf-sizes (WeasyPrint needs minutes for the thousands of pages of 10,000 entries):
  pdf        load the source, render both documents' HTML, WeasyPrint them to PDF
  weasyprint WeasyPrint alone rendering the same HTML (the PDF path's floor)
  build      `deckgen build` into an empty folder (formula cache warm)
  no-op      `deckgen build` again with nothing changed
and checks the targets: deck(10k) <= 12 x deck(1k); deck <= 1.5 x genanki; the PDF path's time per
entry does not grow with size; build <= 1.25 x (weasyprint + genanki); no-op <= 10% of build.
Only public tools are used: the synthetic source is generated here, the floors call genanki and
WeasyPrint directly.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "src" / "deckgen" / "templates"  # the defaults, as shipped

# A pool of real-looking formulas: a big guide repeats notation, so the formula cache is warm.
PDF_KINDS = ["pdf", "weasyprint", "build", "no-op"]
FORMULAS = [
    r"\[ \mathrm{softmax}(z)_i = \frac{e^{z_i}}{\sum_j e^{z_j}} \]",
    r"\[ \mathrm{PPL} = \exp\left(-\frac{1}{N}\sum_{i=1}^{N} \log p(x_i \mid x_{<i})\right) \]",
    r"\[ L(N, D) = E + \frac{A}{N^{\alpha}} + \frac{B}{D^{\beta}} \]",
    r"\[ \hat{m}_t = \frac{m_t}{1 - \beta_1^t} \]",
]
WORDS = ("attention", "model", "token", "layer", "gradient", "loss", "scaling", "data", "training",
         "weight", "head", "context", "embedding", "vector", "norm", "batch", "sample", "decoder",
         "encoder", "probability")


def words(seed: int, count: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(count))


def make_source(folder: Path, entries: int) -> None:
    """A source of `entries` entries over 15 categories, shaped like the real guide."""
    folder.mkdir(parents=True)
    (folder / "deck.yaml").write_text(
        "title: Benchmark Deck\ndescription: Synthetic entries.\n", encoding="utf-8")
    per = [entries // 15 + (1 if c < entries % 15 else 0) for c in range(15)]
    n = 0
    for c, count in enumerate(per, start=1):
        lines = [f"name: Category {c}", f"guide: The guide's line for category {c}.", "entries:"]
        for _ in range(count):
            n += 1
            answer = f"{words(n, 30)} with \\(x_{{{n % 9}}} \\le d_k\\) {words(n + 1, 20)}."
            if n % 10 == 0:
                answer += "\n\n" + FORMULAS[n % len(FORMULAS)] + "\n\n" + words(n + 2, 10) + "."
            lines += [
                f"  - id: entry-{n}",
                f"    term: Term {n}",
                f"    question: What is {words(n, 8)} number {n}?",
                "    answer: |",
                *(f"      {line}" if line else "" for line in answer.splitlines()),
                f"    gist: Gist {n} says {words(n + 3, 9)}.",
            ]
            if n % 3 == 0:
                lines += ["    refs:", f"      - title: Paper {n}", "        author: Author",
                          "        year: 2020"]
        (folder / f"{c:02d}-category-{c}.yaml").write_text("\n".join(lines) + "\n",
                                                          encoding="utf-8")


def measure(kind: str, source: Path, work: Path) -> dict[str, float]:
    """Run one measurement in this process (called in a fresh child); seconds and peak MB."""
    from genanki import Deck, Model, Note, Package
    from weasyprint import HTML

    from deckgen.anki import (
        FIELDS,
        MODEL_ID,
        CardTemplates,
        build_package,
        note_fields,
        note_guid,
    )
    from deckgen.build import BuildOptions, build
    from deckgen.mathsvg import FormulaCache
    from deckgen.pdf import html_to_pdf
    from deckgen.render import environment
    from deckgen.sheet import categories_view, cheatsheet_html, study_guide_html
    from deckgen.source import load_guide
    from deckgen.stamps import Stamps

    options = BuildOptions(source=source, out=work / "build", templates=TEMPLATES)
    if kind in ("genanki", "weasyprint"):  # prepare the same input, untimed
        guide, _ = load_guide(source)
        if kind == "genanki":
            references = environment(TEMPLATES).get_template("anki/references.html.j2")
            looks = CardTemplates.read(TEMPLATES)
            notes = [(c.label, note_fields(e, references), note_guid(e.id))
                     for c in guide.categories for e in c.entries]
        else:
            categories = categories_view(guide, FormulaCache())
            pages = [render(guide, categories, TEMPLATES, "a4")
                     for render in (cheatsheet_html, study_guide_html)]

    started = time.perf_counter()
    if kind in ("deck", "deck-cold"):
        guide, _ = load_guide(source)
        data = build_package(guide, TEMPLATES, Stamps(work / "lock", {}), 1_700_000_000)
        (work / "deck.apkg").write_bytes(data)
    elif kind == "genanki":
        model = Model(MODEL_ID, "deckgen Q&A", fields=[{"name": f} for f in FIELDS],
                      templates=[{"name": "Q", "qfmt": looks.front, "afmt": looks.back}],
                      css=looks.css)
        decks: dict[str, Deck] = {}
        for label, fields, guid in notes:
            deck = decks.setdefault(label, Deck(len(decks) + 1, label))
            deck.add_note(Note(model=model, fields=fields, guid=guid))
        Package(list(decks.values())).write_to_file(str(work / "genanki.apkg"),
                                                   timestamp=1_700_000_000)
    elif kind == "pdf":
        guide, _ = load_guide(source)
        categories = categories_view(guide, FormulaCache())
        for render in (cheatsheet_html, study_guide_html):
            html_to_pdf(render(guide, categories, TEMPLATES, "a4"), TEMPLATES)
    elif kind == "weasyprint":
        for html in pages:
            HTML(string=html, base_url=str(TEMPLATES) + "/").write_pdf()
    elif kind in ("build", "no-op"):
        build(options)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"seconds": seconds, "peak_mb": peak_mb}


def child(kind: str, source: Path, work: Path, cache: Path | None = None) -> dict[str, float]:
    env = {**os.environ, **({"DECKGEN_CACHE_DIR": str(cache)} if cache else {})}
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(source), str(work)],
        check=True, capture_output=True, text=True, env=env).stdout
    result: dict[str, float] = json.loads(output.strip().splitlines()[-1])
    return result


def run(sizes: list[int], pdf_sizes: list[int], runs: int, big_runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="deckgen-bench-") as tmp:
        for size in sizes:
            source = Path(tmp) / f"source-{size}"
            make_source(source, size)
            kinds = ["deck-cold", "deck", "genanki"]
            if size in pdf_sizes:
                kinds += PDF_KINDS
                child("pdf", source, Path(tmp))  # fill the formula cache; not measured
            child("deck", source, Path(tmp))  # fill the parse and fields caches; not measured
            row: dict[str, Any] = {}
            for kind in kinds:
                # A PDF of 1,000 entries takes most of a minute: fewer runs keep the whole
                # benchmark under 10 minutes on two cores.
                heavy = size >= 10_000 or (size >= 1_000 and kind in PDF_KINDS)
                repeats = big_runs if heavy else runs
                samples = []
                for n in range(repeats):
                    work = Path(tmp) / f"work-{size}-{n}"  # build then no-op share a folder
                    work.mkdir(exist_ok=True)
                    cache = Path(tmp) / f"cold-{size}-{n}" if kind == "deck-cold" else None
                    samples.append(child(kind, source, work, cache))
                row[kind] = {
                    "seconds": statistics.median(s["seconds"] for s in samples),
                    "peak_mb": max(s["peak_mb"] for s in samples),
                    "runs": repeats,
                }
                print(f"{size:>6} entries  {kind:<10} {row[kind]['seconds']:8.2f} s "
                      f"{row[kind]['peak_mb']:7.0f} MB  (median of {repeats})", flush=True)
            results[str(size)] = row
    return results


def targets(results: dict[str, Any]) -> list[tuple[str, float, float, bool]]:
    """(what, measured, limit, met) for each target the figures allow checking."""
    checks = []
    sizes = sorted(int(s) for s in results)
    for size in sizes:
        row = results[str(size)]
        deck_ratio = row["deck"]["seconds"] / row["genanki"]["seconds"]
        checks.append((f"{size}: deck / genanki", deck_ratio, 1.5, deck_ratio <= 1.5))
        if "build" not in row:
            continue
        floor = row["weasyprint"]["seconds"] + row["genanki"]["seconds"]
        build_ratio = row["build"]["seconds"] / floor
        checks.append((f"{size}: build / (weasyprint + genanki)", build_ratio, 1.25,
                       build_ratio <= 1.25))
        noop_share = row["no-op"]["seconds"] / row["build"]["seconds"]
        checks.append((f"{size}: no-op / build", noop_share, 0.10, noop_share <= 0.10))
    if 1000 in sizes and 10000 in sizes:
        growth = results["10000"]["deck"]["seconds"] / results["1000"]["deck"]["seconds"]
        checks.append(("deck(10k) / deck(1k)", growth, 12.0, growth <= 12.0))
    pdf_sizes = [s for s in sizes if "pdf" in results[str(s)]]
    for small, big in itertools.pairwise(pdf_sizes):
        per_small = results[str(small)]["pdf"]["seconds"] / small
        per_big = results[str(big)]["pdf"]["seconds"] / big
        ratio = per_big / per_small
        checks.append((f"pdf time per entry, {big} / {small}", ratio, 1.0, ratio <= 1.05))
    return checks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000",
                        help="comma-separated entry counts (default: 100,1000,10000)")
    parser.add_argument("--pdf-sizes", default="100,1000",
                        help="sizes at which the PDF path is measured too (default: 100,1000; "
                        "10,000 adds about 25 minutes)")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (default 3)")
    parser.add_argument("--big-runs", type=int, default=1,
                        help="runs per measurement of the PDF path from 1,000 entries and of "
                        "everything from 10,000 (default 1)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, source, work = args.child
        print(json.dumps(measure(kind, Path(source), Path(work))))
        return
    started = time.perf_counter()
    sizes = [int(s) for s in args.sizes.split(",")]
    pdf_sizes = [int(s) for s in args.pdf_sizes.split(",") if s]
    results = run(sizes, pdf_sizes, args.runs, args.big_runs)
    print()
    for what, measured, limit, met in targets(results):
        print(f"{'ok  ' if met else 'MISS'} {what:<42} {measured:6.2f}  (target <= {limit})")
    print(f"\nbenchmark took {time.perf_counter() - started:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
