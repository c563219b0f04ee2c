"""Checks for ``workshop/01_segmentation.ipynb``: choose k and defend it; read a profile.

The notebook segments the e-commerce case's small synthetic data (2,000 customers, seed 42),
whose generator planted the segments, so a check knows the right number of segments and which
segment is which.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from marketing.workshop.result import CheckResult, exercise, as_whole_number, right, wrong

CASE = "ecommerce"
SEED = 42
DATA_SIZE = "small"
K_RANGE = (2, 8)


@lru_cache(maxsize=1)
def workshop_data():
    """The notebook's case, data and customer table (computed once per process)."""
    from marketing import get_case, load_case_data
    from marketing.features import customer_table

    case = get_case(CASE)
    data = load_case_data(CASE, data_size=DATA_SIZE, seed=SEED)
    return case, data, customer_table(data, case.segmentation_features)


@lru_cache(maxsize=1)
def _reference() -> dict:
    from marketing.segmentation import Segmenter, segment_profiles

    _, data, table = workshop_data()
    segmenter = Segmenter(k_range=K_RANGE, random_state=SEED).fit(table)
    n_planted = int(data.truth.segments.nunique())
    fitted = Segmenter(n_segments=n_planted, random_state=SEED).fit(table)
    return {
        "n_planted": n_planted,
        "scores": segmenter.k_scores_,
        "profiles": segment_profiles(table, fitted.labels_, value="monetary"),
    }


@exercise("exercise 1")
def exercise_1(answer) -> CheckResult:
    """Check the chosen number of segments ``k`` against the planted one.

    Parameters
    ----------
    answer : int
        The number of segments the learner chose from the k-selection scores.

    Returns
    -------
    CheckResult
        Right when ``answer`` is the planted number of segments; otherwise what the scores say
        at that k, and which score to read.
    """
    name = "exercise 1"
    k = as_whole_number(answer)
    if k is None:
        return wrong(name, f"{answer!r} is not a whole number of segments.",
                     "Answer a number such as segmenter.n_segments_ or the k you read off the scores.")
    ref = _reference()
    truth, scores = ref["n_planted"], ref["scores"]
    if k == truth:
        return right(name, f"{k} segments: the silhouette is highest and Davies-Bouldin lowest at k = {k}, "
                           "and the generator planted exactly that many.")
    if k not in scores.index:
        return wrong(name, f"k = {k} is outside the range searched ({scores.index.min()}-{scores.index.max()}).",
                     "Pick the k from segmenter.k_scores_ that most scores agree on.")
    best_ch = int(scores["calinski_harabasz"].idxmax())
    if k < truth:
        return wrong(name, f"k = {k} is too few: at k = {k} the silhouette is {scores.loc[k, 'silhouette']:.3f}, "
                           f"lower than its peak, so distinct groups are merged.",
                     "Find the k where the silhouette is highest and Davies-Bouldin is lowest.")
    if k == best_ch:
        return wrong(name, f"Calinski-Harabasz peaks at k = {k}, but it tends to reward more clusters; "
                           "the silhouette and Davies-Bouldin both prefer fewer.",
                     "When scores disagree, prefer the k most of them agree on, and the one the business can act on.")
    return wrong(name, f"k = {k} is too many: the silhouette falls to {scores.loc[k, 'silhouette']:.3f} "
                       "and the extra segments split real groups.",
                 "Find the k where the silhouette is highest and Davies-Bouldin is lowest.")


@exercise("exercise 2")
def exercise_2(answer) -> CheckResult:
    """Check which segment the learner names as the lapsed customers (for the win-back campaign).

    Parameters
    ----------
    answer : int
        A segment number from the profile of the k-means segmentation with the planted k.

    Returns
    -------
    CheckResult
        Right when ``answer`` is the segment with the longest time since the last purchase.
    """
    name = "exercise 2"
    profiles: pd.DataFrame = _reference()["profiles"]
    segment = as_whole_number(answer)
    labels = [int(s) for s in profiles.index]
    if segment is None or segment not in labels:
        return wrong(name, f"{answer!r} is not one of the segments {labels}.",
                     "Answer the segment number: the index of the profile table.")
    lapsed = int(profiles["recency_days"].idxmax())
    best = int(profiles["monetary"].idxmax())
    days = profiles["recency_days"]
    if segment == lapsed:
        return right(name, f"segment {segment} last bought {days[segment]:.0f} days ago on average, the longest of all "
                           "segments, and buys rarely: lapsed customers, the win-back audience.")
    if segment == best:
        return wrong(name, f"segment {segment} spends the most and bought recently ({days[segment]:.0f} days): "
                           "those are the best customers, not lapsed ones.",
                     "Lapsed means a long time since the last purchase: read the recency_days column.")
    return wrong(name, f"segment {segment} last bought {days[segment]:.0f} days ago on average; another segment has "
                       f"been away much longer ({np.max(days):.0f} days).",
                 "recency_days is days since the last purchase: the lapsed segment has the largest value.")
