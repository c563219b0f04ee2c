"""From segments to action: profiles against the whole base, names, playbook actions, the audience."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.frames import collect
from marketing.segmentation.labels import SEGMENT, labelled
from marketing.validation import DataValidationError

#: Words for a feature whose segment index is low or high; other features get
#: "low <feature>" / "high <feature>".
DESCRIPTORS: dict[str, tuple[str, str]] = {
    "recency_days": ("recent", "lapsed"),
    "frequency": ("infrequent", "frequent"),
    "monetary": ("low value", "high value"),
    "avg_order_value": ("small transactions", "large transactions"),
    "n_items": ("narrow range", "broad range"),
}


def segment_profiles(
    table, labels, value: str | None = "monetary", stat: str = "mean",
) -> pd.DataFrame:
    """Size, share, feature averages and index against the whole base for each segment.

    Columns: ``size`` (customers), ``share`` (of all customers), ``value_share`` (share of the
    total of ``value``, e.g. revenue; absent when ``value`` is None), then for each feature
    its segment ``stat`` (mean or median) and ``<feature>_index`` = 100 x segment statistic /
    whole-base statistic (100 = like the average customer, 200 = twice the average).

    One grouped aggregate on every engine (:func:`~marketing.segmentation.labels.labelled`):
    ``labels`` is an array in the table's row order in memory, a DataFrame of ``customer_id``
    and ``segment`` on Spark. The result is small: a pandas frame indexed by segment.

    Raises
    ------
    ValueError
        Customers of ``table`` without a segment, or an unknown ``stat``.

    Examples
    --------
    >>> table = pd.DataFrame({"frequency": [1, 3, 10, 10], "monetary": [10.0, 30.0, 100.0, 60.0]})
    >>> print(segment_profiles(table, [0, 0, 1, 1]).round(1).to_string())
             size  share  value_share  frequency  monetary  frequency_index  monetary_index
    segment
    0           2    0.5          0.2        2.0      20.0             33.3            40.0
    1           2    0.5          0.8       10.0      80.0            166.7           160.0
    """
    if stat not in ("mean", "median"):
        raise ValueError(f"stat must be 'mean' or 'median', got {stat!r}.")
    frame, features = labelled(table, labels)
    if value is not None and value not in features:
        raise DataValidationError(
            f"customer table has no value column {value!r} for the value share; it has "
            f"{features}. Pass value=None to leave the share out."
        )
    frame = frame.with_columns(nw.col(*features).cast(nw.Float64))  # integer sums would overflow on Spark
    numbers = [nw.col(f) for f in features]
    aggregates = [nw.len().alias("_size"), *(x.sum().alias(f"_sum{i}") for i, x in enumerate(numbers))]
    if stat == "median":
        aggregates += [x.median().alias(f"_c{i}") for i, x in enumerate(numbers)]
    grouped = collect(frame.group_by(SEGMENT).agg(*aggregates))
    unlabelled = grouped.loc[grouped[SEGMENT].isna(), "_size"].sum()
    if unlabelled:
        raise ValueError(
            f"labels has no segment for {int(unlabelled)} of the table's customers: label every customer "
            "of the table, or profile the labelled customers only."
        )
    grouped = grouped.astype({SEGMENT: "int64"}).set_index(SEGMENT).sort_index()
    size = grouped["_size"].astype("int64")
    sums = grouped[[f"_sum{i}" for i in range(len(features))]].set_axis(features, axis=1)
    if stat == "mean":
        centre, base = sums.div(size, axis=0), sums.sum() / size.sum()
    else:
        centre = grouped[[f"_c{i}" for i in range(len(features))]].set_axis(features, axis=1)
        base = collect(frame.select(*(x.median().alias(f) for f, x in zip(features, numbers)))).iloc[0]
    out = pd.DataFrame({"size": size})
    out["share"] = out["size"] / size.sum()
    if value is not None:
        out["value_share"] = sums[value] / sums[value].sum()
    out = out.join(centre.astype(float))
    index = 100 * centre.astype(float) / base.astype(float).where(base != 0)
    return out.join(index.add_suffix("_index"))


def name_segments(
    profiles: pd.DataFrame,
    descriptors: Mapping[str, tuple[str, str]] = DESCRIPTORS,
    threshold: float = 25.0,
    max_terms: int = 3,
) -> pd.Series:
    """A readable name per segment from its feature indices (see :func:`segment_profiles`).

    A feature whose index is at least ``100 + threshold`` is "high", at most
    ``100 - threshold`` "low"; it is described by its word from ``descriptors`` (or
    "high <feature>" / "low <feature>"). The ``max_terms`` features furthest from average (by
    ``|log(index / 100)|``, so halving counts as much as doubling) make the name; a segment
    with none is "average". Repeated names get " (2)", " (3)".

    Examples
    --------
    >>> profiles = pd.DataFrame({"recency_days_index": [40.0, 300.0, 95.0],
    ...                          "frequency_index": [180.0, 30.0, 110.0],
    ...                          "income_index": [100.0, 100.0, 140.0]})
    >>> name_segments(profiles).tolist()
    ['recent, frequent', 'infrequent, lapsed', 'high income']
    """
    if threshold <= 0 or threshold >= 100:
        raise ValueError(f"threshold must be between 0 and 100 (index points), got {threshold}.")
    cols = [c for c in profiles if c.endswith("_index")]
    if not cols:
        raise ValueError(
            "profiles has no '<feature>_index' columns; build it with segment_profiles."
        )
    index = profiles[cols].rename(columns=lambda c: c.removesuffix("_index"))
    strength = np.abs(np.log(index.clip(lower=1e-9) / 100)).fillna(0)
    names = []
    for seg in index.index:
        row, power = index.loc[seg], strength.loc[seg].sort_values(ascending=False, kind="stable")
        terms = []
        for feature in power.index:
            value = row[feature]
            if not (value >= 100 + threshold or value <= 100 - threshold):
                continue
            low, high = descriptors.get(feature, (f"low {feature}", f"high {feature}"))
            terms.append(high if value >= 100 else low)
            if len(terms) == max_terms:
                break
        names.append(", ".join(terms) if terms else "average")
    names = pd.Series(names, index=profiles.index, name="segment_name", dtype="str")
    repeat = names.groupby(names).cumcount() + 1
    return names.where(repeat == 1, names + " (" + repeat.astype(str) + ")")


def action_rules_for(case) -> list[dict[str, Any]]:
    """The profile rules that map segments to ``case``'s playbook actions.

    They live in the case file under ``playbook: segment_rules:``, as a list of
    ``{"segment": playbook key, "when": {feature: [min_index, max_index]}}`` on the index
    against the whole base (100 = average; ``null`` leaves a side open), first match wins.
    They describe what the playbook's segment names mean (lapsed: long since the last purchase;
    high value: spends much and often), never the planted truth, so they apply to real data too.
    A case without rules maps every segment to the ``default`` action.
    """
    return list(case.playbook.get("segment_rules") or [])


def match_playbook(profiles: pd.DataFrame, rules: Sequence[Mapping[str, Any]]) -> pd.Series:
    """The playbook segment each profile matches: the first rule whose index ranges all hold.

    A rule is ``{"segment": key, "when": {feature: [min_index, max_index]}}`` (inclusive,
    ``None`` = open). Unmatched segments get ``"default"``.

    Examples
    --------
    >>> profiles = pd.DataFrame({"recency_days_index": [300.0, 50.0, 80.0],
    ...                          "monetary_index": [40.0, 220.0, 90.0]})
    >>> rules = [{"segment": "lapsed", "when": {"recency_days": [150, None]}},
    ...          {"segment": "high-value", "when": {"monetary": [150, None]}}]
    >>> match_playbook(profiles, rules).tolist()
    ['lapsed', 'high-value', 'default']
    """
    out = pd.Series("default", index=profiles.index, name="playbook_segment", dtype="str")
    done = np.zeros(len(profiles), dtype=bool)
    for rule in rules:
        if "segment" not in rule or "when" not in rule:
            raise ValueError(f"a playbook rule needs 'segment' and 'when', got {dict(rule)}.")
        match = ~done
        for feature, (low, high) in rule["when"].items():
            col = f"{feature}_index"
            if col not in profiles:
                # a rule about a feature this segmentation did not use cannot match
                match &= False
                continue
            values = profiles[col].to_numpy()
            if low is not None:
                match &= values >= low
            if high is not None:
                match &= values <= high
        out[match] = rule["segment"]
        done |= match
    return out


def segment_actions(
    profiles: pd.DataFrame, case, rules: Sequence[Mapping] | None = None
) -> pd.DataFrame:
    """Each segment's name, matched playbook segment and the case's action for it.

    Examples
    --------
    >>> from marketing.cases import get_case
    >>> profiles = pd.DataFrame({"recency_days_index": [320.0, 60.0],
    ...                          "frequency_index": [50.0, 105.0]})
    >>> segment_actions(profiles, get_case("ecommerce"))["playbook_segment"].tolist()
    ['lapsed', 'default']
    """
    rules = action_rules_for(case) if rules is None else rules
    playbook = match_playbook(profiles, rules)
    return pd.DataFrame(
        {
            "segment_name": name_segments(profiles),
            "playbook_segment": playbook,
            "action": playbook.map(case.action_for_segment).astype("str"),
        }
    )


def audience_table(
    table, labels, actions: pd.DataFrame, noise_action: str = "no action",
):
    """One row per customer of ``table``: ``customer_id``, ``segment``, ``segment_name``, ``action``.

    ``labels`` are the segments (a :class:`~marketing.segmentation.Segmenter`'s ``labels_``:
    an array in the order of ``table``'s rows in memory, a Spark DataFrame of ``customer_id``
    and ``segment`` on Spark, where the audience is a Spark DataFrame too). ``actions`` is
    :func:`segment_actions` (indexed by segment), applied as a literal lookup, so nothing per
    customer is collected. Noise points (-1) are kept, named "unassigned (noise)", with
    ``noise_action`` (for example the playbook's default: ``case.action_for_segment("default")``).

    Examples
    --------
    >>> table = pd.DataFrame({"frequency": [3, 5]}, index=pd.Index([7, 9], name="customer_id"))
    >>> actions = pd.DataFrame({"segment_name": ["frequent"], "action": ["upsell"]})
    >>> audience_table(table, [0, 0], actions)
       customer_id  segment segment_name  action
    0            7        0     frequent  upsell
    1            9        0     frequent  upsell
    """
    frame, _ = labelled(table, labels)
    frame = frame.select(CUSTOMER, nw.col(SEGMENT).cast(nw.Int64))
    present = collect(frame.select(SEGMENT).unique())[SEGMENT].dropna()
    unknown = sorted(int(s) for s in present if s >= 0 and s not in actions.index)
    if unknown:
        raise ValueError(f"actions has no row for segment(s) {unknown}.")
    segment = nw.col(SEGMENT)

    def lookup(column: str, noise: str):
        expr = nw.lit(noise, nw.String)
        for seg, text in actions[column].items():
            expr = nw.when(segment == int(seg)).then(nw.lit(str(text), nw.String)).otherwise(expr)
        return expr.alias(column)

    out = frame.with_columns(lookup("segment_name", "unassigned (noise)"), lookup("action", noise_action))
    return out.to_native()
