"""What a synthesizer returns, shared by the SDS sampler and the default synthesizer."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SynthesisResult:
    codes: np.ndarray  # (records, attributes) uint16, 0 = missing
    synthesizer: str
    settings: dict = field(default_factory=dict)  # public settings, recorded with the release
    stats: dict = field(default_factory=dict)  # diagnostics for the summary (no sensitive input)


def no_progress(_n=1):
    pass
