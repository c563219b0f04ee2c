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

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER
from marketing.frames import collect, count_where
from marketing.regression.frames import (
    as_frame, check_scores, equal_count_bin, ranked, running_sums, scalars,
)
from marketing.regression.metrics import score_bins
from marketing.validation import DataValidationError

#: Deciles (1 = highest scores) in each score band of the case playbook.
SCORE_BANDS = {"high": (1, 2), "medium": (3, 5), "low": (6, 10)}


def _check_costs(contact_cost: float, response_value: float) -> None:
    if not contact_cost >= 0 or not response_value > 0:
        raise ValueError(
            f"contact_cost must be >= 0 and response_value > 0, got {contact_cost!r} and "
            f"{response_value!r}. Set them under 'targeting' in the case file."
        )


def _check_count(name: str, value) -> None:
    if not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"{name} must be a positive integer, not {value!r}.")


def gains_table(frame, label: str, score: str, n_bins: int = 10) -> pd.DataFrame:
    """Gains and lift by score decile (decile 1 = highest scores), for a pandas or Spark frame.

    Customers are ranked by decreasing ``score``, ties by customer id, and cut into equal-count
    bins (the first bins one customer smaller when ``n`` is not a multiple of ``n_bins``).
    Columns: ``customers``, ``positives``, ``rate`` (share positive in the decile), ``lift``
    (rate / overall rate), ``cum_share_contacted``, ``cum_gain`` (share of all positives found in
    deciles 1..d) and ``cum_lift`` (cum_gain / cum_share_contacted).

    Examples
    --------
    A known ranking: 10 customers, best score first, positives at ranks 1, 2 and 4.

    >>> frame = pd.DataFrame({"customer_id": range(10), "y": [1, 1, 0, 1, 0, 0, 0, 0, 0, 0],
    ...                       "p": np.arange(10, 0, -1) / 10})
    >>> table = gains_table(frame, "y", "p", n_bins=5)
    >>> table["positives"].tolist(), table["lift"].round(3).tolist()
    ([2, 1, 0, 0, 0], [3.333, 1.667, 0.0, 0.0, 0.0])
    >>> table["cum_gain"].round(3).tolist()
    [0.667, 1.0, 1.0, 1.0, 1.0]
    """
    binned = score_bins(frame, label, score, n_bins, descending=True, table="gains_table")
    total, n = binned["positives"].sum(), binned["customers"].sum()
    if total == 0:
        raise DataValidationError("gains_table: the outcome has no positives, so gains are undefined.")
    table = pd.DataFrame({"customers": binned["customers"], "positives": binned["positives"].astype("int64")})
    table.index = table.index.rename("decile")
    table["rate"] = table["positives"] / table["customers"]
    table["lift"] = table["rate"] / (total / n)
    table["cum_share_contacted"] = table["customers"].cumsum() / n
    table["cum_gain"] = table["positives"].cumsum() / total
    table["cum_lift"] = table["cum_gain"] / table["cum_share_contacted"]
    return table


def break_even_probability(contact_cost: float, response_value: float) -> float:
    """The probability above which a contact pays for itself: ``contact_cost / response_value``.

    >>> break_even_probability(5.0, 120.0)
    0.041666666666666664
    """
    _check_costs(contact_cost, response_value)
    return contact_cost / response_value


def profit_curve(
    frame, label: str, score: str, contact_cost: float, response_value: float, n_points: int = 100
) -> pd.DataFrame:
    """Profit of contacting the top ``k`` customers by score, at ``n_points`` cuts, the rule's and the best cut.

    Customers are ranked by decreasing score, ties by customer id. Columns: ``contacted`` (k),
    ``share_contacted``, ``expected_profit`` (sum over the top k of ``p * response_value -
    contact_cost``) and ``realised_profit`` (``response_value`` times the positives among them
    minus ``k * contact_cost``, from the observed outcomes). The points are ``k = 0``, the end of
    each of ``n_points`` equal-count bins (every ``k`` when ``n_points`` is at least the number of
    customers), the number the break-even rule contacts and the cut with the highest realised
    profit in hindsight (the fewest customers, if several), so ``realised_profit.idxmax()`` finds it.

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": [1, 2, 3, 4], "y": [1, 0, 1, 0], "p": [0.8, 0.6, 0.4, 0.2]})
    >>> curve = profit_curve(frame, "y", "p", contact_cost=1.0, response_value=10.0, n_points=4)
    >>> curve["realised_profit"].tolist()      # 0, 10-1, 10-2, 20-3, 20-4
    [0.0, 9.0, 8.0, 17.0, 16.0]
    >>> curve["expected_profit"].round(2).tolist()
    [0.0, 7.0, 12.0, 15.0, 16.0]
    """
    threshold = break_even_probability(contact_cost, response_value)
    _check_count("n_points", n_points)
    frame = as_frame(frame, [CUSTOMER, label, score], "profit_curve")
    check_scores(frame, score, "profit_curve")
    gains = frame.select(
        CUSTOMER,
        score,
        _one=nw.lit(1).cast(nw.Int64),
        _gain=nw.col(label).cast(nw.Float64) * response_value - contact_cost,
        _expect=nw.col(score) * response_value - contact_cost,
    )
    cumulated, totals = running_sums(gains, [score, CUSTOMER], [True, False], ["_one", "_gain", "_expect"])
    n = int(totals["_one"] or 0)
    if n == 0:
        raise DataValidationError("profit_curve: no rows to rank.")
    k = nw.col("_cum__one")
    point = [k.alias("contacted"), nw.col("_cum__expect").alias("expected_profit"), nw.col("_cum__gain").alias("realised_profit")]
    # the end of each equal-count bin: the row after it starts the next bin
    ends = cumulated.filter((k * n_points) // n > ((k - 1) * n_points) // n).select(*point)
    best = cumulated.sort(["_cum__gain", "_cum__one"], descending=[True, False]).head(1).select(*point)
    chosen = nw.col(score) > threshold
    rule = scalars(
        cumulated,
        contacted=count_where(chosen),
        expected_profit=nw.when(chosen).then(nw.col("_expect")).otherwise(0.0).sum(),
        realised_profit=nw.when(chosen).then(nw.col("_gain")).otherwise(0.0).sum(),
    )
    best = collect(best)
    best = best.loc[best["realised_profit"] > 0]   # when no cut gains, the best is to contact nobody
    curve = pd.concat(
        [pd.DataFrame([{"contacted": 0, "expected_profit": 0.0, "realised_profit": 0.0}, rule]), best, collect(ends)],
        ignore_index=True,
    )
    curve = curve.astype({"contacted": "int64", "expected_profit": float, "realised_profit": float})
    curve = curve.drop_duplicates("contacted").sort_values("contacted", kind="stable").reset_index(drop=True)
    curve.insert(1, "share_contacted", curve["contacted"] / n)
    return curve


def campaign_list(
    frame,
    score: str,
    contact_cost: float,
    response_value: float,
    *,
    actions: dict[str, str] | None = None,
    n_bins: int = 10,
):
    """The campaign list: every customer of ``frame`` with score, decile, band and the contact decision.

    ``frame`` (pandas or Spark, such as ``result.predict(problem.table)``) has ``customer_id``
    and the ``score`` column; the list comes back in the same kind, ordered from the highest
    score down (ties by customer id). ``decile`` is 1 for the highest scores; ``band`` follows
    :data:`SCORE_BANDS`; ``contact`` is ``"yes"`` when the score exceeds
    :func:`break_even_probability`; ``expected_profit`` is ``score * response_value -
    contact_cost``; given the playbook's ``actions`` per band, an ``action`` column is added. On
    Spark the rows are laid out in that order without a further sort: collecting, ``limit`` and
    :func:`export_campaign_list` keep it (an operation that shuffles, such as a join, does not).

    Examples
    --------
    >>> frame = pd.DataFrame({"customer_id": [11, 12, 13], "p": [0.02, 0.5, 0.1]})
    >>> campaign_list(frame, "p", contact_cost=5.0, response_value=100.0)
       customer_id  score  decile    band contact  expected_profit
    0           12   0.50       1    high     yes             45.0
    1           13   0.10       4  medium     yes              5.0
    2           11   0.02       7     low      no             -3.0
    """
    threshold = break_even_probability(contact_cost, response_value)
    _check_count("n_bins", n_bins)
    scores = as_frame(frame, [CUSTOMER, score], "campaign_list").select(CUSTOMER, nw.col(score).alias("score"))
    ordered, n = ranked(scores, "score", CUSTOMER, descending=True, table="campaign_list")
    decile = equal_count_bin(nw.col("_position"), n_bins, n)
    scaled = ((decile - 1) * 10) // n_bins + 1   # the band cut points are stated in tenths
    band = (
        nw.when(scaled <= SCORE_BANDS["high"][1]).then(nw.lit("high"))
        .otherwise(nw.when(scaled <= SCORE_BANDS["medium"][1]).then(nw.lit("medium")).otherwise(nw.lit("low")))
    )
    out = ordered.select(
        CUSTOMER,
        "score",
        decile.cast(nw.Int64).alias("decile"),
        band.alias("band"),
        nw.when(nw.col("score") > threshold).then(nw.lit("yes")).otherwise(nw.lit("no")).alias("contact"),
        (nw.col("score") * response_value - contact_cost).alias("expected_profit"),
    )
    if actions is not None:
        action = nw.lit(None, nw.String)
        for name, text in actions.items():
            action = nw.when(nw.col("band") == name).then(nw.lit(text)).otherwise(action)
        out = out.with_columns(action=action)
    native = out.to_native()
    return native.reset_index(drop=True) if isinstance(native, pd.DataFrame) else native


def contact_totals(contacts) -> dict[str, float]:
    """Customers listed, customers to contact and their expected profit, from :func:`campaign_list`.

    Examples
    --------
    >>> contacts = campaign_list(pd.DataFrame({"customer_id": [11, 12, 13], "p": [0.02, 0.5, 0.1]}), "p", 5.0, 100.0)
    >>> contact_totals(contacts)
    {'customers': 3, 'contacted': 2, 'expected_profit': 50.0}
    """
    chosen = nw.col("contact") == "yes"
    row = scalars(
        as_frame(contacts, ["contact", "expected_profit"], "contacts"),
        customers=nw.len(),
        contacted=count_where(chosen),
        expected_profit=nw.when(chosen).then(nw.col("expected_profit")).otherwise(0.0).sum(),
    )
    return {
        "customers": int(row["customers"]),
        "contacted": int(row["contacted"] or 0),
        "expected_profit": float(row["expected_profit"] or 0.0),
    }


def export_campaign_list(contacts, export_dir: str | Path = ".") -> Path | str:
    """Write the campaign list for the CRM (real ids, scores rounded to 4 decimals, profits to 2); return its path.

    :func:`marketing.privacy.write_crm_export` writes ``contact_list_crm_real_ids.csv``: one file
    from pandas, a folder of CSV part files from Spark (read in name order, from the highest
    score down); :func:`marketing.privacy.export_note` says what was written.
    """
    from marketing.privacy import write_crm_export

    rounded = as_frame(contacts, ["score", "expected_profit"], "contacts").with_columns(
        nw.col("score").round(4), nw.col("expected_profit").round(2)
    )
    return write_crm_export(rounded.to_native(), export_dir, "contact_list")
