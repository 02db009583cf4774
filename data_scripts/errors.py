"""Bad-input handling: one exception class and a log of what ``--lenient`` repaired or skipped."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


class CorpusFormatError(ValueError):
    """The raw corpus is malformed; the message starts with ``FILE:LINE:``.

    ``line`` is a line number, or a location string where the source has no useful line (GENIA
    names the document or sentence, ``MEDLINE:123-4``).
    """

    def __init__(self, path: str | Path, line: int | str, message: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        super().__init__(f"{self.path}:{line}: {message}")


#: How many individual messages an :class:`IssueLog` keeps for the report.
MAX_EXAMPLES = 20


@dataclass
class IssueLog:
    """Decides what happens to a problem and counts every repair and skip.

    In strict mode (the default) every problem is raised.  In lenient mode it is repaired or the
    smallest enclosing unit is skipped, and counted: nothing is dropped silently.  A *corpus quirk*
    is a known, documented defect of a named corpus (e.g. Weibo's ``I-`` tags without ``B-``) that
    is always repaired the standard way, and also counted.
    """

    lenient: bool = False
    repaired: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def repair(self, error: CorpusFormatError, kind: str, quirk: bool = False) -> None:
        """Record a repair of ``kind``; raise ``error`` instead unless lenient or a known quirk."""
        if not (self.lenient or quirk):
            raise error
        self.repaired[kind] += 1
        self._keep(f"repaired ({kind}): {error}")

    def skip(self, error: CorpusFormatError, unit: str) -> None:
        """Record that one ``unit`` (sentence, entity, ...) is skipped; raise unless lenient."""
        if not self.lenient:
            raise error
        self.skipped[unit] += 1
        self._keep(f"skipped {unit}: {error}")

    def _keep(self, message: str) -> None:
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(message)

    @property
    def empty(self) -> bool:
        """True when nothing was repaired or skipped."""
        return not (self.repaired or self.skipped)

    def summary_lines(self) -> list[str]:
        """Human-readable counts, one line per kind, then the first few messages."""
        lines = [f"repaired {n} x {kind}" for kind, n in sorted(self.repaired.items())]
        lines += [f"skipped {n} x {unit}" for unit, n in sorted(self.skipped.items())]
        if self.examples:
            lines.append(f"first {len(self.examples)} messages:")
            lines += [f"  {message}" for message in self.examples]
        return lines

    def warn(self) -> None:
        """Print the counts to stderr when anything was repaired or skipped."""
        if self.empty:
            return
        print("WARNING: the input had problems that were repaired or skipped:", file=sys.stderr)
        for line in self.summary_lines():
            print(f"  {line}", file=sys.stderr)
