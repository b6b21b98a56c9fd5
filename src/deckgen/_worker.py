"""Preloaded by the server that starts deckgen's worker processes (never imported by a build).

What it imports every worker has from the start. A worker that is still starting when the build
stops (Ctrl-C) finds its parent's semaphores gone; the server would print that traceback to the
terminal, so start-up failures of that kind are left unsaid: the build reports the interrupt.
"""

from __future__ import annotations

import sys
from types import TracebackType

import weasyprint  # noqa: F401  (most of a second: once here, not in every worker)

import deckgen.parts  # noqa: F401

_report = sys.excepthook


def _quiet(kind: type[BaseException], value: BaseException, trace: TracebackType | None) -> None:
    if issubclass(kind, (OSError, EOFError)):
        return
    _report(kind, value, trace)


sys.excepthook = _quiet
