"""Data comparability: how a synthetic count stands against the release's protected count.

Pure arithmetic — no Dash, no SQL. Protected counts come through a `lookup(keys) -> {key: count}`
function and combination keys through `key_of(items)`, both supplied by the caller.

A selection maps attributes to chosen values (None = not recorded). Values of one attribute
combine with OR and attributes with AND, so a selection is the disjoint union of its *parts*:
one exact choice of a value for every selected attribute. The protected count of a part is

* the released count of its combination, when every item has a value and the combination is at
  most the reporting length R long — or *suppressed* when the release does not list it (its
  noisy count fell at or below the threshold, or it never occurred);
* *derived* by inclusion–exclusion when some items are "not recorded", e.g.
  n(A, B not recorded) = n(A) − Σ_b n(A, B = b) — available only if every term was released;
  the empty combination's count is the protected record count;
* none at all *beyond R*; then the protected counts bound it from both sides. Above: the
  smallest count among its sub-combinations of length R. Below (Bonferroni's inequality, for
  parts whose items all have a value): for T a sub-combination of length R − 1 and c ranging
  over the m items of S outside T, the records with T and c number n(T ∪ {c}), all of them
  among the n(T) records with T, so n(S) ≥ Σ_c n(T ∪ {c}) − (m − 1)·n(T). The released counts
  are noisy, and this sum's noise adds the variances of its terms like every sum here
  (m·sd_R² + (m − 1)²·sd_{R−1}²): the bound is the sum less 1.96 of its standard deviations
  (noise alone pushes it above the true count for under 2.5 % of selections), for the best T,
  never below 0 nor above the upper bound. A T is used only if every count it needs was
  released (a suppressed term means the combination is rare: the bound would be about 0).
  The upper bound is the released count as it stands.

The selection's protected count is the sum over its parts; a part without a count adds nothing
and turns the sum into a lower bound. Noise: each released count carries Gaussian noise with
standard deviation σ_k·√Δ_k at its length k (the protected record count: Laplace, √2/ε_N); sums
and differences add the variances.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations, product
from typing import NamedTuple

from data.codebook import Codebook
from i18n import gettext, ngettext
from i18n.numbers import format_count, format_fixed

Z95 = 1.959963984540054  # two-sided 95 % quantile of the normal distribution
MAX_PARTS = 2000  # exact combinations summed for one selection
MAX_TERMS = 4000  # released counts combined to derive one "not recorded" part
VIEW_MAX_TERMS = 64  # the same in views of many values: no country's "not recorded"
# (such a subtraction nearly always lacks a suppressed term anyway)

# How a part's or a selection's protected count was obtained.
EXACT = "exact"  # released as such (or the sum of released parts)
DERIVED = "derived"  # by subtraction, for "not recorded" items
SUPPRESSED = "suppressed"  # within R but not released
UNDERIVABLE = "underivable"  # "not recorded" part whose subtraction lacks a term
BEYOND = "beyond"  # longer than the reporting length: bounds at most
LOWER_BOUND = "lower_bound"  # a sum with some parts missing
UNAVAILABLE = "unavailable"  # no part has a count
NO_AGGREGATES = "no_aggregates"  # the release published no protected counts

Items = tuple[tuple[str, "str | None"], ...]


@dataclass(frozen=True)
class ReleaseFacts:
    """What the arithmetic needs to know about the release."""

    has_aggregates: bool
    reporting_length: int
    record_count: int | None = None  # the protected record count
    record_count_sd: float | None = None  # noise of the record count (√2/ε_N)
    noise_sd: Mapping[int, float] = field(default_factory=dict)  # length -> σ_k·√Δ_k
    thresholds: Mapping[int, float] = field(default_factory=dict)  # length -> threshold

    @classmethod
    def from_release(cls, release: Mapping, lengths=None) -> ReleaseFacts:
        """From the store's `release` row and `release_lengths` frame."""
        noise, thresholds = {}, {}
        if lengths is not None:
            for row in lengths.itertuples(index=False):
                if _is_number(row.noise_sd):
                    noise[int(row.length)] = float(row.noise_sd)
                if _is_number(row.threshold):
                    thresholds[int(row.length)] = float(row.threshold)
        epsilon_n = (release.get("parameters") or {}).get("epsilon_n")
        return cls(
            has_aggregates=bool(release.get("has_aggregates")),
            reporting_length=int(release.get("reporting_length") or 0),
            record_count=release.get("protected_record_count"),
            record_count_sd=math.sqrt(2) / epsilon_n if _is_number(epsilon_n) and epsilon_n > 0 else None,
            noise_sd=noise,
            thresholds=thresholds,
        )

    def sd(self, length: int) -> float | None:
        return self.record_count_sd if length == 0 else self.noise_sd.get(length)


class Term(NamedTuple):
    key: str | None  # None: the protected record count
    sign: int
    items: Items

    @property
    def length(self) -> int:
        return len(self.items)


# Parts and comparisons are made by the thousand for a view: plain slotted classes (a frozen
# dataclass takes several times longer to build); treat them as read-only.
@dataclass(slots=True)
class Part:
    """One exact combination of the selection and its protected count."""

    items: Items
    status: str  # EXACT, DERIVED, SUPPRESSED, UNDERIVABLE or BEYOND
    count: int | None = None  # protected count (released or derived)
    noise_sd: float | None = None  # of its count (BEYOND: of the upper bound)
    bound: int | None = None  # BEYOND: the smallest count of a sub-combination of length R
    lower: int = 0  # BEYOND: the lower bound (see the module's docstring)
    unreleased: int = 0  # UNDERIVABLE: how many counts the subtraction needs were suppressed
    # Why there is no count, in plain language; written only when asked for (views ask rarely).
    explain: Callable[[], str] | None = field(default=None, compare=False, repr=False)

    @property
    def reason(self) -> str:
        return self.explain() if self.explain else ""


@dataclass(frozen=True)
class Verdict:
    grade: str  # close, fair, loose, poor — or "" when there is nothing to grade
    text: str


@dataclass(slots=True)
class Comparison:
    synthetic: int
    status: str  # EXACT, DERIVED, LOWER_BOUND, BEYOND, UNAVAILABLE, NO_AGGREGATES
    protected: int | None = None  # the sum of the parts that have a count
    noise_sd: float | None = None  # of the protected count (BEYOND: of the upper bound)
    bound: int | None = None  # BEYOND: upper bound on the protected count
    lower: int = 0  # BEYOND: lower bound on it
    parts: tuple[Part, ...] = ()
    message: str = ""  # why there is no protected count, when no part says it

    @property
    def reason(self) -> str:
        """Why there is no protected count (empty when there is one)."""
        if self.message or self.status not in (BEYOND, UNAVAILABLE) or not self.parts:
            return self.message
        if self.status == BEYOND or len(self.parts) == 1:
            return self.parts[0].reason
        return ngettext(
            "None of the %(num)s exact combination of this selection has a protected count.",
            "None of the %(num)s exact combinations of this selection has a protected count.",
            len(self.parts),
        )

    @property
    def missing_parts(self) -> list[Part]:
        return [p for p in self.parts if p.count is None]

    @property
    def difference(self) -> int | None:
        """Synthetic minus protected."""
        return None if self.protected is None else self.synthetic - self.protected

    @property
    def relative_difference(self) -> float | None:
        """The difference as a share of the protected count."""
        return None if not self.protected else self.difference / self.protected

    @property
    def score(self) -> float | None:
        """Comparability: the smaller count divided by the larger (1 when both are 0)."""
        if self.protected is None:
            return None
        high = max(self.synthetic, self.protected)
        return 1.0 if high == 0 else min(self.synthetic, self.protected) / high

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % noise interval around the protected count."""
        if self.protected is None or self.noise_sd is None:
            return None
        half = Z95 * self.noise_sd
        return max(0.0, self.protected - half), self.protected + half

    @property
    def z(self) -> float | None:
        """The difference in standard deviations of the protected count's noise."""
        if self.difference is None or not self.noise_sd:
            return None
        return self.difference / self.noise_sd

    @property
    def within_noise(self) -> bool | None:
        if self.difference is None or self.noise_sd is None:
            return None
        return abs(self.difference) <= Z95 * self.noise_sd


class Comparator:
    """Plans which protected counts a selection needs, fetches them in one lookup, and adds up."""

    def __init__(
        self,
        codebook: Codebook,
        facts: ReleaseFacts,
        key_of: Callable[[Mapping[str, str]], str],
        lookup: Callable[[list[str]], Mapping[str, int]],
        max_terms: int = MAX_TERMS,
    ):
        self.codebook = codebook
        self.facts = facts
        self.key_of = key_of
        self.lookup = lookup
        self.max_terms = max_terms
        self._keys: dict[Items, str] = {}  # key_of's answers: parts of a view share many terms

    def with_max_terms(self, max_terms: int) -> Comparator:
        """The same comparator deriving "not recorded" counts from at most `max_terms` counts."""
        other = Comparator(self.codebook, self.facts, self.key_of, self.lookup, max_terms)
        other._keys = self._keys
        return other

    @classmethod
    def for_store(cls, store, lookup: Callable[[list[str]], Mapping[str, int]] | None = None) -> Comparator:
        """For a `data.store.Store`; `lookup` defaults to its uncached `protected_counts`."""
        return cls(
            store.codebook,
            ReleaseFacts.from_release(store.release, store.release_lengths),
            store.combination_key,
            lookup or store.protected_counts,
        )

    def compare(self, selection: Mapping[str, Sequence[str | None]], synthetic: int) -> Comparison:
        return self.compare_many([(selection, synthetic)])[0]

    def compare_many(self, requests: Iterable[tuple[Mapping[str, Sequence[str | None]], int]]) -> list[Comparison]:
        requests = list(requests)
        if not self.facts.has_aggregates:
            message = gettext("No protected counts were published with this release.")
            return [Comparison(int(n), NO_AGGREGATES, message=message) for _, n in requests]
        plans = [self._plan(selection) for selection, _ in requests]
        keys = sorted(
            {
                t.key
                for parts in plans
                if parts is not None
                for _, _, terms, bound_terms in parts
                for t in terms + bound_terms
                if t.key is not None
            }
        )
        counts = dict(self.lookup(keys)) if keys else {}
        return [self._evaluate(parts, int(n), counts) for parts, (_, n) in zip(plans, requests)]

    # --- planning --------------------------------------------------------------------------------

    def _parts(self, selection) -> list[Items] | None:
        names = [n for n in self.codebook.names if selection.get(n)]
        choices = [list(selection[n]) for n in names]
        if math.prod(len(c) for c in choices) > MAX_PARTS:
            return None
        return [tuple(zip(names, values)) for values in product(*choices)]

    def _plan(self, selection):
        """[(items, kind, terms, bound_terms)] per part, or None when there are too many parts."""
        parts = self._parts(selection)
        if parts is None:
            return None
        return [self._plan_part(items) for items in parts]

    def _term(self, items: Iterable[tuple[str, str]], sign: int = 1) -> Term:
        items = tuple(items)
        if not items:
            return Term(None, sign, items)
        key = self._keys.get(items)
        if key is None:
            key = self._keys[items] = self.key_of(dict(items))
        return Term(key, sign, items)

    def _plan_part(self, items: Items):
        known = [(a, v) for a, v in items if v is not None]
        missing = [a for a, v in items if v is None]
        limit = self.facts.reporting_length
        if len(items) > limit:
            size = min(limit, len(known))
            # The lower bound's T's, of length R − 1 (none when an item is "not recorded").
            bases = tuple(self._term(sub) for sub in combinations(known, limit - 1)) if not missing else ()
            return items, BEYOND, bases, tuple(self._term(sub) for sub in combinations(known, size))
        if not missing:
            return items, EXACT, (self._term(known),), ()
        domains = [self.codebook[a].values for a in missing]
        if math.prod(len(d) + 1 for d in domains) > self.max_terms:
            return items, UNDERIVABLE, (), ()
        terms = []
        for r in range(len(missing) + 1):
            for subset in combinations(range(len(missing)), r):
                for values in product(*(domains[i] for i in subset)):
                    extra = [(missing[i], v) for i, v in zip(subset, values)]
                    terms.append(self._term(known + extra, -1 if r % 2 else 1))
        return items, DERIVED, tuple(terms), ()

    # --- evaluation ------------------------------------------------------------------------------

    def _count(self, term: Term, counts: Mapping[str, int]) -> int | None:
        return self.facts.record_count if term.key is None else counts.get(term.key)

    def _noise(self, terms: Iterable[Term]) -> float | None:
        sds = [self.facts.sd(t.length) for t in terms]
        return None if any(s is None for s in sds) else math.sqrt(sum(s * s for s in sds))

    def _evaluate_part(self, items, kind, terms, bound_terms, counts) -> Part:
        if kind == BEYOND:
            released = {t.items: self._count(t, counts) for t in bound_terms}
            found = [c for c in released.values() if c is not None]
            lost = len(bound_terms) - len(found)
            bound = min(found) if found else None
            lower = self._lower_bound(items, terms, released, counts)
            return Part(
                items,
                BEYOND,
                bound=bound,
                lower=lower if bound is None else min(lower, bound),
                noise_sd=self.facts.sd(bound_terms[0].length) if found else None,
                explain=lambda: self._beyond_reason(items, lost, bound_terms[0].length if lost else 0),
            )
        if kind == EXACT:
            count = self._count(terms[0], counts)
            if count is not None:
                return Part(items, EXACT, count, self._noise(terms))
            return Part(items, SUPPRESSED, explain=lambda: self._suppressed_reason(items, terms[0].length))
        if kind == UNDERIVABLE:
            return Part(
                items,
                UNDERIVABLE,
                explain=lambda: gettext(
                    "%(combination)s: deriving a “not recorded” count here would take more than %(limit)s protected "
                    "counts, so it is not attempted here.",
                    combination=self.describe(items),
                    limit=format_count(self.max_terms),
                ),
            )
        values = [self._count(t, counts) for t in terms]
        lost = [t for t, v in zip(terms, values) if v is None]
        if lost:
            return Part(
                items,
                UNDERIVABLE,
                unreleased=len(lost),
                explain=lambda: ngettext(
                    "%(combination)s: a “not recorded” count is derived by subtracting released counts, and "
                    "%(lost)s of the %(num)s needed was suppressed (for example %(example)s).",
                    "%(combination)s: a “not recorded” count is derived by subtracting released counts, and "
                    "%(lost)s of the %(num)s needed were suppressed (for example %(example)s).",
                    len(terms),
                    combination=self.describe(items),
                    lost=format_count(len(lost)),
                    example=self.describe(lost[0].items) if lost[0].items else gettext("the protected record count"),
                ),
            )
        total = sum(t.sign * v for t, v in zip(terms, values))
        return Part(items, DERIVED, max(0, total), self._noise(terms))

    def _lower_bound(self, items: Items, bases: Sequence[Term], released: Mapping[Items, int | None], counts) -> int:
        """max(0, Σ_c n(T ∪ {c}) − (m − 1)·n(T) − Z95·its noise sd) over the T's in `bases` whose
        counts were all released (see the module's docstring); `released` holds the counts of
        the sub-combinations of length R. Without a published noise, no allowance is made."""
        best = 0.0
        for base in bases:
            base_count = self._count(base, counts)
            inside = set(base.items)
            extended = [
                released.get(tuple(i for i in items if i in inside or i == extra))
                for extra in items
                if extra not in inside
            ]
            if base_count is None or any(n is None for n in extended):
                continue
            m = len(extended)
            sd_long, sd_base = self.facts.sd(base.length + 1), self.facts.sd(base.length)
            allowance = (
                0.0
                if sd_long is None or sd_base is None
                else Z95 * math.sqrt(m * sd_long**2 + (m - 1) ** 2 * sd_base**2)
            )
            best = max(best, sum(extended) - (m - 1) * base_count - allowance)
        return math.floor(best)

    def _beyond_reason(self, items: Items, lost: int, length: int) -> str:
        reason = gettext(
            "%(combination)s combines %(count)s attributes, more than the reporting length of "
            "%(length)s: the release has no protected count for it",
            combination=self.describe(items),
            count=len(items),
            length=self.facts.reporting_length,
        )
        if lost:
            reason += ngettext(
                "; %(num)s of its sub-combinations of length %(length)s was suppressed, so it is probably rare",
                "; %(num)s of its sub-combinations of length %(length)s were suppressed, so it is probably rare",
                lost,
                length=length,
            )
        return reason + "."

    def _suppressed_reason(self, items: Items, length: int) -> str:
        threshold = self.facts.thresholds.get(length)
        if threshold is not None and math.isfinite(threshold):
            return gettext(
                "%(combination)s was suppressed: its noisy count was at or below the release's threshold "
                "of %(threshold)s for combinations of length %(length)s, or it does not occur at all.",
                combination=self.describe(items),
                threshold=format_fixed(threshold, 1),
                length=length,
            )
        return gettext(
            "%(combination)s was suppressed: its noisy count was too small to keep, or it does not occur at all.",
            combination=self.describe(items),
        )

    def _evaluate(self, plan, synthetic: int, counts) -> Comparison:
        if plan is None:
            return Comparison(
                synthetic,
                UNAVAILABLE,
                message=gettext(
                    "This selection has more than %(limit)s exact combinations; choose fewer values to compare it with "
                    "protected counts.",
                    limit=format_count(MAX_PARTS),
                ),
            )
        parts = [self._evaluate_part(*p, counts) for p in plan]
        if parts and parts[0].status == BEYOND:
            bounds = [p.bound for p in parts]
            bound = None if any(b is None for b in bounds) else sum(bounds)
            sds = [p.noise_sd for p in parts]
            noise = None if bound is None or None in sds else math.sqrt(sum(s * s for s in sds))
            return Comparison(
                synthetic, BEYOND, bound=bound, lower=sum(p.lower for p in parts), noise_sd=noise, parts=tuple(parts)
            )
        found = [p for p in parts if p.count is not None]
        if not found:
            return Comparison(synthetic, UNAVAILABLE, parts=tuple(parts))
        sds = [p.noise_sd for p in found]
        noise = None if any(s is None for s in sds) else math.sqrt(sum(s * s for s in sds))
        status = (
            LOWER_BOUND if len(found) < len(parts) else (DERIVED if any(p.status == DERIVED for p in parts) else EXACT)
        )
        return Comparison(synthetic, status, sum(p.count for p in found), noise, parts=tuple(parts))

    # --- labels ----------------------------------------------------------------------------------

    def describe(self, items: Items) -> str:
        """“Age group 39–47 and Gender not recorded”, or “all records” for no items."""
        if not items:
            return gettext("All records")
        return gettext(" and ").join(f"{self.codebook[a].label} {self.codebook[a].label_of(v)}" for a, v in items)


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
