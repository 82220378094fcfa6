"""The store's tables. One DuckDB file holds a whole release; see README.md, "The store".

Attribute columns of `records` are named after the codebook's attributes. Those names come
from the data owner's file (checked at load: no control characters, ':' or ';'), never from a
dashboard user, and are always quoted with `quote_ident`.
"""

from __future__ import annotations

# Version 1 stores lack the release metadata and the codebook's group_label, role, party and pair
# columns (all added at the end of their tables); the reader takes them as not said. Stores
# written before #12 lack the table quality_deviations and hold quality in older metrics: the
# reader finds no deviations and the About page shows whatever metrics there are.
SCHEMA_VERSION = 1

# The quality figures a built release holds (see synth_engine/noise_units.py and README.md).
PUBLIC_COMPARISON = "synthetic_vs_protected"
DEVIATION_METRICS = ("measured_combinations", "mean_abs_z", "within_noise_95_pct", "max_abs_z", "mean_relative_error")
UNLISTED_METRICS = ("unlisted_combinations", "unlisted_beyond_noise", "fabricated_pct", "suppressed_pct")

TABLES = (
    "release",
    "release_lengths",
    "codebook",
    "codebook_values",
    "records",
    "aggregates",
    "aggregate_items",
    "quality",
)
LATER_TABLES = ("quality_deviations", "codebook_texts")  # every new store has them; older ones may not

FIXED_DDL = """
CREATE TABLE release (
    schema_version INTEGER NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,                 -- 'built' by synth_engine, or 'imported' from a published release
    epsilon DOUBLE,                        -- total privacy budget (NULL when unknown)
    delta DOUBLE,
    reporting_length INTEGER,              -- longest protected combination
    protected_record_count BIGINT,         -- differentially private number of records
    synthetic_record_count BIGINT NOT NULL,
    synthesizer VARCHAR,
    engine_version VARCHAR NOT NULL,
    seed BIGINT,                           -- only when the data owner gave one
    built_at TIMESTAMP NOT NULL,
    source VARCHAR NOT NULL,               -- file name(s) the release was made from
    is_demonstration BOOLEAN NOT NULL,
    has_aggregates BOOLEAN NOT NULL,
    parameters JSON NOT NULL,              -- every other public parameter of the build
    title VARCHAR,                         -- what the release says about itself (NULL: not said) ...
    publisher VARCHAR,
    source_url VARCHAR,                    -- where it is published
    licence VARCHAR,
    citation VARCHAR,
    release_date DATE,
    version VARCHAR
);
CREATE TABLE release_lengths (
    length INTEGER PRIMARY KEY,
    sigma DOUBLE,                          -- σ_k of the budget split
    sensitivity INTEGER,                   -- Δ_k, contributions allowed per record
    noise_sd DOUBLE,                       -- σ_k·√Δ_k, standard deviation of the noise added
    threshold DOUBLE,                      -- noisy counts at or below were dropped
    combinations BIGINT NOT NULL           -- protected combinations released at this length
);
CREATE TABLE codebook (
    position INTEGER NOT NULL,
    attribute VARCHAR PRIMARY KEY,
    label VARCHAR NOT NULL,
    description VARCHAR NOT NULL,
    group_name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,                 -- categorical, ordinal, flag, year, country
    group_label VARCHAR,                   -- the group's title
    role VARCHAR,                          -- origin or destination of a movement, '' otherwise
    party VARCHAR,                         -- whose attribute (victim, perpetrator, ...), '' when unknown
    pair VARCHAR                           -- the attribute at the movement's other end
);
CREATE TABLE codebook_values (
    attribute VARCHAR NOT NULL,
    position INTEGER NOT NULL,             -- 1-based order of the value (young to old, early to late ...)
    value VARCHAR NOT NULL,                -- as in the CSV and in combination keys
    label VARCHAR NOT NULL,
    PRIMARY KEY (attribute, position)
);
CREATE TABLE codebook_texts (             -- the codebook in other languages, as the release gives it
    attribute VARCHAR NOT NULL,
    language VARCHAR NOT NULL,             -- a language code, e.g. fr
    value VARCHAR,                         -- NULL: the attribute's own title and description
    label VARCHAR NOT NULL,
    description VARCHAR                    -- one row per (attribute, language, value): the writer's rule
);
CREATE TABLE aggregates (
    combo_id INTEGER PRIMARY KEY,
    key VARCHAR NOT NULL,                  -- attr:value;attr:value, items sorted as text
    length INTEGER NOT NULL,
    protected_count BIGINT NOT NULL
);
CREATE TABLE aggregate_items (
    combo_id INTEGER NOT NULL,
    attribute VARCHAR NOT NULL,
    value VARCHAR NOT NULL
);
CREATE TABLE quality (
    comparison VARCHAR NOT NULL,           -- what is compared with what: 'synthetic_vs_protected'
    metric VARCHAR NOT NULL,               -- mean_abs_z, within_noise_95_pct, unlisted_beyond_noise ...
    length INTEGER,                        -- NULL: over all lengths
    bucket_low BIGINT,                     -- bucket of protected counts [low, 10·low) (10 000: and above)
    value DOUBLE
);
CREATE TABLE quality_deviations (
    comparison VARCHAR NOT NULL,
    rank INTEGER NOT NULL,                 -- 1: the combination furthest from its reference count
    length INTEGER NOT NULL,
    key VARCHAR NOT NULL,                  -- attr:value;attr:value, as in aggregates
    reference_count BIGINT NOT NULL,       -- the protected count
    compared_count BIGINT NOT NULL,        -- the synthetic records' count
    z DOUBLE NOT NULL,                     -- (compared − reference) / noise sd of the length
    PRIMARY KEY (comparison, rank)
);
"""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def enum_type_name(position: int) -> str:
    return f"attribute_{position}_values"
