"""Dataset sizes of the generator presets.

==========  =====================================  ==================================  ===============
preset      PIDray train / easy / hard / hidden    SIXray positives / negatives         use
==========  =====================================  ==================================  ===============
tiny        48 / 12 / 12 / 12                      40 / 120                             tests
demo        600 / 100 / 50 / 50                    40 / 120                             the demo
small       1200 / 200 / 200 / 200                 500 / 2000                           CPU experiments
medium      8000 / 1000 / 1000 / 1000              3000 / 15000                         GPU experiments
==========  =====================================  ==================================  ===============
"""

from __future__ import annotations

from dataclasses import dataclass

from segloc.errors import ConfigError


@dataclass(frozen=True)
class Preset:
    """Image counts of one preset; sixray1000_per_class is the SIXray1000 positives drawn per class."""

    name: str
    pidray: dict[str, int]
    sixray_positives: int
    sixray_negatives: int
    sixray1000_per_class: int

    @property
    def total(self) -> int:
        """Number of scans the preset generates."""
        return sum(self.pidray.values()) + self.sixray_positives + self.sixray_negatives


PRESETS = {
    "tiny": Preset("tiny", {"train": 48, "easy": 12, "hard": 12, "hidden": 12}, 40, 120, 4),
    "demo": Preset("demo", {"train": 600, "easy": 100, "hard": 50, "hidden": 50}, 40, 120, 4),
    "small": Preset("small", {"train": 1200, "easy": 200, "hard": 200, "hidden": 200}, 500, 2000, 50),
    "medium": Preset("medium", {"train": 8000, "easy": 1000, "hard": 1000, "hidden": 1000}, 3000, 15000, 300),
}


def get_preset(name: str) -> Preset:
    """The preset called `name`; a clear error lists the known ones."""
    if name not in PRESETS:
        raise ConfigError(f"unknown generator preset {name!r}; choose one of: {', '.join(PRESETS)}")
    return PRESETS[name]
