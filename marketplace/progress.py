"""A tiny terminal progress bar for management commands (seeding, benchmarks)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import TextIO, TypeVar

T = TypeVar("T")


class Progress:
    """Draws ``label [#####.....] 42/100 3.1s`` on one line, redrawn in place."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, width: int = 30):
        self.total = max(total, 1)
        self.label = label
        self.stream = stream or sys.stdout
        self.width = width
        self.done = 0
        self.started = time.monotonic()

    def advance(self, step: int = 1) -> None:
        self.done = min(self.total, self.done + step)
        self._draw()

    def _draw(self) -> None:
        filled = int(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.monotonic() - self.started
        end = "\n" if self.done >= self.total else ""
        self.stream.write(f"\r{self.label:<24} [{bar}] {self.done}/{self.total} {elapsed:5.1f}s{end}")
        self.stream.flush()

    def finish(self) -> None:
        if self.done < self.total:
            self.done = self.total
            self._draw()


def progress(
    items: Iterable[T], label: str, total: int | None = None, stream: TextIO | None = None
) -> Iterator[T]:
    """Yield ``items`` while drawing a progress bar."""
    seq = list(items) if total is None else items
    bar = Progress(total if total is not None else len(seq), label, stream)  # type: ignore[arg-type]
    for item in seq:
        yield item
        bar.advance()
    bar.finish()
