"""Who to contact: gains and lift by decile, the expected-profit rule and the campaign list.

The contact rule. Contacting a customer costs ``contact_cost``; reaching a customer whose
outcome is positive (a responder, or a churner / drop-out / admission that the contact
addresses) is worth ``response_value``. With ``p`` the calibrated probability of a positive
outcome, contacting is worth ``p * response_value - contact_cost`` in expectation, so the rule
is: **contact when p exceeds the break-even probability contact_cost / response_value.**
The expected profit of a campaign is the sum of that quantity over the contacted customers;
on held-out data the *realised* profit uses the observed outcomes instead of ``p``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.validation import DataValidationError

#: Deciles (1 = highest scores) in each score band of the case playbook.
SCORE_BANDS = {"high": (1, 2), "medium": (3, 5), "low": (6, 10)}


def _check_costs(contact_cost: float, response_value: float) -> None:
    if not contact_cost >= 0 or not response_value > 0:
        raise ValueError(
            f"contact_cost must be >= 0 and response_value > 0, got {contact_cost!r} and "
            f"{response_value!r}. Set them under 'targeting' in the case file."
        )


def assign_deciles(score, n_bins: int = 10) -> np.ndarray:
    """Bin 1 holds the highest ``1/n_bins`` of scores, bin ``n_bins`` the lowest.

    Rows are ranked by decreasing score, ties by position, and cut into equal-count bins, so
    every bin has ``n / n_bins`` rows (rounded down for the first bins).

    Examples
    --------
    >>> assign_deciles([0.1, 0.9, 0.5, 0.7, 0.3], n_bins=5).tolist()
    [5, 1, 3, 2, 4]
    """
    s = np.asarray(score, dtype=float)
    if np.isnan(s).any():
        raise DataValidationError("score has missing values; every customer needs a score to be ranked.")
    order = np.argsort(-s, kind="stable")
    rank = np.empty(len(s), dtype=np.int64)
    rank[order] = np.arange(len(s))
    return (rank * n_bins // len(s) + 1).astype(np.int64)


def gains_table(y_true, score, n_bins: int = 10) -> pd.DataFrame:
    """Gains and lift by score decile (decile 1 = highest scores).

    Columns: ``customers``, ``positives``, ``rate`` (share positive in the decile),
    ``lift`` (rate / overall rate), ``cum_share_contacted``, ``cum_gain`` (share of all positives
    found in deciles 1..d) and ``cum_lift`` (cum_gain / cum_share_contacted).

    Examples
    --------
    A known ranking: 10 customers, best score first, positives at ranks 1, 2 and 4.

    >>> y = [1, 1, 0, 1, 0, 0, 0, 0, 0, 0]
    >>> table = gains_table(y, np.arange(10, 0, -1), n_bins=5)
    >>> table["positives"].tolist(), table["lift"].round(3).tolist()
    ([2, 1, 0, 0, 0], [3.333, 1.667, 0.0, 0.0, 0.0])
    >>> table["cum_gain"].round(3).tolist()
    [0.667, 1.0, 1.0, 1.0, 1.0]
    """
    y = np.asarray(y_true, dtype=float)
    if y.sum() == 0:
        raise DataValidationError("gains_table: the outcome has no positives, so gains are undefined.")
    decile = assign_deciles(score, n_bins)
    grouped = pd.DataFrame({"decile": decile, "y": y}).groupby("decile")["y"]
    table = pd.DataFrame({"customers": grouped.size(), "positives": grouped.sum().astype("int64")})
    overall = y.mean()
    table["rate"] = table["positives"] / table["customers"]
    table["lift"] = table["rate"] / overall
    table["cum_share_contacted"] = table["customers"].cumsum() / len(y)
    table["cum_gain"] = table["positives"].cumsum() / y.sum()
    table["cum_lift"] = table["cum_gain"] / table["cum_share_contacted"]
    return table


def break_even_probability(contact_cost: float, response_value: float) -> float:
    """The probability above which a contact pays for itself: ``contact_cost / response_value``.

    >>> break_even_probability(5.0, 120.0)
    0.041666666666666664
    """
    _check_costs(contact_cost, response_value)
    return contact_cost / response_value


def profit_curve(y_true, proba, contact_cost: float, response_value: float) -> pd.DataFrame:
    """Profit of contacting the top ``k`` customers by score, for every ``k`` from 0 to n.

    Columns: ``contacted`` (k), ``share_contacted``, ``expected_profit`` (sum over the top k of
    ``p * response_value - contact_cost``) and ``realised_profit`` (``response_value`` times the
    positives among them minus ``k * contact_cost``, using the observed outcomes).

    Examples
    --------
    >>> curve = profit_curve([1, 0, 1, 0], [0.8, 0.6, 0.4, 0.2], contact_cost=1.0, response_value=10.0)
    >>> curve["realised_profit"].tolist()      # 0, 10-1, 10-2, 20-3, 20-4
    [0.0, 9.0, 8.0, 17.0, 16.0]
    >>> curve["expected_profit"].round(2).tolist()
    [0.0, 7.0, 12.0, 15.0, 16.0]
    """
    _check_costs(contact_cost, response_value)
    y = np.asarray(y_true, dtype=float)
    p = np.asarray(proba, dtype=float)
    order = np.argsort(-p, kind="stable")
    k = np.arange(len(p) + 1)
    expected = np.r_[0.0, np.cumsum(p[order] * response_value - contact_cost)]
    realised = np.r_[0.0, np.cumsum(y[order] * response_value - contact_cost)]
    return pd.DataFrame(
        {
            "contacted": k,
            "share_contacted": k / len(p),
            "expected_profit": expected,
            "realised_profit": realised,
        }
    )


def campaign_list(
    customer_id,
    proba,
    contact_cost: float,
    response_value: float,
    *,
    actions: dict[str, str] | None = None,
    n_bins: int = 10,
) -> pd.DataFrame:
    """The campaign list: every customer with score, decile, band and the contact decision.

    ``contact`` is ``"yes"`` when the score exceeds :func:`break_even_probability`;
    ``expected_profit`` is ``score * response_value - contact_cost``. Bands follow
    :data:`SCORE_BANDS` and, given the playbook's ``actions`` per band, an ``action`` column is
    added. Rows are ordered from the highest score down.

    Examples
    --------
    >>> campaign_list([11, 12, 13], [0.02, 0.5, 0.1], contact_cost=5.0, response_value=100.0)
       customer_id  score  decile    band contact  expected_profit
    0           12   0.50       1    high     yes             45.0
    1           13   0.10       4  medium     yes              5.0
    2           11   0.02       7     low      no             -3.0
    """
    threshold = break_even_probability(contact_cost, response_value)
    p = np.asarray(proba, dtype=float)
    decile = assign_deciles(p, n_bins)
    scaled = (decile - 1) * 10 // n_bins + 1   # the band cut points are stated in tenths
    band = np.select(
        [scaled <= SCORE_BANDS["high"][1], scaled <= SCORE_BANDS["medium"][1]], ["high", "medium"], "low"
    )
    frame = pd.DataFrame(
        {
            CUSTOMER: np.asarray(customer_id),
            "score": p,
            "decile": decile,
            "band": band,
            "contact": np.where(p > threshold, "yes", "no"),
            "expected_profit": p * response_value - contact_cost,
        }
    )
    if actions is not None:
        frame["action"] = frame["band"].map(actions)
    return frame.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def export_campaign_list(frame: pd.DataFrame, export_dir: str | Path = ".") -> Path:
    """Write the campaign list for the CRM (real ids, scores rounded to 4 decimals); return its path.

    The file is ``contact_list_crm_real_ids.csv``: see :func:`marketing.privacy.crm_export_path`.
    """
    from marketing.privacy import write_crm_export

    return write_crm_export(frame.round({"score": 4, "expected_profit": 2}), export_dir, "contact_list")
