"""Synthetic data with planted structure, one generator driven by each case's ``synthetic`` spec.

What is planted, and returned as :class:`Truth` beside the tables:

- **Segments.** Every customer belongs to one latent segment. Segments differ in purchase rate,
  spend level and, for "lapsed"-type segments (``active_share`` < 1), in stopping early in the
  year. Clustering RFM-type features should recover them.
- **Low-rank preferences.** Items belong to categories. Each customer has two favourite
  categories, drawn from their segment's category affinity, and buys 70% of the time from them.
  Within a category, items follow a Zipf popularity curve. Collaborative filtering can learn a
  customer's favourite categories; a popularity list cannot.
- **Regression effects.** Each target is ``intercept + sum(coef * column) + noise`` (continuous)
  or Bernoulli with ``logit p = intercept + sum(coef * column)`` (binary), over customer
  attributes and ``frequency`` (the number of purchase occasions in the observation year, as
  :func:`marketing.features.rfm` computes it). Categorical effects are offsets against the first
  listed level. A correct linear model recovers the coefficients.

Everything is drawn from one ``numpy.random.Generator`` seeded by ``seed``, in a fixed order, so
the same seed gives identical tables on any machine.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketing.cases import CaseStudy, get_case

SIZES = ("small", "medium", "large")
_CHUNK = 1_000_000  # rows per block when sampling items, to bound memory at large sizes


@dataclass(frozen=True)
class Truth:
    """The structure planted by the generator.

    Attributes
    ----------
    segments : pandas.Series
        Latent segment name per customer, indexed by customer id.
    segment_names : list of str
        Segment names in the order of the spec.
    favourite_categories : pandas.DataFrame
        Each customer's two favourite item categories (``first``, ``second``).
    item_category : pandas.Series
        Category of each item, indexed by item id.
    effects : dict
        Per target column: ``kind`` ("continuous" or "binary"), ``intercept``, ``coef``
        (numeric column -> coefficient; categorical column -> {level: offset}),
        ``reference`` (categorical column -> reference level) and ``noise_sd``.
    observation_end : pandas.Timestamp
        End of the generated event log; targets describe the period after it.
    stopped_buying : pandas.Series or None
        True for each customer whose buying stopped before the observation end (the segments
        with an ``active_share`` below 1: they buy only in the first part of the log), the
        dropout a buy-till-you-die model's P(alive) should find.
    """

    segments: pd.Series
    segment_names: list[str]
    favourite_categories: pd.DataFrame
    item_category: pd.Series
    effects: dict[str, dict]
    observation_end: pd.Timestamp
    extra: dict = field(default_factory=dict)
    stopped_buying: pd.Series | None = None

    def coefficients(self, target: str) -> pd.Series:
        """Planted coefficients of ``target`` as a flat Series.

        Numeric columns keep their names; a categorical level is named ``column_level``
        (one-hot against the reference level), matching
        :class:`sklearn.preprocessing.OneHotEncoder` with ``drop="first"``-style names.
        """
        spec = self.effects[target]
        flat = {"intercept": spec["intercept"]}
        for column, value in spec["coef"].items():
            if isinstance(value, dict):
                for level, offset in value.items():
                    if level != spec["reference"][column]:
                        flat[f"{column}_{level}"] = offset
            else:
                flat[column] = value
        return pd.Series(flat, name=target, dtype=float)


@dataclass(frozen=True)
class SyntheticData:
    """Raw tables named as the case's sources name them, plus the truth."""

    tables: dict[str, pd.DataFrame]
    truth: Truth


def _sizes(spec: dict, key: str, size: str) -> int:
    if size not in SIZES:
        raise ValueError(f"unknown data_size {size!r}; choose one of {list(SIZES)}.")
    return int(spec[key][size])


def _attribute(rng, spec: dict, segment: np.ndarray, n: int):
    if "levels" in spec:
        levels = list(map(str, spec["levels"]))
        codes = rng.choice(len(levels), size=n, p=spec["p"])
        return pd.Categorical.from_codes(codes, categories=levels)
    mean = np.asarray(spec["mean"], dtype=float)
    mean = mean[segment] if mean.ndim else mean
    values = np.clip(rng.normal(mean, spec["sd"], size=n), spec["min"], spec["max"])
    return np.round(values) if spec.get("integer") else np.round(values, 2)


def _linear_predictor(effect: dict, columns: dict[str, np.ndarray], reference: dict) -> np.ndarray:
    n = len(next(iter(columns.values())))
    eta = np.full(n, float(effect["intercept"]))
    for column, coef in effect["coef"].items():
        values = columns[column]
        if isinstance(coef, dict):
            levels = np.asarray(values.astype(str))
            for level, offset in coef.items():
                if level != reference[column]:
                    eta += offset * (levels == level)
        else:
            eta += coef * np.asarray(values, dtype=float)
    return eta


def _sample_categories(rng, pref: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Draw one category per event from its customer's preference row (inverse CDF, blockwise)."""
    cum = np.cumsum(pref, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(owner))
    out = np.empty(len(owner), dtype=np.int16)
    for lo in range(0, len(owner), _CHUNK):
        hi = lo + _CHUNK
        out[lo:hi] = (cum[owner[lo:hi]] < u[lo:hi, None]).sum(axis=1)
    return out


def generate(case: str | CaseStudy, size: str = "small", seed: int = 42) -> SyntheticData:
    """Generate a case's raw tables with planted segments, preferences and effects.

    Parameters
    ----------
    case : str or CaseStudy
        A case with a ``synthetic`` section (all built-in cases have one).
    size : {"small", "medium", "large"}
        "small" (2,000 customers, about a second) is the default for notebooks and tests;
        "large" has a million customers and more than ten million events.
    seed : int
        Seed of the random generator: the same seed gives identical tables.

    Returns
    -------
    SyntheticData
        ``tables`` keyed by the source table names in the case's ``tables`` section, and
        ``truth``.

    Examples
    --------
    >>> data = generate("health", size="small", seed=1)
    >>> sorted(data.tables)
    ['members', 'participation', 'programmes']
    >>> data.truth.segments.value_counts().index[0] in data.truth.segment_names
    True
    """
    case = get_case(case)
    spec = case.synthetic
    if not spec:
        raise ValueError(f"case {case.name!r} has no 'synthetic' section to generate data from.")
    rng = np.random.default_rng(seed)
    n = _sizes(spec, "n_customers", size)
    m = _sizes(spec, "n_items", size)
    segs = spec["segments"]
    n_seg = len(segs)
    categories = list(spec["categories"])
    n_cat = len(categories)
    start = pd.Timestamp(spec["start"])
    days = int(spec["days"])
    end = start + pd.Timedelta(days=days)

    # customers: segment, attributes, signup date
    segment = rng.choice(n_seg, size=n, p=[s["share"] for s in segs])
    attributes = {name: _attribute(rng, a, segment, n) for name, a in spec["attributes"].items()}
    active_share = np.array([s.get("active_share", 1.0) for s in segs])[segment]
    lapsed = active_share < 1.0
    # most customers joined before the year; some during it (never the lapsed, who must have
    # been active early on)
    joined_during = (rng.random(n) < 0.1) & ~lapsed
    tenure_before = rng.integers(30, 5 * 365, size=n)
    joined_offset = rng.integers(0, int(days * 0.75), size=n)
    signup_day = np.where(joined_during, joined_offset, -tenure_before)
    window_start = np.maximum(signup_day, 0).astype(float)
    window_end = np.where(lapsed, days * active_share * rng.uniform(0.7, 1.3, size=n), days)
    window_end = np.maximum(window_end, window_start + 1.0)

    # items: category blocks with Zipf popularity inside each category
    item_cat = np.sort(np.arange(m) % n_cat)
    item_value = np.round(rng.lognormal(np.log(spec["item_value"]["median"]), spec["item_value"]["sigma"], m), 2)
    item_value = np.maximum(item_value, 0.5)
    rank_in_cat = np.concatenate([rng.permutation(np.sum(item_cat == c)) for c in range(n_cat)])
    weight = 1.0 / (rank_in_cat + 1.0) ** 0.9
    cat_total = np.bincount(item_cat, weights=weight, minlength=n_cat)
    within = np.cumsum(weight) - np.concatenate([[0.0], np.cumsum(cat_total)[:-1]])[item_cat]
    item_key = item_cat + within / cat_total[item_cat]
    last_in_cat = np.r_[item_cat[1:] != item_cat[:-1], True]
    item_key[last_in_cat] = item_cat[last_in_cat] + 1.0
    item_quality = rng.normal(0.0, 0.4, m)

    # preferences: two favourite categories per customer, drawn from the segment's affinity
    affinity = rng.dirichlet(np.full(n_cat, 0.8), size=n_seg)
    gumbel = np.log(affinity[segment]) + rng.gumbel(size=(n, n_cat))
    fav = np.argsort(-gumbel, axis=1)[:, :2]
    pref = 0.1 / n_cat + 0.2 * affinity[segment]
    rows = np.arange(n)
    pref[rows, fav[:, 0]] += 0.42
    pref[rows, fav[:, 1]] += 0.28

    # purchase occasions ("orders"): at least one per customer, uniform over the active window
    rate = np.array([s["events_per_year"] for s in segs], dtype=float)[segment]
    rate = rate * rng.lognormal(0.0, 0.15, n) * (window_end - window_start) / 365.0
    n_orders = 1 + rng.poisson(np.maximum(rate - 1.0, 0.0))
    order_owner = np.repeat(rows, n_orders)
    n_total = len(order_owner)
    order_day = window_start[order_owner] + rng.random(n_total) * (
        window_end[order_owner] - window_start[order_owner]
    )
    order_time = start.to_datetime64() + (order_day * 86400).astype("timedelta64[s]")
    by_time = np.lexsort((order_time, order_owner))
    order_time = order_time[by_time]
    order_id = np.arange(1, n_total + 1, dtype=np.int64)
    orders = {"order_id": order_id, "customer_id": (order_owner + 1).astype(np.int64), "timestamp": order_time}

    shape = spec.get("shape", "events")
    lines = 1 + np.minimum(rng.poisson(0.5, n_total), 3) if shape == "orders" else np.ones(n_total, int)
    line_order = np.repeat(np.arange(n_total), lines)
    line_owner = order_owner[line_order]
    cat = _sample_categories(rng, pref, line_owner)
    item = np.searchsorted(item_key, cat + rng.random(len(cat)), side="left")
    value_mult = np.array([s["value_multiplier"] for s in segs])[segment] * rng.lognormal(0, 0.15, n)
    quantity = 1 + rng.poisson(0.3, len(item)) if shape == "orders" else np.ones(len(item), int)
    amount = np.round(quantity * item_value[item] * value_mult[line_owner] * rng.lognormal(0, 0.15, len(item)), 2)
    if spec.get("amount_integer"):
        amount = np.maximum(np.round(amount), 1.0)

    events = {
        "order_id": order_id[line_order],
        "customer_id": (line_owner + 1).astype(np.int64),
        "item_id": (item + 1).astype(np.int64),
        "timestamp": order_time[line_order],
        "amount": amount,
        "quantity": quantity,
    }
    if spec.get("explicit_ratings"):
        is_fav = (cat == fav[line_owner, 0]) | (cat == fav[line_owner, 1])
        latent = 2.7 + 1.4 * is_fav + item_quality[item] + rng.normal(0, 0.7, len(item))
        events["rating"] = np.clip(np.round(latent), 1, 5).astype(np.int64)

    # targets from documented effects over attributes and observed frequency
    columns = dict(attributes, frequency=n_orders)
    reference = {k: str(a["levels"][0]) for k, a in spec["attributes"].items() if "levels" in a}
    targets = {}
    effects = {}
    for kind, target in case.targets.items():
        effect = spec["effects"][target.column]
        eta = _linear_predictor(effect, columns, reference)
        if kind == "continuous":
            targets[target.column] = np.round(eta + rng.normal(0, effect["noise_sd"], n), 2)
        else:
            targets[target.column] = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(np.int64)
        effects[target.column] = {
            "kind": kind,
            "intercept": effect["intercept"],
            "coef": effect["coef"],
            "reference": {c: reference[c] for c in effect["coef"] if c in reference},
            "noise_sd": effect.get("noise_sd"),
        }
    for column, extra in spec.get("extra_columns", {}).items():
        # a leakage column: a noisy copy of the target it leaks, to show why it must be excluded
        leaked = targets[extra["leaks"]].astype(float)
        targets[column] = np.round(leaked * rng.uniform(0.8, 1.2, n) + rng.normal(0, 0.1 * leaked.std() + 0.1, n), 2)

    customer_ids = rows + 1
    signup = start.to_datetime64() + signup_day.astype("timedelta64[D]")
    customers = pd.DataFrame({"customer_id": customer_ids, "signup_date": signup, **attributes, **targets})
    item_ids = np.arange(1, m + 1)
    within_rank = rank_in_cat + 1
    items = pd.DataFrame(
        {
            "item_id": item_ids,
            "name": [f"{categories[c].title()} #{r}" for c, r in zip(item_cat, within_rank)],
            "category": pd.Categorical.from_codes(item_cat, categories=categories),
            "price": item_value,
        }
    )
    truth = Truth(
        segments=pd.Series(np.asarray(segs_names := [s["name"] for s in segs])[segment], index=pd.Index(customer_ids, name="customer_id"), name="segment"),
        segment_names=segs_names,
        favourite_categories=pd.DataFrame(
            {"first": np.asarray(categories)[fav[:, 0]], "second": np.asarray(categories)[fav[:, 1]]},
            index=pd.Index(customer_ids, name="customer_id"),
        ),
        item_category=pd.Series(np.asarray(categories)[item_cat], index=pd.Index(item_ids, name="item_id"), name="category"),
        effects=effects,
        observation_end=end,
        stopped_buying=pd.Series(lapsed, index=pd.Index(customer_ids, name="customer_id"), name="stopped_buying"),
    )
    tables = _shape_tables(case, customers, items, orders, events, spec, rng)
    return SyntheticData(tables=tables, truth=truth)


def _shape_tables(case: CaseStudy, customers, items, orders, events, spec, rng) -> dict[str, pd.DataFrame]:
    """Name the tables and columns as the case's ``tables`` section says its sources do."""
    t = case.tables
    mapping = t["events"]["columns"]
    out = {
        t["customers"]["table"]: customers.rename(columns={"customer_id": t["customers"]["id"]}),
        t["items"]["table"]: items.rename(columns={"item_id": t["items"]["id"]}),
    }
    join = t["events"].get("join")
    if join:
        # a header table, one row per order, and the lines that reference it
        out[join["table"]] = pd.DataFrame({mapping[k]: v for k, v in orders.items()}, copy=False)
        line_roles = [r for r in mapping if r in events and r not in ("customer_id", "timestamp")]
    else:
        line_roles = [r for r in mapping if r in events and r != "order_id"]
    log = pd.DataFrame({mapping[r]: events[r] for r in line_roles}, copy=False)
    if spec.get("return_rate"):
        # returns: a copy of some lines with negated quantity and amount, as shops record them
        returned = log.loc[rng.random(len(log)) < spec["return_rate"]]
        negated = {mapping[r]: -returned[mapping[r]] for r in ("quantity", "amount") if r in mapping}
        log = pd.concat([log, returned.assign(**negated)], ignore_index=True)
    out[t["events"]["table"]] = log
    return out
