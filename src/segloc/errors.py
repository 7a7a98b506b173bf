"""Errors segloc raises on bad input, each naming the file and the record at fault."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("segloc")


class SeglocError(Exception):
    """Base class of every error segloc raises on purpose."""


class DatasetError(SeglocError):
    """A dataset file or record is missing, corrupt or inconsistent."""


class ConfigError(SeglocError):
    """A configuration file or override is invalid."""


@dataclass
class BadRecords:
    """Collects broken records: raises at the first one, or (skip_bad) counts them and warns once.

    Large datasets usually have a few broken records; with ``skip_bad`` the run goes on and the
    user gets one warning with the count instead of a crash hours in.
    """

    source: Path | str
    skip_bad: bool = False
    problems: list[str] = field(default_factory=list)

    def report(self, message: str) -> None:
        """Record one broken record; raise immediately unless skipping."""
        if not self.skip_bad:
            raise DatasetError(f"{self.source}: {message}")
        self.problems.append(message)

    def report_error(self, error: DatasetError) -> None:
        """Record a broken record whose error already names its file; re-raise it unless skipping."""
        if not self.skip_bad:
            raise error
        self.problems.append(str(error))

    def warn_summary(self) -> None:
        """Emit a single warning with the number of skipped records and the first few reasons."""
        if self.problems:
            shown = "; ".join(self.problems[:3])
            more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
            log.warning("%s: skipped %d bad record(s): %s%s", self.source, len(self.problems), shown, more)
