"""Synthetic data with planted structure, one generator driven by each case's ``synthetic`` spec.

What is planted, and returned as :class:`Truth` beside the tables:

- **Segments.** Every customer belongs to one latent segment. Segments differ in purchase rate,
  spend level and, for "lapsed"-type segments (``active_share`` < 1), in stopping early in the
  year. Clustering RFM-type features should recover them.
- **Low-rank preferences.** Items belong to categories. Each customer has two favourite
  categories, drawn from their segment's category affinity and, with ``category_affinity_by``
  (for example ``region``), from the affinity of their level of those observable attributes, and
  buys 70% of the time from them. Within a category, items follow a Zipf popularity curve.
  Collaborative filtering can learn a customer's favourite categories; a popularity list cannot;
  popularity within the customer's attribute group can, partly, for a customer without history.
- **Cold start.** Besides the 10% of customers who join during the first three quarters of the
  year, 8% of the others (never the lapsed) join in its last quarter (an acquisition push), so a
  time split of the last 60 days has test customers with no history. 10% of the items (never the
  best seller of a category) are launched during the second half of the year: no event buys an
  item before its launch, and for six weeks after it (the launch campaign) a customer buying in
  one of their favourite categories picks the new item of that category 30% of the time.
- **A buy-till-you-die dropout.** A segment with a ``btyd`` block ``{r, alpha, a, b}`` buys as the
  BG/NBD model says (Fader, Hardie and Lee 2005), in weeks as :class:`marketing.clv.BetaGeo`
  fits it: each customer's purchase rate per week is lambda ~ Gamma(shape r, rate alpha), their
  dropout probability p ~ Beta(a, b); the first purchase falls in the log's first
  ``_BTYD_BIRTH_DAYS`` days, repeat purchases follow a Poisson process with rate lambda, and after
  each repeat purchase the customer drops out with probability p (so the repeat purchases up to
  the dropout are geometric(p)). The planted parameters are ``Truth.btyd_parameters``; who
  dropped out before the log's end is ``Truth.stopped_buying``.
- **Regression effects.** Each target is ``intercept + sum(coef * column) + noise`` (continuous)
  or Bernoulli with ``logit p = intercept + sum(coef * column)`` (binary), over customer
  attributes and ``frequency`` (the number of purchase occasions in the observation year, as
  :func:`marketing.features.rfm` computes it). Categorical effects are offsets against the first
  listed level. A correct linear model recovers the coefficients.

Everything is drawn from ``numpy.random.Generator`` objects seeded by ``seed``, in a fixed order,
so the same seed gives identical tables on any machine. The cold-start structure draws from its
own generators (``default_rng([seed, 1])`` and so on), so that segments, attributes, purchase times and
targets keep the draws they had before it was added. The BTYD segments draw from
``default_rng([seed, 4])``: the main generator still draws the purchases their segment's other keys
describe (and drops them), so every other customer keeps every row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from marketing.cases import CaseStudy, get_case

SIZES = ("small", "medium", "large")
_CHUNK = 1_000_000  # rows per block when sampling items, to bound memory at large sizes
# the cold-start structure (module docstring); the numbers are design choices, recorded in Truth
_LATE_JOIN_SHARE = 0.08  # of the customers who would have joined before the year (never the lapsed)
_LATE_JOIN_FROM = 0.75  # late joiners sign up in the last quarter of the year
_NEW_ITEM_SHARE = 0.10  # items launched during the year
_LAUNCH_FROM = 0.5  # launches are spread over the second half of the year ...
_LAUNCH_LAST_DAYS = 10  # ... up to this many days before its end, so each new item can sell
_CAMPAIGN_DAYS = 42  # a launch campaign lasts six weeks
_CAMPAIGN_PICK = 0.3  # during it, the share of favourite-category purchases that pick the new item
_ATTRIBUTE_CONCENTRATION = 0.5  # Dirichlet concentration of each attribute level's category weights
_ATTRIBUTE_STRENGTH = 2.0  # their exponent in a customer's mix: the attribute outweighs the latent segment
_BTYD_KEYS = ("r", "alpha", "a", "b")
_BTYD_BIRTH_DAYS = 56  # a BTYD customer's first purchase is uniform in the log's first eight weeks
_WEEK = 7.0  # the planted lambda is per week, the unit of marketing.clv.BetaGeo's fit


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
        True for each customer whose buying stopped before the observation end, the dropout a
        buy-till-you-die model's P(alive) should find: in a segment with an ``active_share`` below
        1 everyone (they buy only in the first part of the log); in a segment with a ``btyd``
        block, the customers who dropped out after a repeat purchase inside the log.
    attribute_affinity : dict of str to pandas.DataFrame
        Per attribute of ``category_affinity_by``: level x category weights (rows sum to 1);
        a customer's category mix is their segment's affinity times these weights of their
        levels, normalised, and drew their favourite categories. Empty
        when the spec has no ``category_affinity_by``.
    btyd_parameters : dict of str to dict
        Per segment with a ``btyd`` block, its planted BG/NBD parameters ``{r, alpha, a, b}``
        (lambda per week); empty when no segment has one.
    item_launch : pandas.Series or None
        Launch date of each item, indexed by item id (the items table's ``launch_date``): the
        items launched during the log have dates inside it, the others before its start.
    """

    segments: pd.Series
    segment_names: list[str]
    favourite_categories: pd.DataFrame
    item_category: pd.Series
    effects: dict[str, dict]
    observation_end: pd.Timestamp
    extra: dict = field(default_factory=dict)
    stopped_buying: pd.Series | None = None
    attribute_affinity: dict[str, pd.DataFrame] = field(default_factory=dict)
    item_launch: pd.Series | None = None
    btyd_parameters: dict[str, dict[str, float]] = field(default_factory=dict)

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


def _affinity_columns(spec: dict) -> list[str]:
    """The attributes named by ``category_affinity_by``, checked against ``attributes``."""
    by = spec.get("category_affinity_by") or []
    by = [by] if isinstance(by, str) else list(by)
    levelled = [name for name, a in spec["attributes"].items() if "levels" in a]
    for column in by:
        if column not in levelled:
            raise ValueError(
                f"synthetic.category_affinity_by: {column!r} is not a categorical attribute of "
                f"synthetic.attributes (those with levels: {levelled}); name one of them."
            )
    return by


def _attribute_mix(cold, spec: dict, attributes: dict, segment_affinity: np.ndarray, categories: list):
    """Each customer's category mix: the segment's affinity times their attribute levels' weights."""
    mix = segment_affinity.copy()
    weights = {}
    for column in _affinity_columns(spec):
        values = attributes[column]
        w = cold.dirichlet(np.full(len(categories), _ATTRIBUTE_CONCENTRATION), size=len(values.categories))
        w = w**_ATTRIBUTE_STRENGTH
        w /= w.sum(axis=1, keepdims=True)
        weights[column] = pd.DataFrame(w, index=pd.Index(list(values.categories), name=column), columns=categories)
        mix *= w[values.codes]
    # a Dirichlet weight can be tiny; the floor keeps its logarithm finite
    mix = np.maximum(mix, 1e-12)
    return mix / mix.sum(axis=1, keepdims=True), weights


def _launch_days(cold, rank_in_cat: np.ndarray, days: int) -> np.ndarray:
    """Launch day of each item (0 = the log's first day): a share inside the log, the rest before it.

    New items are never the best seller of their category, so every category has an item on sale
    from the first day; their launches are stratified over the second half of the log.
    """
    m = len(rank_in_cat)
    launch = -cold.integers(30, 3 * 365, size=m)
    candidates = np.flatnonzero(rank_in_cat > 0)
    k = min(max(1, int(round(_NEW_ITEM_SHARE * m))), len(candidates))
    new = cold.choice(candidates, size=k, replace=False)
    lo, hi = days * _LAUNCH_FROM, days - _LAUNCH_LAST_DAYS
    launch[new] = np.floor(lo + (hi - lo) * (cold.permutation(k) + cold.random(k)) / k).astype(int)
    return launch


def _respect_launches(cold, item, cat, day, launch_day, item_key, rank_in_cat, item_cat) -> np.ndarray:
    """Redraw, within the same category, every purchase of an item before its launch."""
    item = item.copy()
    todo = np.flatnonzero(day < launch_day[item])
    for _ in range(20):  # each round redraws only the purchases still too early
        if not len(todo):
            break
        item[todo] = np.searchsorted(item_key, cat[todo] + cold.random(len(todo)), side="left")
        todo = todo[day[todo] < launch_day[item[todo]]]
    if len(todo):
        # the category's best seller is always on sale (see _launch_days)
        top = np.flatnonzero(rank_in_cat == 0)
        item[todo] = top[np.argsort(item_cat[top])][cat[todo]]
    return item


def _launch_campaigns(cold, item, cat, day, is_fav, launch_day, item_cat, days) -> np.ndarray:
    """During a launch campaign, a favourite-category purchase picks the new item of that category.

    A purchase looks up the latest item of its category launched on or before its day (one
    ``searchsorted`` over category-then-launch keys); within ``_CAMPAIGN_DAYS`` of that launch,
    ``_CAMPAIGN_PICK`` of the favourite-category purchases switch to it.
    """
    new = np.flatnonzero(launch_day >= 0)
    if not len(new):
        return item
    span = 4.0 * days  # wider than any day, so a key orders by category first
    keys = item_cat[new] * span + launch_day[new]
    order = np.argsort(keys)
    new, keys = new[order], keys[order]
    pos = np.searchsorted(keys, cat * span + day, side="right") - 1
    candidate = new[np.maximum(pos, 0)]
    since = day - launch_day[candidate]
    switch = (pos >= 0) & (item_cat[candidate] == cat) & (since >= 0) & (since < _CAMPAIGN_DAYS) & is_fav
    switch &= cold.random(len(item)) < _CAMPAIGN_PICK
    return np.where(switch, candidate, item)


def _btyd_spec(segs: list) -> dict[int, dict[str, float]]:
    """The ``btyd`` block of each segment that has one, by segment index, checked."""
    out = {}
    for i, seg in enumerate(segs):
        block = seg.get("btyd")
        if block is None:
            continue
        where = f"synthetic.segments[{i}].btyd ({seg.get('name')!r})"
        if not isinstance(block, dict):
            raise ValueError(f"{where}: should be a mapping {{r, alpha, a, b}}, not {block!r}.")
        unknown = sorted(set(block) - set(_BTYD_KEYS))
        missing = [k for k in _BTYD_KEYS if k not in block]
        if unknown or missing:
            raise ValueError(f"{where}: unknown keys {unknown} / missing keys {missing}; give exactly {list(_BTYD_KEYS)}.")
        bad = [k for k in _BTYD_KEYS if isinstance(block[k], bool) or not isinstance(block[k], (int, float)) or not block[k] > 0]
        if bad:
            raise ValueError(f"{where}: {bad} must be positive numbers (Gamma shape and rate, Beta a and b).")
        out[i] = {k: float(block[k]) for k in _BTYD_KEYS}
    return out


def _btyd_orders(gen, members: np.ndarray, params: list[dict[str, float]], days: int):
    """The BG/NBD purchase process of each member: order owners and days, and who dropped out.

    ``params`` holds each member's segment parameters. Vectorised: the Poisson count of purchases
    over the whole remaining log is drawn once, their days are sorted uniforms (a Poisson process
    given its count), and only the first min(count, J) are kept, J ~ geometric(p) being the repeat
    purchase after which the customer drops out (J <= count: dropped out inside the log).
    """
    k = len(members)
    r, alpha, a, b = (np.array([q[key] for q in params]) for key in _BTYD_KEYS)
    lam = gen.gamma(r, 1.0 / alpha)  # per week
    p = np.clip(gen.beta(a, b), 1e-12, 1.0)
    birth = gen.random(k) * min(_BTYD_BIRTH_DAYS, days - 1)
    count = gen.poisson(lam * (days - birth) / _WEEK)
    dropout_at = gen.geometric(p)
    owner = np.repeat(np.arange(k), count)
    day = birth[owner] + gen.random(len(owner)) * (days - birth[owner])
    order = np.lexsort((day, owner))
    owner, day = owner[order], day[order]
    starts = np.concatenate([[0], np.cumsum(count)[:-1]])
    rank = np.arange(len(owner)) - starts[owner]  # 0 for the first repeat purchase
    repeat = rank < dropout_at[owner]
    owner = np.concatenate([np.arange(k), owner[repeat]])
    day = np.concatenate([birth, day[repeat]])
    order = np.lexsort((day, owner))
    return members[owner[order]], day[order], dropout_at <= count


def _order_lines(gen, launch_gen, owner, day, shape, pref, fav, item_key, launch_day, rank_in_cat, item_cat, days):
    """The lines of each order: how many, their categories and items (launches respected)."""
    n_orders = len(owner)
    lines = 1 + np.minimum(gen.poisson(0.5, n_orders), 3) if shape == "orders" else np.ones(n_orders, int)
    line_order = np.repeat(np.arange(n_orders), lines)
    line_owner = owner[line_order]
    cat = _sample_categories(gen, pref, line_owner)
    item = np.searchsorted(item_key, cat + gen.random(len(cat)), side="left")
    line_day = day[line_order]
    item = _respect_launches(launch_gen, item, cat, line_day, launch_day, item_key, rank_in_cat, item_cat)
    is_fav = (cat == fav[line_owner, 0]) | (cat == fav[line_owner, 1])
    item = _launch_campaigns(launch_gen, item, cat, line_day, is_fav, launch_day, item_cat, days)
    return line_order, item, is_fav


def _line_values(gen, spec, item, line_owner, is_fav, item_value, item_quality, value_mult):
    """Quantity, amount and (with ``explicit_ratings``) the rating of each line."""
    shape = spec.get("shape", "events")
    quantity = 1 + gen.poisson(0.3, len(item)) if shape == "orders" else np.ones(len(item), int)
    amount = np.round(quantity * item_value[item] * value_mult[line_owner] * gen.lognormal(0, 0.15, len(item)), 2)
    if spec.get("amount_integer"):
        amount = np.maximum(np.round(amount), 1.0)
    values = {"amount": amount, "quantity": quantity}
    if spec.get("explicit_ratings"):
        latent = 2.7 + 1.4 * is_fav + item_quality[item] + gen.normal(0, 0.7, len(item))
        values["rating"] = np.clip(np.round(latent), 1, 5).astype(np.int64)
    return values


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
    # the cold-start structure's own streams (joins, attribute affinity, launches): adding them
    # left every draw of ``rng`` as it was, and each leaves the others alone
    cold, cold_affinity, cold_launch = (np.random.default_rng([seed, i]) for i in (1, 2, 3))
    # the BTYD segments' own stream: their purchases, lines and returns
    btyd_rng = np.random.default_rng([seed, 4])
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
    btyd = _btyd_spec(segs)
    planted = np.isin(segment, list(btyd))
    # most customers joined before the year; some during it (never the lapsed, who must have
    # been active early on, nor the BTYD segments, whose first purchase is early in the log)
    early = lapsed | planted
    joined_during = (rng.random(n) < 0.1) & ~early
    tenure_before = rng.integers(30, 5 * 365, size=n)
    joined_offset = rng.integers(0, int(days * 0.75), size=n)
    signup_day = np.where(joined_during, joined_offset, -tenure_before)
    window_start = np.maximum(signup_day, 0).astype(float)
    window_end = np.where(lapsed, days * active_share * rng.uniform(0.7, 1.3, size=n), days)
    window_end = np.maximum(window_end, window_start + 1.0)
    # late joiners: customers who would have joined before the year sign up in its last quarter
    late = (cold.random(n) < _LATE_JOIN_SHARE) & ~early & ~joined_during
    late_day = cold.integers(int(days * _LATE_JOIN_FROM), days, size=n)
    signup_day = np.where(late, late_day, signup_day)

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
    launch_day = _launch_days(cold_launch, rank_in_cat, days)

    # preferences: two favourite categories per customer, drawn from the segment's affinity
    # times the affinity of the customer's level of each category_affinity_by attribute
    affinity = rng.dirichlet(np.full(n_cat, 0.8), size=n_seg)
    mix, attribute_affinity = _attribute_mix(cold_affinity, spec, attributes, affinity[segment], categories)
    gumbel = np.log(mix) + rng.gumbel(size=(n, n_cat))
    fav = np.argsort(-gumbel, axis=1)[:, :2]
    pref = 0.1 / n_cat + 0.2 * mix
    rows = np.arange(n)
    pref[rows, fav[:, 0]] += 0.42
    pref[rows, fav[:, 1]] += 0.28

    # purchase occasions ("orders"): at least one per customer, uniform over the active window
    rate = np.array([s["events_per_year"] for s in segs], dtype=float)[segment]
    rate = rate * rng.lognormal(0.0, 0.15, n) * (window_end - window_start) / 365.0
    n_orders = 1 + rng.poisson(np.maximum(rate - 1.0, 0.0))
    order_owner = np.repeat(rows, n_orders)
    n_total = len(order_owner)
    # a late joiner buys from the sign-up on: the same draws, squeezed into the shorter window,
    # and thinned below to the orders that window holds
    window_start = np.where(late, late_day, window_start).astype(float)
    order_day = window_start[order_owner] + rng.random(n_total) * (
        window_end[order_owner] - window_start[order_owner]
    )
    order_time = start.to_datetime64() + (order_day * 86400).astype("timedelta64[s]")
    by_time = np.lexsort((order_time, order_owner))
    order_time = order_time[by_time]
    order_day = order_day[by_time]
    first_order = np.r_[True, order_owner[1:] != order_owner[:-1]]
    kept_share = np.where(late, (days - late_day) / days, 1.0)
    keep = first_order | (cold.random(n_total) < kept_share[order_owner])
    shape = spec.get("shape", "events")
    lines_args = (shape, pref, fav, item_key, launch_day, rank_in_cat, item_cat, days)
    line_order, item, is_fav_line = _order_lines(rng, cold_launch, order_owner, order_day, *lines_args)
    value_mult = np.array([s["value_multiplier"] for s in segs])[segment] * rng.lognormal(0, 0.15, n)
    line_owner = order_owner[line_order]
    values = _line_values(rng, spec, item, line_owner, is_fav_line, item_value, item_quality, value_mult)
    # the orders a late joiner's shorter window does not hold, and their lines, go
    line_keep = keep[line_order]
    # a BTYD segment's orders are drawn again, from its own stream; the main stream's stay drawn
    # (so nobody else's draws move) and go
    b_owner, b_day, dropped = _btyd_orders(btyd_rng, np.flatnonzero(planted), [btyd[g] for g in segment[planted]], days)
    b_order, b_item, b_fav = _order_lines(btyd_rng, btyd_rng, b_owner, b_day, *lines_args)
    b_values = _line_values(btyd_rng, spec, b_item, b_owner[b_order], b_fav, item_value, item_quality, value_mult)

    # every order kept, in customer and time order, numbered 1, 2, ...
    order_kept = keep & ~planted[order_owner]
    owner_all = np.concatenate([order_owner[order_kept], b_owner])
    day_all = np.concatenate([order_day[order_kept], b_day])
    time_all = start.to_datetime64() + (day_all * 86400).astype("timedelta64[s]")
    sequence = np.lexsort((time_all, owner_all))
    order_number = np.empty(len(sequence), dtype=np.int64)
    order_number[sequence] = np.arange(1, len(sequence) + 1)
    n_orders = np.bincount(owner_all, minlength=n)
    orders = {"order_id": np.arange(1, len(sequence) + 1, dtype=np.int64),
              "customer_id": (owner_all[sequence] + 1).astype(np.int64), "timestamp": time_all[sequence]}
    # lines follow their orders: the main stream's kept lines, then the BTYD lines
    a_lines = line_keep & ~planted[line_owner]
    a_index = np.cumsum(order_kept) - 1  # an A order's position among the kept ones
    line_of = np.concatenate([a_index[line_order[a_lines]], order_kept.sum() + b_order])
    line_item = np.concatenate([item[a_lines], b_item])
    line_values = {k: np.concatenate([values[k][a_lines], b_values[k]]) for k in values}
    by_order = np.argsort(order_number[line_of], kind="stable")
    line_of = line_of[by_order]
    events = {
        "order_id": order_number[line_of],
        "customer_id": (owner_all[line_of] + 1).astype(np.int64),
        "item_id": (line_item[by_order] + 1).astype(np.int64),
        "timestamp": time_all[line_of],
        **{k: v[by_order] for k, v in line_values.items()},
    }

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

    returned = None
    if spec.get("return_rate"):
        # returns: a share of the lines, drawn per line where its order was drawn, BTYD lines last
        returned = np.concatenate([(rng.random(int(line_keep.sum())) < spec["return_rate"])[a_lines[line_keep]],
                                   btyd_rng.random(len(b_item)) < spec["return_rate"]])[by_order]
    stopped = lapsed.copy()
    stopped[np.flatnonzero(planted)] = dropped
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
            "launch_date": start.to_datetime64() + launch_day.astype("timedelta64[D]"),
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
        stopped_buying=pd.Series(stopped, index=pd.Index(customer_ids, name="customer_id"), name="stopped_buying"),
        attribute_affinity=attribute_affinity,
        item_launch=pd.Series(items["launch_date"].to_numpy(), index=pd.Index(item_ids, name="item_id"), name="launch_date"),
        btyd_parameters={segs_names[g]: dict(q) for g, q in btyd.items()},
    )
    tables = _shape_tables(case, customers, items, orders, events, returned)
    return SyntheticData(tables=tables, truth=truth)


def _shape_tables(case: CaseStudy, customers, items, orders, events, returned) -> dict[str, pd.DataFrame]:
    """Name the tables and columns as the case's ``tables`` section says its sources do.

    ``returned`` marks the lines returned (None: no returns).
    """
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
    if returned is not None:
        # returns: a copy of some lines with negated quantity and amount, as shops record them
        returned = log.loc[returned]
        negated = {mapping[r]: -returned[mapping[r]] for r in ("quantity", "amount") if r in mapping}
        log = pd.concat([log, returned.assign(**negated)], ignore_index=True)
    out[t["events"]["table"]] = log
    return out
