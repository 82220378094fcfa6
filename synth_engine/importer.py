"""Import a published release (synthetic microdata, and optionally its aggregates file) into a store."""
from __future__ import annotations

import os

from data.aggregates import aggregates_from_file, parse_aggregates_file
from data.codebook import fixed_domain
from data.dataset import ItemSpace, load_csv
from data.writer import Release, write_store
from synth_engine import __version__


def import_release(microdata: str, out: str, aggregates: str | None = None, name: str | None = None,
                   demonstration: bool = False, epsilon: float | None = None,
                   delta: float | None = None) -> Release:
    parsed = parse_aggregates_file(aggregates) if aggregates else None
    # Values that only the aggregates show still belong in the codebook; a value outside a
    # column's fixed set is left out here, and aggregates_from_file names its line.
    extra = {attribute: {v for v in values if _allowed(attribute, v)}
             for attribute, values in (parsed.values_by_attribute() if parsed else {}).items()}
    records = load_csv(microdata, extra_values=extra)
    protected = aggregates_from_file(parsed, ItemSpace(records.codebook), aggregates) if parsed else None
    sources = [os.path.basename(microdata)] + ([os.path.basename(aggregates)] if aggregates else [])
    release = Release(
        name=name or os.path.splitext(os.path.basename(microdata))[0],
        kind="imported",
        source=", ".join(sources),
        is_demonstration=demonstration,
        engine_version=__version__,
        epsilon=epsilon,
        delta=delta,
        reporting_length=protected.reporting_length if protected else None,
        protected_record_count=protected.record_count if protected else None,
        parameters={"imported_from": sources},
    )
    write_store(out, records, release, protected)
    return release


def _allowed(attribute: str, value: str) -> bool:
    domain = fixed_domain(attribute)
    return domain is None or value in domain
