"""The downloadable files: records as CSV or Parquet (streamed batch by batch), the protected
aggregates in Synthetic Data Showcase's format, the codebook (CSV, Markdown, and a Data Package
descriptor, `datapackage.json`, that `import-release --codebook` reads back) and the data card.

Nothing here queries the store directly: the batches come from `Store.record_batches` and
`Store.aggregate_rows`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterable, Iterator

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from data.aggregates import aggregates_text
from data.codebook import Codebook
from data.codebook_file import descriptor_of
from data.release_meta import FIELDS as META_FIELDS
from data.release_meta import release_texts


def filename(release: dict, what: str, extension: str) -> str:
    """e.g. `gsd-demonstration-release-records-filtered.csv`: names the release, and says
    "demonstration" whenever the release is one."""
    return f"{release_texts(release)['file_stem']}-{what}.{extension}"


class _Drain(io.RawIOBase):
    """A write-only file that hands out what was written since the last `take()`."""

    def __init__(self):
        self._parts: list[bytes] = []
        self._written = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        chunk = bytes(data)
        self._parts.append(chunk)
        self._written += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._written

    def take(self) -> bytes:
        out = b"".join(self._parts)
        self._parts.clear()
        return out


def csv_stream(batches: Iterable[pa.RecordBatch], columns: list[str]) -> Iterator[bytes]:
    """CSV with a header row; missing values are empty cells, quotes only where needed."""
    sink = _Drain()
    schema = pa.schema([(c, pa.string()) for c in columns])
    with pa_csv.CSVWriter(sink, schema, write_options=pa_csv.WriteOptions(quoting_style="needed")) as writer:
        yield sink.take()  # the header arrives even when no record matches
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


def parquet_stream(batches: Iterable[pa.RecordBatch], columns: list[str]) -> Iterator[bytes]:
    sink = _Drain()
    schema = pa.schema([(c, pa.string()) for c in columns])
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        for batch in batches:
            writer.write_batch(batch)
            yield sink.take()
    yield sink.take()


def aggregates_stream(record_count: int, row_batches: Iterable[list[tuple[str, int]]]) -> Iterator[bytes]:
    """The protected aggregates in SDS's file format, as bytes."""
    for chunk in aggregates_text(record_count, row_batches):
        yield chunk.encode("utf-8")


def codebook_csv(codebook: Codebook) -> str:
    """One row per attribute value: attribute, its label, group, kind, description, value, value label."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["position", "attribute", "label", "group", "kind", "description", "value", "value_label"])
    for i, a in enumerate(codebook, start=1):
        for value, label in zip(a.values, a.value_labels):
            writer.writerow([i, a.name, a.label, a.group, a.kind, a.description, value, label])
    return out.getvalue()


def codebook_datapackage(codebook: Codebook, release: dict) -> str:
    """The codebook and release metadata as a Data Package descriptor describing the whole
    microdata download (`microdata.csv`)."""
    descriptor = descriptor_of(codebook, release, filename(release, "microdata", "csv"))
    return json.dumps(descriptor, indent=2, ensure_ascii=False) + "\n"


def _md(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(codebook: Codebook, release: dict) -> str:
    lines = [f"# Codebook of {_md(release.get('name', 'the release'))}", ""]
    if release.get("is_demonstration"):
        lines += ["Demonstration data: stand-in records made by a generator, not real people.", ""]
    lines += [
        "An empty cell in the records means “not recorded”, never “no”. Flags carry one value; "
        "within a group of flags a record can have several set.",
        "",
    ]
    for members in codebook.groups().values():
        lines += [f"## {_md(members[0].group_label)}", ""]
        for a in members:
            lines += [f"### `{_md(a.name)}` — {_md(a.label)}", "", f"Kind: {a.kind}.", ""]
            if a.description:
                lines += [_md(a.description), ""]
            lines += ["| value | meaning |", "|---|---|"]
            lines += [f"| `{_md(v)}` | {_md(lab)} |" for v, lab in zip(a.values, a.value_labels)]
            lines += ["| (empty) | not recorded |", ""]
    return "\n".join(lines)


def _plain(value):
    """JSON-safe: dates as ISO text, non-finite numbers as null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()  # numpy scalars
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is not None and not isinstance(value, (str, int, float, bool)):
        return str(value)
    return value


def data_card(
    release: dict, lengths: list[dict], quality: list[dict], codebook: Codebook, generated_at: dt.datetime | None = None
) -> str:
    """The release's data card as JSON: parameters, per-length noise, quality metrics, provenance."""
    keys = (
        "name",
        "kind",
        "is_demonstration",
        "epsilon",
        "delta",
        "reporting_length",
        "protected_record_count",
        "synthetic_record_count",
        "synthesizer",
        "seed",
        "has_aggregates",
    )
    card = {
        "release": {k: release.get(k) for k in keys + META_FIELDS},
        "parameters": release.get("parameters") or {},
        "lengths": lengths,
        "quality": quality,
        "attributes": [
            {
                "name": a.name,
                "label": a.label,
                "group": a.group,
                "group_label": a.group_label,
                "kind": a.kind,
                **{k: getattr(a, k) for k in ("role", "party", "pair") if getattr(a, k)},
                "values": len(a.values),
            }
            for a in codebook
        ],
        "provenance": {
            "source": release.get("source"),
            "built_at": release.get("built_at"),
            "engine_version": release.get("engine_version"),
            "schema_version": release.get("schema_version"),
            "card_generated_at": (generated_at or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
        },
        "notes": [
            "Synthetic records are statistical stand-ins, not people; their counts can differ from the "
            "protected counts and from the sensitive records.",
            "Protected counts are differentially private: noise was added and small counts were dropped.",
            "An empty value means not recorded. Records are of identified and reported cases, not of all trafficking.",
        ]
        + (
            ["Demonstration data: generated stand-in records, not a real release."]
            if release.get("is_demonstration")
            else []
        ),
    }
    return json.dumps(_plain(card), indent=2, ensure_ascii=False) + "\n"
