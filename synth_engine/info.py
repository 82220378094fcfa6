"""What `python -m synth_engine info` prints about a store."""

from __future__ import annotations

from data.store import Store


def store_info(path: str) -> dict:
    store = Store(path)
    try:
        quality = store.quality()
        return {
            "store": store.path,
            "release": store.release,
            "lengths": store.release_lengths.to_dict(orient="records"),
            "tables": store.table_sizes(),
            "attributes": len(store.codebook),
            "quality": quality.astype(object).where(quality.notna(), None).to_dict(orient="records"),
        }
    finally:
        store.close()


def format_info(info: dict) -> str:
    r = info["release"]
    lines = [
        f"store      {info['store']}",
        f"release    {r['name']} ({r['kind']}{', demonstration data' if r['is_demonstration'] else ''})",
        f"built      {r['built_at']} by engine {r['engine_version']} from {r['source']}",
    ]
    if r.get("epsilon") is not None:
        lines.append(f"privacy    ε = {r['epsilon']:g}, δ = {r['delta']:.3g}, reporting length {r['reporting_length']}")
    if r.get("synthesizer"):
        lines.append(f"synthesis  {r['synthesizer']}" + (f", seed {r['seed']}" if r.get("seed") is not None else ""))
    protected = r.get("protected_record_count")
    lines.append(
        f"records    {r['synthetic_record_count']:,} synthetic"
        + (f", {protected:,} protected" if protected is not None else "")
    )
    for row in info["lengths"]:
        parts = [f"length {row['length']}: {row['combinations']:,} combinations"]
        if row.get("noise_sd") is not None and row["noise_sd"] == row["noise_sd"]:
            parts.append(
                f"σ_k {row['sigma']:.5f}, Δ_k {int(row['sensitivity'])}, noise sd {row['noise_sd']:.3f}, "
                f"threshold {row['threshold']:.3f}"
            )
        lines.append("           " + "; ".join(parts))
    lines.append("tables     " + ", ".join(f"{t} {n:,}" for t, n in info["tables"].items()))
    if info["quality"]:
        lines.append("quality")
        for q in info["quality"]:
            where = "".join(
                [
                    f" length {q['length']}" if q["length"] is not None else "",
                    f" bucket ≥{q['bucket_low']}" if q["bucket_low"] is not None else "",
                ]
            )
            lines.append(f"           {q['comparison']} {q['metric']}{where}: {q['value']:.4g}")
    return "\n".join(lines)
