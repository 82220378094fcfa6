"""Flows from an origin to a destination (citizenship → country of exploitation, region of origin →
region of exploitation), the pairs the codebook's roles make (`Codebook.flows`): each flow's
synthetic count under the filter, beside its protected count.

The synthetic counts come from one cached pass over the records' codes (`pair_counts`, as the
cross-tab); the protected count of a flow is that of the combination (the other filters, origin =
a, destination = b) — of length 2 without other filters — worked out by analysis/comparability.py,
which also says why a flow has none (suppressed, beyond the reporting length). No Dash, no SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from analysis import comparability as cmp
from analysis.explore_counts import Context
from data.codebook import Attribute
from data.store import Filter

TOP_FLOWS = 12  # flows drawn one by one; the rest are summed into "other flows"


@dataclass(frozen=True)
class Flow:
    origin: str
    destination: str
    comparison: cmp.Comparison  # its synthetic count and protected count

    @property
    def synthetic(self) -> int:
        return self.comparison.synthetic


@dataclass(frozen=True)
class Flows:
    origin: Attribute
    destination: Attribute
    flows: list[Flow]  # the largest, most synthetic records first
    other_records: int  # records of the flows not listed
    other_flows: int  # how many flows those are
    unplaced: int  # records with the origin or the destination not recorded

    @property
    def placed(self) -> int:
        """Records with both ends recorded."""
        return sum(f.synthetic for f in self.flows) + self.other_records


def flows(ctx: Context, flt: Filter, origin: Attribute, destination: Attribute, top: int = TOP_FLOWS) -> Flows:
    """The flows between `origin` and `destination` under `flt` (its choices on either end apply
    too), the `top` largest compared with their protected counts."""
    pairs = ctx.service.pair_counts(flt, origin.name, destination.name)
    wanted_origins, wanted_destinations = flt.values(origin.name), flt.values(destination.name)
    chosen = {
        pair: n
        for pair, n in pairs.items()
        if (not wanted_origins or pair[0] in wanted_origins)
        and (not wanted_destinations or pair[1] in wanted_destinations)
    }
    placed = sorted(
        ((pair, n) for pair, n in chosen.items() if None not in pair and n), key=lambda item: (-item[1], item[0])
    )
    shown, rest = placed[:top], placed[top:]
    others = flt.without(origin.name).without(destination.name).as_dict()
    comparisons = ctx.view_comparator.compare_many(
        [({**others, origin.name: [a], destination.name: [b]}, n) for (a, b), n in shown]
    )
    return Flows(
        origin,
        destination,
        [Flow(a, b, c) for ((a, b), _), c in zip(shown, comparisons)],
        other_records=sum(n for _, n in rest),
        other_flows=len(rest),
        unplaced=sum(n for pair, n in chosen.items() if None in pair),
    )
