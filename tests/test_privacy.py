"""The privacy core (synth_engine/privacy.py): budget, percentile, truncation, noise, thresholds,
post-processing, parameters and the command-line helpers. All inputs are small and fast."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import norm

from builders import brute_force_counts, categorical_attribute, parse_privacy_args
from data.aggregates import aggregates_from_file, parse_aggregates_file, write_aggregates_file
from data.codebook import Codebook
from data.dataset import Dataset, InputError, ItemSpace
from synth_engine import privacy
from synth_engine.__main__ import privacy_settings
from synth_engine.privacy import (
    PrivacySettings,
    aggregate,
    dp_percentile,
    first_length_threshold,
    percentile_scores,
    protect_record_count,
    split_budget,
    truncate_contributions,
)


def make_dataset(n: int, sizes=(3, 4, 2, 5, 1, 1), presence=(0.9, 0.7, 0.6, 0.5, 0.3, 0.2), seed=0) -> Dataset:
    """Random records with some correlation (a latent group drives the value frequencies)."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, 3, n)
    attributes, columns = [], []
    for j, (size, p) in enumerate(zip(sizes, presence)):
        values = tuple(f"v{i}" for i in range(size))
        attributes.append(categorical_attribute(f"col{j}", values))
        weights = rng.dirichlet(np.ones(size), size=3)[group]
        code = (rng.random(n)[:, None] > weights.cumsum(axis=1)).sum(axis=1) + 1
        has = rng.random(n) < p
        columns.append(np.where(has, np.minimum(code, size), 0).astype(np.uint16))
    return Dataset(Codebook(tuple(attributes)), np.column_stack(columns))


def as_tuples(aggregates) -> dict[tuple[int, ...], int]:
    return {
        tuple(int(i) for i in row): int(c)
        for k in aggregates.combos
        for row, c in zip(aggregates.combos[k], aggregates.counts[k])
    }


# --- budget --------------------------------------------------------------------------------------


def test_check_values_of_the_budget():
    params = PrivacySettings(epsilon=12, delta=3.9e-7, reporting_length=3)
    budget = split_budget(params, params.delta)
    assert round(budget.rho, 5) == 1.69752
    assert round(budget.epsilon_q, 6) == 0.106380
    assert [round(s, 5) for s in budget.sigmas] == [2.04091, 1.02046, 0.68030]
    spent = 3 * budget.epsilon_q**2 / 2 + 0.5 * sum(1 / s**2 for s in budget.sigmas)
    assert spent == pytest.approx(budget.rho, rel=1e-12)
    assert budget.epsilon_n == pytest.approx(0.06)
    assert budget.epsilon_m == pytest.approx(11.94)


@pytest.mark.parametrize(
    "mode, proportions",
    [
        ("prioritize-long", [1, 1 / 2, 1 / 3, 1 / 4]),
        ("prioritize-short", [1 / 4, 1 / 3, 1 / 2, 1]),
        ("balanced", [1, 1, 1, 1]),
    ],
)
def test_accuracy_modes_give_the_documented_sigmas(mode, proportions):
    params = PrivacySettings(epsilon=5, delta=1e-6, reporting_length=4, accuracy_mode=mode)
    assert params.resolved_sigma_proportions() == pytest.approx(proportions)
    budget = split_budget(params, 1e-6)
    base = math.sqrt(sum(1 / p**2 for p in proportions) / (2 * budget.rho * 0.99))
    assert budget.sigmas == pytest.approx([p * base for p in proportions])
    spent = 4 * budget.epsilon_q**2 / 2 + 0.5 * sum(1 / s**2 for s in budget.sigmas)
    assert spent == pytest.approx(budget.rho, rel=1e-12)


def test_custom_sigma_proportions():
    params = PrivacySettings(
        epsilon=5, delta=1e-6, reporting_length=3, accuracy_mode="custom", sigma_proportions=(1.0, 0.25, 0.5)
    )
    sigmas = split_budget(params, 1e-6).sigmas
    assert sigmas[1] == pytest.approx(sigmas[0] / 4) and sigmas[2] == pytest.approx(sigmas[0] / 2)


# --- validation ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(epsilon=0), "epsilon"),
        (dict(epsilon=-1), "epsilon"),
        (dict(epsilon=float("nan")), "epsilon"),
        (dict(epsilon=float("inf")), "epsilon"),
        (dict(delta=0.0), "delta"),
        (dict(delta=1.0), "delta"),
        (dict(delta=-0.1), "delta"),
        (dict(reporting_length=0), "reporting length"),
        (dict(reporting_length=-2), "reporting length"),
        (dict(reporting_length=2.5), "reporting length"),
        (dict(percentile_percentage=101), "percentile percentage"),
        (dict(percentile_epsilon_proportion=1.0), "percentile epsilon proportion"),
        (dict(number_of_records_epsilon_proportion=0.0), "number of records epsilon proportion"),
        (dict(accuracy_mode="fast"), "accuracy mode"),
        (dict(accuracy_mode="custom"), "sigma proportions"),
        (dict(accuracy_mode="custom", sigma_proportions=(1, 2)), "one value per length"),
        (dict(accuracy_mode="custom", sigma_proportions=(1, 0, 2)), "greater than 0"),
        (dict(sigma_proportions=(1, 1, 1)), "custom accuracy mode"),
        (dict(fabrication_mode="none"), "fabrication mode"),
        (dict(fabrication_mode="custom", thresholds=(1.0,)), "one value per length 2..3"),
        (dict(fabrication_mode="custom", thresholds=(1.0, -1.0)), "at least 0"),
        (dict(thresholds=(1.0, 2.0)), "custom fabrication mode"),
    ],
)
def test_bad_parameters_are_one_line_input_errors(kwargs, message):
    with pytest.raises(InputError, match=message) as err:
        PrivacySettings(**kwargs)
    assert "\n" not in str(err.value)


# --- the private percentile -------------------------------------------------------------------------


def test_percentile_scores_follow_sds():
    # sorted: [0, 0, 1, 1, 1, 3, 3, 6] (n = 8); type-8 50th percentile = 1 → index 4, value 1
    data = np.array([3, 1, 0, 6, 1, 3, 0, 1])
    scores = percentile_scores(data, 50)
    # 0: 4 - 1 = 3; 1: 0; 2 absent: max(0, 1) = 1; 3: 6 - 4 = 2; 4, 5 absent: 2; 6 (the top): ceil(8·0.5) = 4
    assert scores.tolist() == [-3, 0, -1, -2, -2, -2, -4]
    # absent values below the percentile: the first takes ceil(n·q), the next repeat it
    scores = percentile_scores(np.array([5, 5, 5, 9]), 50)
    assert scores.tolist() == [-2, -2, -2, -2, -2, 0, -1, -1, -1, -2]


def test_dp_percentile_finds_the_percentile_with_a_large_budget():
    data = np.random.default_rng(0).poisson(20, 5000)
    expected = math.floor(np.quantile(data, 0.99, method="median_unbiased"))
    assert dp_percentile(data, 99, 1e6, np.random.default_rng(1)) == expected
    assert dp_percentile(np.zeros(10, int), 99, 1.0, np.random.default_rng(1)) == 0
    assert dp_percentile(np.zeros(0, int), 99, 1.0, np.random.default_rng(1)) == 0


# --- truncation, noise, thresholds ------------------------------------------------------------------


def test_truncation_keeps_at_most_the_allowed_combinations_per_record():
    rng = np.random.default_rng(3)
    rows = np.repeat(np.arange(50), rng.integers(0, 30, 50))
    combos = rng.integers(0, 1000, len(rows))
    contributions = np.bincount(rows, minlength=50)
    counted_rows = truncate_contributions(rows, rows, contributions, 7, rng)
    per_record = np.bincount(counted_rows, minlength=50)
    assert per_record.max() <= 7
    assert (per_record == np.minimum(contributions, 7)).all()
    kept = truncate_contributions(rows, combos, contributions, 7, np.random.default_rng(4))
    assert np.isin(kept, combos).all()
    assert len(truncate_contributions(rows, combos, contributions, 0, rng)) == 0


def test_truncation_picks_uniformly():
    rows = np.zeros(10, np.int64)
    contributions = np.array([10])
    rng = np.random.default_rng(5)
    picks = np.concatenate([truncate_contributions(rows, np.arange(10), contributions, 3, rng) for _ in range(3000)])
    frequency = np.bincount(picks, minlength=10) / 3000
    assert np.abs(frequency - 0.3).max() < 0.04


def test_aggregate_truncates_each_record_to_its_sensitivity():
    dataset = make_dataset(400, sizes=(3, 4, 2, 5, 1, 1, 1, 1), presence=(0.9, 0.8, 0.8, 0.8, 0.7, 0.7, 0.7, 0.7))
    trace = privacy._Trace()
    params = PrivacySettings(epsilon=12, delta=1e-5, reporting_length=3, percentile_percentage=60)
    out = privacy._aggregate(dataset, params, np.random.default_rng(2), trace)
    for parameters in out.lengths:
        k, sensitivity = parameters.length, parameters.sensitivity
        contributions = trace.contributions[k]
        assert contributions.max() > sensitivity > 0  # some records were truncated
        # the counted total is exactly Σ min(contribution, Δ_k)
        assert trace.true_counts[k].sum() == np.minimum(contributions, sensitivity).sum()


def test_noise_has_the_documented_standard_deviation():
    dataset = make_dataset(400)
    # a larger percentile share keeps Δ_k steady from run to run, so raw units can be pooled too
    params = PrivacySettings(epsilon=12, delta=1e-4, reporting_length=3, percentile_epsilon_proportion=0.3)
    standardized = {1: [], 2: [], 3: []}
    raw: dict[int, dict[int, list]] = {1: {}, 2: {}, 3: {}}
    for seed in range(200):
        trace = privacy._Trace()
        out = privacy._aggregate(dataset, params, np.random.default_rng(seed), trace)
        for p in out.lengths:
            if p.sensitivity > 0:
                noise = trace.noisy_counts[p.length] - trace.true_counts[p.length]
                standardized[p.length].append(noise / p.noise_sd)
                raw[p.length].setdefault(p.sensitivity, []).append((noise, p.noise_sd))
    for k in (1, 2, 3):
        pooled = np.concatenate(standardized[k])
        assert len(pooled) >= 3000
        assert abs(pooled.std() - 1) < 0.05, (k, pooled.std())
        assert abs(pooled.mean()) < 0.1
        # in raw units, at the most frequent Δ_k
        sensitivity, runs = max(raw[k].items(), key=lambda item: len(item[1]))
        noise = np.concatenate([n for n, _ in runs])
        assert len(noise) >= 2500
        assert noise.std() == pytest.approx(runs[0][1], rel=0.05)


def test_record_count_noise_is_laplace_with_scale_one_over_epsilon_n():
    rng = np.random.default_rng(6)
    epsilon_n = 0.06
    draws = np.array([protect_record_count(100_000, epsilon_n, rng) for _ in range(20_000)]) - 100_000
    assert np.abs(draws).mean() == pytest.approx(1 / epsilon_n, rel=0.05)  # E|X| = b
    assert draws.std() == pytest.approx(math.sqrt(2) / epsilon_n, rel=0.05)  # SD = √2·b
    assert abs(np.median(draws)) < 1.5
    assert protect_record_count(1, 0.01, np.random.default_rng(0)) >= 1


def test_first_length_threshold_formula():
    for sigma, sensitivity, delta in [(2.04091, 10, 3.9e-7), (1.5, 1, 1e-3), (0.7, 250, 1e-9)]:
        direct = 1 + sigma * math.sqrt(sensitivity) * norm.ppf((1 - delta / 2) ** (1 / sensitivity))
        assert first_length_threshold(sigma, sensitivity, delta) == pytest.approx(direct, rel=1e-6)
    dataset = make_dataset(300)
    out = aggregate(dataset, PrivacySettings(epsilon=12, delta=1e-5), np.random.default_rng(0))
    first = out.lengths[0]
    assert first.threshold == pytest.approx(first_length_threshold(first.sigma, first.sensitivity, 1e-5))
    assert first.noise_sd == pytest.approx(first.sigma * math.sqrt(first.sensitivity))
    assert out.counts[1].min() > 0


def test_fabrication_mode_thresholds():
    params = {
        mode: PrivacySettings(reporting_length=4, fabrication_mode=mode)
        for mode in ("uncontrolled", "balanced", "progressive", "minimize")
    }
    assert params["uncontrolled"].fabrication_etas() == {2: 1.0, 3: 1.0, 4: 1.0}
    assert params["balanced"].fabrication_etas() == {2: 0.55, 3: 1.0, 4: 1.0}
    assert params["progressive"].fabrication_etas() == pytest.approx({2: 0.1, 3: 0.55, 4: 1.0})
    assert params["minimize"].fabrication_etas() == {2: 0.01, 3: 0.01, 4: 0.01}
    assert PrivacySettings(reporting_length=2, fabrication_mode="progressive").fabrication_etas() == {2: 0.1}
    budget = split_budget(params["uncontrolled"], 1e-6)
    for k in (2, 3, 4):
        thresholds = {m: privacy.length_threshold(p, budget, 1e-6, k, 20) for m, p in params.items()}
        assert thresholds["uncontrolled"] == 0
        assert thresholds["minimize"] > thresholds["progressive"] >= thresholds["uncontrolled"]
        assert thresholds["minimize"] == pytest.approx(budget.sigmas[k - 1] * math.sqrt(20) * norm.ppf(0.995))
    custom = PrivacySettings(reporting_length=3, fabrication_mode="custom", thresholds=(5, 2.5))
    assert privacy.length_threshold(custom, budget, 1e-6, 3, 20) == 2.5


def test_fabrication_modes_order_fabrication_and_suppression():
    dataset = make_dataset(600, sizes=(4, 6, 3, 8, 1, 1), presence=(0.9, 0.8, 0.7, 0.6, 0.3, 0.3), seed=1)
    truth = brute_force_counts(dataset.codes, ItemSpace(dataset.codebook), 3)
    fabricated, suppressed = {}, {}
    for mode in ("uncontrolled", "balanced", "progressive", "minimize"):
        params = PrivacySettings(epsilon=3, delta=1e-5, reporting_length=3, fabrication_mode=mode)
        fab = sup = 0
        for seed in range(5):
            released = as_tuples(aggregate(dataset, params, np.random.default_rng(seed)))
            fab += len(set(released) - set(truth))
            sup += len(set(truth) - set(released))
        fabricated[mode], suppressed[mode] = fab, sup
    assert fabricated["uncontrolled"] > fabricated["balanced"] > fabricated["minimize"]
    assert fabricated["uncontrolled"] > fabricated["progressive"] > fabricated["minimize"]
    assert suppressed["minimize"] > suppressed["uncontrolled"]


# --- the whole stage against a slow reference ------------------------------------------------------


def test_candidates_counts_and_post_processing_match_a_slow_reference():
    dataset = make_dataset(250, sizes=(3, 4, 2, 5, 1, 1, 2), presence=(0.9, 0.7, 0.6, 0.5, 0.3, 0.2, 0.5), seed=4)
    r = 4
    params = PrivacySettings(epsilon=2000, delta=1e-5, reporting_length=r, percentile_percentage=100)
    trace = privacy._Trace()
    out = privacy._aggregate(dataset, params, np.random.default_rng(8), trace)
    items = ItemSpace(dataset.codebook)
    truth = brute_force_counts(dataset.codes, items, r)
    columns = items.column_of

    survived: dict[int, dict[tuple, float]] = {}
    for p in out.lengths:
        k = p.length
        candidates = [tuple(int(i) for i in row) for row in trace.candidates[k]]
        assert len(set(candidates)) == len(candidates)
        if k == 1:
            expected = {(i,) for i in range(items.n_items) if (i,) in truth}
        else:
            singles = sorted(i for (i,) in survived[1])
            expected = set()
            for combo in itertools.combinations(singles, k):
                if len({columns[i] for i in combo}) < k:
                    continue
                if all(sub in survived[len(sub)] for m in range(2, k) for sub in itertools.combinations(combo, m)):
                    expected.add(combo)
        assert set(candidates) == expected, k
        # Δ_k covers every record (q = 100, large ε): the counts are exact
        assert p.sensitivity >= trace.contributions[k].max()
        assert [truth.get(c, 0) for c in candidates] == trace.true_counts[k].tolist()
        noisy = trace.noisy_counts[k]
        survived[k] = {c: v for c, v in zip(candidates, noisy) if v > p.threshold and v > 0}

    # post-processing, the obvious way
    final = {c: math.floor(v + 0.5) for k in survived for c, v in survived[k].items()}
    final = {c: v for c, v in final.items() if v > 0}
    parents: dict[tuple, int] = {}
    for combo, count in final.items():
        for m in range(2, len(combo)):
            for sub in itertools.combinations(combo, m):
                if sub not in final:
                    parents[sub] = max(parents.get(sub, 0), count)
    final.update(parents)
    capped = {}
    for combo, count in final.items():
        subs = [final[s] for m in range(1, len(combo)) for s in itertools.combinations(combo, m) if s in final]
        capped[combo] = min([count] + subs)
    assert as_tuples(out) == capped
    assert all(len(out.combos[k]) == len(out.counts[k]) for k in out.combos)
    for combos in out.combos.values():
        assert (np.diff(combos, axis=1) > 0).all()


def test_with_little_noise_the_release_is_the_true_counts():
    dataset = make_dataset(300, seed=5)
    params = PrivacySettings(epsilon=5000, delta=1e-5, reporting_length=3, percentile_percentage=100)
    out = aggregate(dataset, params, np.random.default_rng(0))
    truth = brute_force_counts(dataset.codes, ItemSpace(dataset.codebook), 3)
    # singles with count 1 fall under the length-1 threshold (just above 1); the rest is exact
    expected = {c: n for c, n in truth.items() if all(truth[(i,)] >= 2 for i in c)}
    assert as_tuples(out) == expected
    assert out.record_count == 300


# --- edge cases ------------------------------------------------------------------------------------


def test_a_column_with_a_single_value_and_empty_rows():
    dataset = make_dataset(200, sizes=(1, 3, 2), presence=(0.8, 0.7, 0.6), seed=2)
    codes = dataset.codes.copy()
    codes[:40] = 0  # 40 records with every value missing
    dataset = Dataset(dataset.codebook, codes)
    trace = privacy._Trace()
    out = privacy._aggregate(dataset, PrivacySettings(epsilon=12, delta=1e-4), np.random.default_rng(0), trace)
    truth = brute_force_counts(dataset.codes, ItemSpace(dataset.codebook), 3)
    released = as_tuples(out)
    assert (0,) in released and abs(released[(0,)] - truth[(0,)]) < 40  # the single-value column
    columns = ItemSpace(dataset.codebook).column_of
    assert all(len({columns[i] for i in combo}) == len(combo) for combo in released)
    assert all((trace.contributions[k][:40] == 0).all() for k in (1, 2, 3))  # empty records add nothing
    everything_missing = Dataset(dataset.codebook, np.zeros_like(codes))
    empty = aggregate(everything_missing, PrivacySettings(delta=1e-4), np.random.default_rng(0))
    assert empty.total() == 0 and empty.record_count >= 1
    assert [p.sensitivity for p in empty.lengths] == [0, 0, 0]


def test_one_record_and_no_records():
    dataset = make_dataset(1, seed=3)
    out = aggregate(dataset, PrivacySettings(delta=1e-3), np.random.default_rng(0))
    assert out.record_count >= 1
    assert out.total() == 0  # one record never clears the length-1 threshold
    with pytest.raises(InputError, match="no records"):
        aggregate(Dataset(dataset.codebook, dataset.codes[:0]), PrivacySettings(), np.random.default_rng(0))
    # with a default δ, a protected count of 1 leaves no δ to derive: a clear error
    with pytest.raises(InputError, match="give delta"):
        privacy.default_delta(1)


def test_reporting_length_longer_than_the_columns():
    dataset = make_dataset(300, sizes=(3, 2), presence=(0.9, 0.9), seed=6)
    out = aggregate(dataset, PrivacySettings(delta=1e-4, reporting_length=4), np.random.default_rng(0))
    assert len(out.combos[3]) == 0 and len(out.combos[4]) == 0
    assert [p.length for p in out.lengths] == [1, 2, 3, 4]


def test_same_seed_same_release():
    dataset = make_dataset(300)
    a = aggregate(dataset, PrivacySettings(delta=1e-4), np.random.default_rng(42))
    b = aggregate(dataset, PrivacySettings(delta=1e-4), np.random.default_rng(42))
    assert as_tuples(a) == as_tuples(b) and a.record_count == b.record_count


# --- what is recorded ------------------------------------------------------------------------------


def test_recorded_parameters_are_public():
    dataset = make_dataset(537)
    out = aggregate(dataset, PrivacySettings(), np.random.default_rng(1))
    p = out.parameters
    assert p["epsilon"] == 12 and p["reporting_length"] == 3
    assert p["delta_is_default"] is True
    assert p["delta"] == pytest.approx(1 / (out.record_count * math.log(out.record_count)))
    for name in (
        "rho",
        "epsilon_q",
        "epsilon_n",
        "percentile_percentage",
        "percentile_epsilon_proportion",
        "number_of_records_epsilon_proportion",
        "accuracy_mode",
        "sigma_proportions",
        "fabrication_mode",
        "fabrication_etas",
    ):
        assert name in p
    # nothing exact: the true record count appears nowhere (the record count itself is noisy)
    assert 537 not in [v for v in p.values() if isinstance(v, (int, float))]
    assert [q.length for q in out.lengths] == [1, 2, 3]
    for q in out.lengths:
        assert q.noise_sd == pytest.approx(q.sigma * math.sqrt(q.sensitivity))
    custom = aggregate(dataset, PrivacySettings(fabrication_mode="custom", thresholds=(3, 1)), np.random.default_rng(1))
    assert custom.parameters["thresholds"] == {"2": 3.0, "3": 1.0}
    assert [q.threshold for q in custom.lengths[1:]] == [3.0, 1.0]


def test_round_trip_through_the_aggregates_file(tmp_path):
    dataset = make_dataset(400, seed=7)
    out = aggregate(dataset, PrivacySettings(delta=1e-4), np.random.default_rng(3))
    path = tmp_path / "aggregates.tsv"
    write_aggregates_file(out, path)
    back = aggregates_from_file(parse_aggregates_file(path), out.items, str(path))
    assert back.record_count == out.record_count
    assert back.as_dict() == out.as_dict()
    assert as_tuples(back) == as_tuples(out)


# --- command line ----------------------------------------------------------------------------------


def test_command_line_defaults():
    params = privacy_settings(parse_privacy_args([]))
    assert params == PrivacySettings()
    assert params.epsilon == 12 and params.delta is None and params.reporting_length == 3
    assert params.accuracy_mode == "prioritize-long" and params.fabrication_mode == "uncontrolled"


def test_command_line_custom_values():
    params = privacy_settings(
        parse_privacy_args(
            [
                "--epsilon",
                "4",
                "--delta",
                "1e-6",
                "--reporting-length",
                "4",
                "--percentile-percentage",
                "95",
                "--percentile-epsilon-proportion",
                "0.02",
                "--number-of-records-epsilon-proportion",
                "0.01",
                "--sigma-proportions",
                "1, 0.5,0.5,0.25",
                "--thresholds",
                "10,5,0",
            ]
        )
    )
    assert params.accuracy_mode == "custom" and params.sigma_proportions == (1, 0.5, 0.5, 0.25)
    assert params.fabrication_mode == "custom" and params.thresholds == (10, 5, 0)
    assert params.percentile_percentage == 95 and params.delta == 1e-6
    modes = privacy_settings(parse_privacy_args(["--accuracy-mode", "balanced", "--fabrication-mode", "minimize"]))
    assert modes.accuracy_mode == "balanced" and modes.fabrication_mode == "minimize"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--sigma-proportions", "1,x,2"], "numbers separated by commas"),
        (["--sigma-proportions", "1,2"], "one value per length"),
        (["--accuracy-mode", "balanced", "--sigma-proportions", "1,1,1"], "not both"),
        (["--fabrication-mode", "minimize", "--thresholds", "1,1"], "not both"),
        (["--epsilon", "0"], "epsilon"),
        (["--delta", "2"], "delta"),
        (["--reporting-length", "0"], "reporting length"),
    ],
)
def test_command_line_errors(argv, message):
    with pytest.raises(InputError, match=message):
        privacy_settings(parse_privacy_args(argv))
