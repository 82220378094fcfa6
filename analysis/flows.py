"""Flows from an origin to a destination (citizenship → country of exploitation, region of origin →
region of exploitation): each flow's synthetic count under the filter, beside its protected count.

The synthetic counts come from one cached pass over the records' codes (`pair_counts`, as the
cross-tab); the protected count of a flow is that of the combination (the other filters, origin =
a, destination = b) — of length 2 without other filters — worked out by analysis/comparability.py,
which also says why a flow has none (suppressed, beyond the reporting length). No Dash, no SQL.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from analysis import comparability as cmp
from analysis.explore_counts import Context
from data.codebook import Attribute, Codebook
from data.store import Filter

TOP_FLOWS = 12                    # flows drawn one by one; the rest are summed into "other flows"

# Until the codebook carries roles: an attribute's role read from its name, as the codebook
# branch infers it for CTDC's columns (citizenship → country of exploitation).
_ORIGIN_NAME = re.compile(r"origin|citizenship|nationality|birth", re.IGNORECASE)
_DESTINATION_NAME = re.compile(r"exploitation|destination", re.IGNORECASE)
_PLACE_KINDS = ("country", "categorical")


def flow_pairs(codebook: Codebook) -> list[tuple[Attribute, Attribute]]:
    """The (origin, destination) attribute pairs of a codebook: per kind of place, the one
    attribute named as an origin with the one named as a destination."""
    pairs = []
    for kind in _PLACE_KINDS:
        places = [a for a in codebook if a.kind == kind]
        origins = [a for a in places if _ORIGIN_NAME.search(a.name)]
        destinations = [a for a in places if _DESTINATION_NAME.search(a.name) and a not in origins]
        if len(origins) == 1 and len(destinations) == 1:
            pairs.append((origins[0], destinations[0]))
    return pairs


@dataclass(frozen=True)
class Flow:
    origin: str
    destination: str
    comparison: cmp.Comparison      # its synthetic count and protected count

    @property
    def synthetic(self) -> int:
        return self.comparison.synthetic


@dataclass(frozen=True)
class Flows:
    origin: Attribute
    destination: Attribute
    flows: list[Flow]               # the largest, most synthetic records first
    other_records: int              # records of the flows not listed
    other_flows: int                # how many flows those are
    unplaced: int                   # records with the origin or the destination not recorded

    @property
    def placed(self) -> int:
        """Records with both ends recorded."""
        return sum(f.synthetic for f in self.flows) + self.other_records


def flows(ctx: Context, flt: Filter, origin: Attribute, destination: Attribute, top: int = TOP_FLOWS) -> Flows:
    """The flows between `origin` and `destination` under `flt` (its choices on either end apply
    too), the `top` largest compared with their protected counts."""
    pairs = ctx.service.pair_counts(flt, origin.name, destination.name)
    wanted_origins, wanted_destinations = flt.values(origin.name), flt.values(destination.name)
    chosen = {pair: n for pair, n in pairs.items()
              if (not wanted_origins or pair[0] in wanted_origins)
              and (not wanted_destinations or pair[1] in wanted_destinations)}
    placed = sorted(((pair, n) for pair, n in chosen.items() if None not in pair and n),
                    key=lambda item: (-item[1], item[0]))
    shown, rest = placed[:top], placed[top:]
    others = flt.without(origin.name).without(destination.name).as_dict()
    comparisons = ctx.view_comparator.compare_many(
        [({**others, origin.name: [a], destination.name: [b]}, n) for (a, b), n in shown])
    return Flows(origin, destination, [Flow(a, b, c) for ((a, b), _), c in zip(shown, comparisons)],
                 other_records=sum(n for _, n in rest), other_flows=len(rest),
                 unplaced=sum(n for pair, n in chosen.items() if None in pair))
