"""Import a published release (synthetic microdata, and optionally its aggregates file and its
codebook file) into a store."""

from __future__ import annotations

import os
from collections.abc import Callable

from data.aggregates import aggregates_from_file, parse_aggregates_file
from data.codebook_file import read_codebook_file
from data.dataset import ItemSpace, load_csv
from data.release_meta import ReleaseMetadata
from data.writer import Release, write_store
from synth_engine import __version__


def import_release(
    microdata: str,
    out: str,
    aggregates: str | None = None,
    name: str | None = None,
    demonstration: bool = False,
    epsilon: float | None = None,
    delta: float | None = None,
    codebook: str | None = None,
    metadata: ReleaseMetadata = ReleaseMetadata(),
    warn: Callable[[str], None] | None = None,
) -> Release:
    """Write the store and return its release. `metadata` overrides what the codebook file
    says; `warn` gets one line per column that did not fit the built-in codebook."""
    described = read_codebook_file(codebook) if codebook else None
    parsed = parse_aggregates_file(aggregates) if aggregates else None
    # Values that only the aggregates show still belong in the codebook; a value outside a
    # column's fixed set is left out by load_csv, and aggregates_from_file names its line.
    extra = parsed.values_by_attribute() if parsed else {}
    records = load_csv(microdata, extra_values=extra, codebook_file=described)
    protected = aggregates_from_file(parsed, ItemSpace(records.codebook), aggregates) if parsed else None
    sources = [os.path.basename(p) for p in (microdata, aggregates, codebook) if p]
    meta = (described.release if described else ReleaseMetadata()).overridden_by(metadata)
    release = Release(
        name=name or meta.title or os.path.splitext(os.path.basename(microdata))[0],
        kind="imported",
        source=", ".join(sources),
        is_demonstration=demonstration,
        engine_version=__version__,
        epsilon=epsilon,
        delta=delta,
        reporting_length=protected.reporting_length if protected else None,
        protected_record_count=protected.record_count if protected else None,
        parameters={"imported_from": sources},
        metadata=meta,
    )
    write_store(out, records, release, protected)
    for line in records.load_warnings if warn else ():
        warn(line)
    return release
