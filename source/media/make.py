"""Draw the deck's plots from published formulas and numbers: `python source/media/make.py`.

Each plot is written as SVG next to this script, with its source in the caption. The output is
deterministic (fixed hash salt, no dates, text as paths), so a re-run gives the committed bytes;
tests/test_figures.py checks that. Needs matplotlib (in deckgen's `test` extra).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("svg")
import matplotlib.pyplot as plt
import numpy as np

HERE = Path(__file__).resolve().parent
INK = "#1d232a"
MUTED = "#59616b"
BLUE = "#1f5fa8"
ORANGE = "#b3401c"
GREEN = "#2b7a3d"
PURPLE = "#7a3fa0"

plt.rcParams.update({
    "svg.hashsalt": "deckgen",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "font.size": 12,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "figure.facecolor": "none",
    "axes.facecolor": "none",
    "savefig.facecolor": "none",
    "path.simplify": False,
})


def _figure() -> tuple[plt.Figure, plt.Axes]:
    fig, ax = plt.subplots(figsize=(4.4, 3.3), dpi=72)
    return fig, ax


def _caption(fig: plt.Figure, text: str) -> None:
    fig.text(0.01, 0.015, text, fontsize=10, color=MUTED, ha="left", va="bottom")


def chinchilla_frontier() -> plt.Figure:
    """Loss against training compute for fixed model sizes, from Chinchilla's parametric fit."""
    e, a, b, alpha, beta = 1.69, 406.4, 410.7, 0.34, 0.28
    fig, ax = _figure()
    compute = np.logspace(18, 25, 120)
    for n, colour in ((4e8, GREEN), (2.8e9, BLUE), (7e10, ORANGE)):
        d = compute / (6 * n)
        loss = e + a / n**alpha + b / d**beta
        ax.plot(compute, loss, color=colour, lw=1.6, label=f"N = {n / 1e9:g}B")
    # The envelope: the loss-minimizing N for each C (closed form of the fit).
    g = (alpha * a / (beta * b)) ** (1 / (alpha + beta))
    n_opt = g * (compute / 6) ** (beta / (alpha + beta))
    d_opt = compute / (6 * n_opt)
    ax.plot(compute, e + a / n_opt**alpha + b / d_opt**beta, color=INK, lw=2.2, ls="--",
            label="compute-optimal")
    chinchilla = 6 * 70e9 * 1.4e12
    ax.plot([chinchilla], [e + a / 70e9**alpha + b / 1.4e12**beta], "o", color=ORANGE, ms=6)
    ax.annotate("Chinchilla\n70B, 1.4T tokens", (chinchilla, 1.95), xytext=(2e22, 2.6),
                fontsize=10, color=ORANGE, arrowprops={"arrowstyle": "-", "color": ORANGE})
    ax.axhline(e, color=MUTED, lw=1, ls=":")
    ax.text(1.3e18, e + 0.03, "E = 1.69", color=MUTED, fontsize=10)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(1.6, 5.0)
    ax.set_yticks([2, 3, 4, 5], labels=["2", "3", "4", "5"])
    ax.minorticks_off()
    ax.set_xticks([1e18, 1e20, 1e22, 1e24])
    ax.set_xlabel("compute C = 6ND (FLOPs)")
    ax.set_ylabel("predicted loss")
    ax.legend(frameon=False, fontsize=10, loc="upper right")
    fig.subplots_adjust(left=0.15, right=0.95, top=0.97, bottom=0.3)
    _caption(fig, "Hoffmann et al. 2022, Approach 3 fit:\n"
                  "L = 1.69 + 406.4/N^0.34 + 410.7/D^0.28")
    return fig


def lr_schedules() -> plt.Figure:
    """Warmup + cosine (GPT-3 style) against warmup-stable-decay (MiniCPM style)."""
    fig, ax = _figure()
    steps = np.linspace(0, 1, 501)
    warm = 0.02
    cosine = np.where(steps < warm, steps / warm,
                      0.1 + 0.9 * 0.5 * (1 + np.cos(np.pi * (steps - warm) / (1 - warm))))
    decay_start = 0.9
    wsd = np.where(steps < warm, steps / warm,
                   np.where(steps < decay_start, 1.0,
                            1.0 - 0.9 * (steps - decay_start) / (1 - decay_start)))
    ax.plot(steps * 100, cosine, color=BLUE, lw=2, label="cosine to 10%")
    ax.plot(steps * 100, wsd, color=ORANGE, lw=2, label="WSD")
    ax.axvspan(decay_start * 100, 100, color=ORANGE, alpha=0.08, lw=0)
    ax.text(decay_start * 100 - 1.5, 0.5, "decay", color=ORANGE, fontsize=10, ha="right")
    ax.set_xlim(0, 100)
    ax.set_ylim(0, 1.08)
    ax.set_xlabel("training progress (% of tokens)")
    ax.set_ylabel("learning rate / peak")
    ax.legend(frameon=False, fontsize=10, loc="lower left", bbox_to_anchor=(0, 0.02),
              handlelength=1.5)
    fig.subplots_adjust(left=0.15, right=0.95, top=0.97, bottom=0.3)
    _caption(fig, "Cosine: GPT-3 (Brown et al. 2020). WSD with\n"
                  "a 10% decay: MiniCPM (Hu et al. 2024).")
    return fig


def kv_cache_growth() -> plt.Figure:
    """KV-cache size per sequence against context length, MHA against GQA."""
    fig, ax = _figure()
    tokens = np.linspace(0, 128_000, 2)

    def gigabytes(layers: int, kv_heads: int, head_dim: int) -> np.ndarray:
        return 2 * layers * kv_heads * head_dim * tokens * 2 / 1e9  # fp16: 2 bytes a value

    ax.plot(tokens / 1000, gigabytes(32, 32, 128), color=ORANGE, lw=2,
            label="MHA, 32 KV heads")
    ax.plot(tokens / 1000, gigabytes(32, 8, 128), color=BLUE, lw=2,
            label="GQA, 8 KV heads")
    ax.axhline(16, color=MUTED, lw=1, ls=":")
    ax.text(2, 17.5, "8B weights in fp16", color=MUTED, fontsize=10)
    ax.set_xlim(0, 128)
    ax.set_ylim(0, 70)
    ax.set_xticks([0, 32, 64, 96, 128])
    ax.set_xlabel("context length (thousand tokens)")
    ax.set_ylabel("KV cache (GB)")
    ax.legend(frameon=False, fontsize=10, loc="upper left")
    fig.subplots_adjust(left=0.15, right=0.95, top=0.97, bottom=0.3)
    _caption(fig, "fp16, 32 layers, head dim 128: Llama 2 7B (MHA)\n"
                  "and Llama 3 8B (GQA). One sequence.")
    return fig


PLOTS: dict[str, Callable[[], plt.Figure]] = {
    "chinchilla-frontier.svg": chinchilla_frontier,
    "lr-schedules.svg": lr_schedules,
    "kv-cache-growth.svg": kv_cache_growth,
}


def render(name: str) -> bytes:
    """The SVG bytes of one plot."""
    fig = PLOTS[name]()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    plt.close(fig)
    return buffer.getvalue()


def main(out: Path = HERE) -> None:
    for name in PLOTS:
        (out / name).write_bytes(render(name))
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else HERE)
