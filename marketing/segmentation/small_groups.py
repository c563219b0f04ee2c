"""Small segments in what a report publishes: suppressed everywhere, and warned about.

A segment of fewer than ``min_size`` customers (the template's ``min_group_size``, 10 by default)
is described nowhere a report shows: not its size or share, not its profile or the name and
action derived from that profile, not its cells of the cross-tab with the baseline. The rule is
:func:`marketing.privacy.is_small`; the tables go through
:func:`marketing.privacy.suppress_small_cells`, and the figures of
:mod:`marketing.plots.segmentation` blank and hatch the same rows and cells. What stays exact is
the number of customers in all: with several small segments only their total follows from it.

The audience export for the CRM keeps every segment (it is the list to act on, not a report).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.privacy import DEFAULT_MIN_SIZE, Suppression, is_small, small_group_label, suppress_small_cells

#: The noise label of HDBSCAN: customers in no segment.
NOISE = -1


def published_names(profiles: pd.DataFrame, names: pd.Series, min_size: int = DEFAULT_MIN_SIZE) -> pd.Series:
    """Segment names as a report may show them: a small segment's name (which sums up its profile)
    becomes ``"<10 customers"``.

    Parameters
    ----------
    profiles : DataFrame
        :func:`~marketing.segmentation.segment_profiles` (its ``size`` column is read).
    names : Series
        The names by segment, e.g. ``segment_actions(...)["segment_name"]``.
    min_size : int, default 10

    Examples
    --------
    >>> profiles = pd.DataFrame({"size": [120, 4]})
    >>> published_names(profiles, pd.Series(["loyal", "high income, lapsed"])).tolist()
    ['loyal', '<10 customers']
    """
    small = is_small(profiles["size"].reindex(names.index), min_size)
    return names.astype("str").where(~small, small_group_label(min_size))


def segment_summary(profiles: pd.DataFrame, actions: pd.DataFrame, min_size: int = DEFAULT_MIN_SIZE) -> Suppression:
    """Each segment's size, share, value share, name and action, small segments suppressed.

    The table the report shows under "what to do": a segment with fewer than ``min_size``
    customers keeps its number and nothing else (its name and action are derived from its
    profile, so they describe those few customers too).

    Parameters
    ----------
    profiles : DataFrame
        :func:`~marketing.segmentation.segment_profiles`.
    actions : DataFrame
        :func:`~marketing.segmentation.segment_actions`.
    min_size : int, default 10

    Returns
    -------
    Suppression
        ``.table`` to show, ``.note()`` to say what was suppressed.

    Examples
    --------
    >>> profiles = pd.DataFrame({"size": [120, 4], "share": [0.968, 0.032], "value_share": [0.9, 0.1]})
    >>> actions = pd.DataFrame({"segment_name": ["loyal", "lapsed"], "action": ["thank", "win back"]})
    >>> print(segment_summary(profiles, actions).table)
        size  share  value_share segment_name action
    0  120.0  0.968          0.9        loyal  thank
    1    NaN    NaN          NaN          NaN    NaN
    """
    columns = [c for c in ("size", "share", "value_share") if c in profiles]
    return suppress_small_cells(profiles[columns].join(actions), "size", min_size=min_size)


def segment_sizes(profiles: pd.DataFrame, names: pd.Series, min_size: int = DEFAULT_MIN_SIZE) -> dict:
    """Customers per segment for the record: ``{name: size}``, a small segment as ``{"segment 5": "<10"}``.

    Sizes of at least ``min_size`` are exact integers; a small segment is keyed by its number
    (its name describes it) and valued ``"<min_size"``, so the record stays JSON.

    Examples
    --------
    >>> segment_sizes(pd.DataFrame({"size": [120, 4]}), pd.Series(["loyal", "rare"]))
    {'loyal': 120, 'segment 1': '<10'}
    """
    sizes = profiles["size"]
    small = is_small(sizes, min_size)
    return {
        (f"segment {s}" if small[s] else names[s]): (f"<{min_size}" if small[s] else int(n))
        for s, n in sizes.items()
    }


def segment_warnings(segmenter, profiles: pd.DataFrame, min_size: int = DEFAULT_MIN_SIZE) -> list[str]:
    """Short warnings about segments too small for the data: too many segments, and small ones.

    Two checks on the segments (HDBSCAN's noise is not a segment, but its customers count):

    - **too many segments**: the median segment has fewer than ``min_size`` customers, or there
      are more segments than ``n_customers / min_size`` (so they cannot all be publishable);
    - **small segments**: how many have fewer than ``min_size`` customers (suppressed in the
      report), with the fix for the way the number of segments was chosen: a smaller ``k_max``
      for ``n_segments="auto"``, a smaller ``n_segments`` when fixed, a larger
      ``min_cluster_size`` for HDBSCAN; or a smaller ``min_group_size``, where the rules on
      publishing data about people allow it.

    Parameters
    ----------
    segmenter : Segmenter
        The fitted segmenter (its ``method``, ``n_segments`` and ``n_segments_`` are read).
    profiles : DataFrame
        :func:`~marketing.segmentation.segment_profiles` of its labels.
    min_size : int, default 10

    Returns
    -------
    list of str
        Empty when the segments are all large enough.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> auto = SimpleNamespace(method="kmeans", n_segments="auto", n_segments_=4)
    >>> segment_warnings(auto, pd.DataFrame({"size": [900, 80, 15, 5]}))
    ['1 of 4 segments have fewer than 10 customers (suppressed in the report): set k_max below 4, or lower min_group_size if smaller groups may be published']
    >>> fixed = SimpleNamespace(method="kmeans", n_segments=250, n_segments_=250)
    >>> for warning in segment_warnings(fixed, pd.DataFrame({"size": [4] * 250})):
    ...     print(warning)
    too many segments: 250 for 1,000 customers, median size 4 (min_group_size 10); use at most 100
    250 of 250 segments have fewer than 10 customers (suppressed in the report): choose fewer than 250 (n_segments), or lower min_group_size if smaller groups may be published
    """
    sizes = profiles["size"]
    n_customers = int(sizes.sum())
    segments = sizes.drop(NOISE, errors="ignore")
    k = len(segments)
    out = []
    if k and (segments.median() < min_size or k > n_customers / min_size):
        out.append(
            f"too many segments: {k:,} for {n_customers:,} customers, median size {np.median(segments):g} "
            f"(min_group_size {min_size}); use at most {max(n_customers // min_size, 1):,}"
        )
    small = int(is_small(segments, min_size).sum())
    if small:
        if segmenter.method == "hdbscan":
            fix = f"raise min_cluster_size to {min_size} or more"
        elif segmenter.n_segments == "auto":
            fix = f"set k_max below {segmenter.n_segments_}"
        else:
            fix = f"choose fewer than {segmenter.n_segments_:,} (n_segments)"
        out.append(
            f"{small:,} of {k:,} segments have fewer than {min_size} customers (suppressed in the report): "
            f"{fix}, or lower min_group_size if smaller groups may be published"
        )
    return out
