"""The rule-based baseline: quantile scores, named RFM segments (or, without an event log, thirds
of one feature), and their cross-tab with clusters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import narwhals as nw
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import collect, count_where, running_sums, scalars
from marketing.segmentation.labels import SEGMENT, segment_pairs
from marketing.segmentation.preprocess import require_numeric_features
from marketing.validation import DataValidationError

#: Named RFM segments: the first rule whose score ranges all hold wins. Each rule maps a score
#: (``R``, ``F``, ``M``) to an inclusive ``(low, high)`` range on the 1-5 scale.
RFM_RULES: tuple[tuple[str, dict[str, tuple[int, int]]], ...] = (
    ("Champions", {"R": (4, 5), "F": (4, 5), "M": (4, 5)}),
    ("Loyal", {"R": (3, 5), "F": (4, 5)}),
    ("New", {"R": (4, 5), "F": (1, 2)}),
    ("At risk", {"R": (1, 2), "F": (3, 5)}),
    ("Hibernating", {"R": (1, 2), "F": (1, 2)}),
)
RFM_DEFAULT = "Needs attention"
#: The groups of the baseline of a table without recency, frequency and monetary columns.
THIRDS = ("low", "middle", "high")
#: The columns the RFM rules read.
RFM_FEATURES = ("recency_days", "frequency", "monetary")


def is_rfm(names) -> bool:
    """Whether baseline segment ``names`` are the RFM rules' (else thirds of a feature)."""
    return bool(set(names) & ({name for name, _ in RFM_RULES} | {RFM_DEFAULT}))


def baseline_segments(table):
    """The rule-based baseline the clusters are judged against, and a sentence saying which one.

    With recency, frequency and monetary columns: the classic RFM rules
    (``rfm_segments(rfm_scores(table))``). Without them (a table of one row per person): the
    table's first feature cut into three equal-count groups, ``low``, ``middle`` and ``high``
    (ties share a group): the rule of thumb an analyst tries first. The same kind as
    :func:`rfm_segments` returns, on any engine.

    Examples
    --------
    >>> people = pd.DataFrame({"age": [20, 30, 40, 50, 60, 70], "income": [1.0, 2, 3, 4, 5, 6]})
    >>> baseline_segments(people).tolist()
    Baseline: this table has no recency, frequency and monetary columns, so the baseline cuts its first feature, age, into thirds.
    ['low age', 'low age', 'middle age', 'middle age', 'high age', 'high age']
    """
    columns = [c for c in nw.from_native(table).columns if c != CUSTOMER]
    if set(RFM_FEATURES) <= set(columns):
        print("Baseline: the classic RFM rules on quintile scores of recency, frequency and monetary value.")
        return rfm_segments(rfm_scores(table))
    feature = columns[0]
    print(f"Baseline: this table has no recency, frequency and monetary columns, so the baseline cuts its "
          f"first feature, {feature}, into thirds.")
    scores = nw.from_native(quantile_score_table(table, {"_third": (feature, True)}, len(THIRDS)))
    name = nw.lit(f"{THIRDS[-1]} {feature}", nw.String)
    for score, level in reversed(list(enumerate(THIRDS[:-1], start=1))):
        name = nw.when(nw.col("_third") == score).then(nw.lit(f"{level} {feature}", nw.String)).otherwise(name)
    out = scores.with_columns(name.alias("rfm_segment")).drop("_third").to_native()
    return out if engine_of(table) == "spark" else out["rfm_segment"]


def quantile_scores(values: pd.Series, n_bins: int = 5, higher_is_better: bool = True) -> pd.Series:
    """Score values 1..``n_bins`` by quantile; tied values share one score.

    The score is ``ceil(n_bins * r / n)`` where ``r`` is the value's average rank (ties get the
    mean of their ranks) among ``n`` values, so with distinct values each score holds
    ``n / n_bins`` customers. Fallback for heavy ties: rather than splitting identical customers
    arbitrarily between scores (as ranking "first come" would) a tied block gets the single
    score of its average rank, and the score groups are then unequal in size; a feature whose
    values are all equal scores ``ceil(n_bins * (n + 1) / (2 n))`` (the middle) for everyone.
    The rule is :func:`quantile_score_table`'s (one column of a table on any engine).

    Examples
    --------
    >>> quantile_scores(pd.Series([10, 20, 30, 40, 50])).tolist()
    [1, 2, 3, 4, 5]
    >>> quantile_scores(pd.Series([1, 1, 1, 1, 9])).tolist()
    [3, 3, 3, 3, 5]
    >>> quantile_scores(pd.Series([3, 30, 300]), higher_is_better=False).tolist()
    [5, 4, 2]
    """
    frame = pd.DataFrame({"_x": values.to_numpy()}, index=values.index)
    scores = quantile_score_table(frame, {"_x": ("_x", higher_is_better)}, n_bins, name="values")
    return scores["_x"].rename(values.name)


def quantile_score_table(table, scores: Mapping[str, tuple[str, bool]], n_bins: int = 5, *, name: str = "customer table"):
    """Quantile scores (the rule of :func:`quantile_scores`) of several columns of a table, on any engine.

    The rank of a value is found without a window over the whole table (which on Spark would put
    every row in one partition): the distinct values of every column are counted and cumulated
    in one sort (:func:`marketing.frames.running_sums`), which gives each value's average rank and
    score. Since the score never decreases with the value, only the smallest value of each score
    is collected, and each customer's score compares its value with those thresholds.

    Parameters
    ----------
    table : DataFrame (pandas, or Spark with ``customer_id``)
    scores : mapping
        Score name -> ``(column, higher_is_better)``.
    n_bins : int
    name : str
        The table's name in error messages.

    Returns
    -------
    DataFrame
        In memory the scores, indexed like ``table``; on Spark ``customer_id`` and the scores (lazy).

    Examples
    --------
    >>> quantile_score_table(pd.DataFrame({"x": [1, 1, 1, 1, 9]}), {"s": ("x", True)})["s"].tolist()
    [3, 3, 3, 3, 5]
    """
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}.")
    frame = nw.from_native(table)
    keys = [] if isinstance(table, pd.DataFrame) else [CUSTOMER]
    for column in keys + [c for c, _ in scores.values()]:
        if column not in frame.columns:
            raise DataValidationError(
                f"{name} has no column '{column}' for RFM scoring; it has "
                f"{[c for c in frame.columns if c != CUSTOMER]}. Include it in the features, or name the column with "
                "recency=/frequency=/monetary=."
            )
    require_numeric_features(frame, list(dict.fromkeys(c for c, _ in scores.values())), name)
    signed = [(nw.col(c).cast(nw.Float64) * (1.0 if up else -1.0)) for c, up in scores.values()]
    row = scalars(frame, _n=nw.len(), **{f"_{i}": count_where(v.is_null() | v.is_nan()) for i, v in enumerate(signed)})
    missing = {c: row[f"_{i}"] for i, (c, _) in enumerate(scores.values()) if row[f"_{i}"]}
    if missing:
        raise DataValidationError(
            f"{name}: column(s) {list(missing)} have missing values ({sum(missing.values())} cells); RFM "
            "scores need every customer's value. Fill or drop them first and count what you dropped."
        )
    if not row["_n"]:
        raise DataValidationError(f"{name} is empty (0 rows): RFM scores need at least one customer.")
    thresholds = _score_thresholds(frame.select(*[v.alias(f"_{i}") for i, v in enumerate(signed)]), len(signed), row["_n"], n_bins)
    out = frame.select(*keys, *[_score(v, t).alias(name) for v, t, name in zip(signed, thresholds, scores)])
    return out.to_native()


def _score_thresholds(signed, n_columns: int, n: int, n_bins: int) -> list[dict[int, float]]:
    """For each signed column ``_i`` and each score present, the smallest signed value that gets it."""
    stacked = signed.unpivot(on=[f"_{i}" for i in range(n_columns)], variable_name="_col", value_name="_v")
    counts = stacked.group_by("_col", "_v").agg(nw.len().alias("_c"))
    cumulated, _ = running_sums(counts, ["_col", "_v"], [False, False], ["_c"])
    # the running count crosses the columns in order: column i starts after i * n values
    before = nw.lit(0)
    for i in range(1, n_columns):
        before = nw.when(nw.col("_col") == f"_{i}").then(nw.lit(i * n)).otherwise(before)
    average_rank = nw.col("_cum__c") - nw.col("_c") - before + (nw.col("_c") + 1) / 2.0
    score = (average_rank * float(n_bins) / float(n)).ceil().clip(1, n_bins).cast(nw.Int64)
    found = collect(cumulated.with_columns(_s=score).group_by("_col", "_s").agg(nw.col("_v").min()))
    thresholds: list[dict[int, float]] = [{} for _ in range(n_columns)]
    for column, s, start in zip(found["_col"], found["_s"], found["_v"]):
        thresholds[int(column[1:])][int(s)] = float(start)
    return thresholds


def _score(value: nw.Expr, thresholds: dict[int, float]) -> nw.Expr:
    """The highest score whose smallest value ``value`` reaches (tested from the highest down)."""
    ordered = sorted(thresholds.items())
    lowest = nw.lit(ordered[0][0], nw.Int64)
    score = nw.when(value.is_null()).then(lowest).otherwise(lowest)  # a column, not one literal row
    for s, start in ordered[1:]:
        score = nw.when(value >= start).then(nw.lit(s, nw.Int64)).otherwise(score)
    return score


def rfm_scores(
    table,
    n_bins: int = 5,
    *,
    recency: str = "recency_days",
    frequency: str = "frequency",
    monetary: str = "monetary",
):
    """Classic RFM scores 1..``n_bins`` per customer (5 = best), see :func:`quantile_scores`, on any engine.

    ``R`` is higher for *fewer* days since the last purchase; ``F`` and ``M`` are higher for
    more. ``RFM`` is the three digits as a string, e.g. ``"545"``. In memory the result is indexed
    like ``table``; on Spark it is a lazy DataFrame of ``customer_id``, ``R``, ``F``, ``M``, ``RFM``.

    Examples
    --------
    >>> table = pd.DataFrame({"recency_days": [5, 40, 200, 90, 10],
    ...                       "frequency": [12, 3, 1, 6, 2],
    ...                       "monetary": [900.0, 80.0, 20.0, 300.0, 150.0]})
    >>> rfm_scores(table)
       R  F  M  RFM
    0  5  5  5  555
    1  3  3  2  332
    2  1  1  1  111
    3  2  4  4  244
    4  4  2  3  423
    """
    wanted = {"R": (recency, False), "F": (frequency, True), "M": (monetary, True)}
    scores = nw.from_native(quantile_score_table(table, wanted, n_bins))
    digits = nw.concat_str([nw.col(s).cast(nw.String) for s in "RFM"]).alias("RFM")
    out = scores.with_columns(digits).to_native()
    return out.astype({"RFM": "str"}) if isinstance(out, pd.DataFrame) else out


def rfm_segments(
    scores,
    rules: Sequence[tuple[str, Mapping[str, tuple[int, int]]]] = RFM_RULES,
    default: str = RFM_DEFAULT,
):
    """Name each customer's RFM segment from a rule table (first matching rule wins).

    One ``CASE WHEN`` on every engine. In memory the result is a Series ``rfm_segment`` aligned
    with ``scores``; on Spark, ``scores`` with an ``rfm_segment`` column added.

    Parameters
    ----------
    scores : DataFrame
        ``R``, ``F``, ``M`` scores from :func:`rfm_scores`.
    rules : sequence of (name, {score: (low, high)})
        Inclusive score ranges; see :data:`RFM_RULES` for the default table.
    default : str
        Name for customers that match no rule.

    Examples
    --------
    >>> scores = pd.DataFrame({"R": [5, 4, 5, 1, 2, 3], "F": [5, 4, 1, 4, 1, 3],
    ...                        "M": [5, 2, 1, 3, 2, 3]})
    >>> rfm_segments(scores).tolist()
    ['Champions', 'Loyal', 'New', 'At risk', 'Hibernating', 'Needs attention']
    """
    frame = nw.from_native(scores)
    name = nw.lit(default, nw.String)
    for rule, conditions in reversed(list(rules)):  # built inside out: the first rule is tested first
        unknown = [score for score in conditions if score not in frame.columns]
        if unknown:
            raise ValueError(f"RFM rule {rule!r} uses score(s) {unknown}; scores has {list(frame.columns)}.")
        match = nw.lit(True)
        for score, (low, high) in conditions.items():
            match = match & nw.col(score).is_between(low, high, closed="both")
        name = nw.when(match).then(nw.lit(rule, nw.String)).otherwise(name)
    out = frame.with_columns(name.alias("rfm_segment")).to_native()
    return out if engine_of(scores) == "spark" else out["rfm_segment"]


def rfm_crosstab(
    labels, segment_names: pd.Series, rfm,
    rules: Sequence[tuple[str, Mapping]] = RFM_RULES, default: str = RFM_DEFAULT,
) -> pd.DataFrame:
    """Customers per cluster (rows, ``"<segment>: <name>"``) and RFM segment (columns).

    Columns follow the rule table's order; rows the segment numbers, with noise (-1) last
    when present. Empty RFM segments are kept as zero columns. Every customer is counted, in
    one grouped count on any engine (``labels`` and ``rfm`` as :func:`~marketing.segmentation.labels.segment_pairs`
    takes them).

    Examples
    --------
    >>> names = pd.Series(["frequent", "lapsed"])
    >>> rfm = pd.Series(["Champions", "Champions", "Hibernating", "New"])
    >>> rfm_crosstab([0, 0, 1, -1], names, rfm).iloc[:, [0, 4, 5]]
    RFM segment  Champions  Hibernating  Needs attention
    cluster
    0: frequent          2            0                0
    1: lapsed            0            1                0
    -1: noise            0            0                0
    """
    pairs = segment_pairs(labels, rfm, "rfm_segment")
    counts = collect(pairs.group_by(SEGMENT, "rfm_segment").agg(nw.len().alias("customers")))
    present = set(counts["rfm_segment"])
    if is_rfm(present):
        order = [name for name, _ in rules] + [default]
        order += sorted(present - set(order))
    else:  # thirds of a feature (baseline_segments): low, middle, high
        order = sorted(present, key=lambda name: (THIRDS.index(name.split(" ")[0]) if name.split(" ")[0] in THIRDS else 9, name))
    rows = [f"{s}: {n}" for s, n in segment_names.items()] + ["-1: noise"]
    segments = list(segment_names.index) + [-1]
    table = (
        counts.pivot_table(index=SEGMENT, columns="rfm_segment", values="customers", aggfunc="sum")
        .reindex(index=segments, columns=order).fillna(0).astype("int64")
    )
    table.index = pd.CategoricalIndex(rows, categories=rows, name="cluster")
    table.columns = pd.CategoricalIndex(order, categories=order, name="RFM segment" if is_rfm(present) else "baseline segment")
    return table.loc[(table.sum(axis=1) > 0) | (table.index != "-1: noise")]


def segment_counts(rfm, min_size: int | None = None) -> pd.DataFrame:
    """Customers per RFM segment (largest first, ties by name), on any engine: a small pandas table.

    ``rfm`` is what :func:`rfm_segments` returns: a Series of names (in memory) or a Spark
    DataFrame with ``customer_id`` and ``rfm_segment``. For a report, ``min_size`` blanks the
    counts of segments with fewer customers (:func:`marketing.privacy.suppress_small_cells`;
    their names are the rule table's, so they stay).

    Examples
    --------
    >>> rfm = pd.Series(["New", "Loyal", "New"], name="rfm_segment")
    >>> segment_counts(rfm)
                 customers
    rfm_segment
    New                  2
    Loyal                1
    >>> segment_counts(rfm, min_size=2)
                 customers
    rfm_segment
    New                2.0
    Loyal              NaN
    """
    frame = nw.from_native(rfm.rename("rfm_segment").to_frame() if isinstance(rfm, pd.Series) else rfm)
    counts = collect(frame.group_by("rfm_segment").agg(nw.len().alias("customers")))
    counts = counts.sort_values(["customers", "rfm_segment"], ascending=[False, True], kind="stable")
    counts = counts.set_index("rfm_segment")[["customers"]].astype({"customers": "int64"})
    if min_size is None:
        return counts
    from marketing.privacy import suppress_small_cells

    return suppress_small_cells(counts, min_size=min_size).table
