"""Buy-till-you-die (BTYD) models beside the regression suite, on the same held-out customers.

The case's ``btyd`` section says which targets BTYD answers: ``spend`` (the continuous target is
the spend in the label window) and ``churn`` (the binary target is 1 for no purchase in it), and
the window's length. BG/NBD (Fader, Hardie and Lee 2005) and Gamma-Gamma are fitted on the
*training* customers' BTYD summaries (:func:`marketing.clv.btyd_summary`, events before the
observation end, weeks) and predict, for the suite's held-out customers, with ``t`` the window:

- spend: E[purchases in t] x E[spend per purchase | history]. A customer without a repeat
  purchase gets the Gamma-Gamma population mean p gamma / (q - 1) per purchase (what the
  conditional expectation gives at frequency 0); so does one whose repeat purchases are worth 0
  on average (Gamma-Gamma needs positive values; such customers are left out of its fit and
  counted in ``train_zero_value`` / ``test_zero_value``).
- churn: P(no purchase in t | x, t_x, T) = (1 - P_alive) + P_alive ((alpha + T) / (alpha + T + t))^(r + x).
  In BG/NBD a customer drops out only right after a purchase, so one alive at T with no purchase
  in the window is alive throughout it: no purchase has probability exp(-lambda t), and given the
  history and being alive, lambda ~ Gamma(r + x, alpha + T), whose mean of exp(-lambda t) is the
  power above. A dead customer never buys.

Customers with no purchase before the observation end have no BTYD history (T is undefined):
they get the suite baseline's prediction (the training mean, or positive rate), and are counted.
Every prediction is scored with the suite's metric functions
(:func:`marketing.regression.metrics.metric_function`) on the rows the suite is scored on.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import numpy as np
import pandas as pd

from marketing.clv import BetaGeo, ConvergenceError, GammaGamma, btyd_summary, clv, per_period_rate
from marketing.clv.summary import UNITS
from marketing.columns import AMOUNT, CUSTOMER, TIMESTAMP
from marketing.frames import collect, frame, whole_days
from marketing.privacy import DEFAULT_MIN_SIZE, is_small
from marketing.regression.metrics import GREATER_IS_BETTER, metric_function, paired_difference
from marketing.regression.models import PRIMARY_METRIC
from marketing.regression.problem import NotDefined

#: The capability table's name of this step.
STEP = "the buy-till-you-die models (BG/NBD and Gamma-Gamma)"
#: Which target kind each BTYD prediction answers.
ROLES = {"spend": "continuous", "churn": "binary"}
#: The summaries' time unit (weeks, as in the CDNOW papers).
UNIT = "W"
#: Customer lifetime value in the campaign list: the next 12 months, valued month by month and
#: discounted at 10% a year (a common planning rate; the figure says which rate it used).
CLV_MONTHS = 12
ANNUAL_DISCOUNT_RATE = 0.10
#: The ranking metric named beside the primary one in the verdict.
RANKING = {"continuous": "r2", "binary": "roc_auc"}
#: Paired bootstrap resamples of the held-out customers behind each verdict.
N_BOOT = 500


@dataclass(frozen=True)
class BTYDNotApplicable:
    """What :func:`btyd_beside_suite` returns for a case whose targets BTYD does not answer."""

    reason: str


@dataclass(frozen=True)
class BTYDResult:
    """BTYD fitted on the training customers and scored on the suite's held-out customers.

    Attributes
    ----------
    targets : dict of str to str
        Target kind -> target column, for the kinds BTYD answers.
    window_days : int
        The label window, in days.
    purchases : dict of str to BetaGeo
        Per target kind, the BG/NBD fitted on that kind's training customers.
    spend : GammaGamma or None
        The Gamma-Gamma model of the continuous kind's training customers (None without ``spend``).
    tables : dict of str to DataFrame
        Per kind, rows ``baseline``, the suite's chosen model and ``btyd``; the suite's held-out
        metrics of that kind, computed on the same customers with the same functions.
    predictions : dict of str to DataFrame
        Per kind, the held-out customers: ``customer_id``, the target, ``baseline``, the chosen
        model, ``btyd``, ``has_history`` and ``frequency`` (repeat purchases before the observation
        end, NaN without history).
    counts : dict of str to dict
        Per kind: ``train_fitted`` (training customers with a purchase before the observation end),
        ``train_no_history``, ``test`` and ``test_no_history`` (given the baseline's prediction),
        and for ``continuous`` ``train_zero_value`` and ``test_zero_value`` (repeat buyers whose
        repeat purchases are worth 0: the population mean spend, see the module docstring).
    differences : dict of str to DataFrame
        Per kind, btyd's metric minus the chosen model's on the same held-out customers (``value``)
        with the 95% interval of :func:`~marketing.regression.metrics.paired_difference` (``low``,
        ``high``): a win is claimed only where the interval excludes 0.
    verdict : str
        Which wins on the held-out customers, written from :attr:`tables` and :attr:`differences`.
    summary : DataFrame
        The BTYD summary of every customer with a purchase before the observation end (weeks).
    truth : dict or None
        On synthetic data with a planted dropout (:attr:`marketing.datasets.Truth.stopped_buying`):
        ``stopped_buying_auc``, the ROC AUC with which 1 - P(alive) ranks the held-out customers who
        stopped buying above the others, and the counts ``customers`` and ``stopped``; and where the
        truth plants a BG/NBD process (:attr:`marketing.datasets.Truth.btyd_parameters`),
        ``parameters``: per planted segment, :func:`planted_parameters`. None without either.
    """

    targets: dict[str, str]
    window_days: int
    purchases: dict[str, BetaGeo]
    spend: GammaGamma | None
    tables: dict[str, pd.DataFrame]
    predictions: dict[str, pd.DataFrame]
    counts: dict[str, dict[str, int]]
    differences: dict[str, pd.DataFrame]
    verdict: str
    summary: pd.DataFrame
    truth: dict | None = None

    @property
    def parameters(self) -> dict[str, dict[str, float]]:
        """The fitted parameters: ``bg_nbd`` (r, alpha per week, a, b; ``bg_nbd_<kind>`` when the targets have
        different training customers) and ``gamma_gamma`` (p, q, gamma)."""
        models = list(self.purchases.items())
        shared = len({id(m) for _, m in models}) == 1  # one fit when both targets share the split
        out = {"bg_nbd" if shared else f"bg_nbd_{kind}": {k: getattr(m, f"{k}_") for k in ("r", "alpha", "a", "b")}
               for kind, m in models}
        if self.spend is not None:
            out["gamma_gamma"] = {k: getattr(self.spend, f"{k}_") for k in ("p", "q", "gamma")}
        return out


def btyd_targets(case) -> dict[str, str] | str:
    """The target kinds the case's ``btyd`` section names, ``{"continuous": column, ...}``, or the
    sentence saying why BTYD does not apply.

    Examples
    --------
    >>> from marketing import get_case
    >>> btyd_targets(get_case("ecommerce"))
    {'continuous': 'spend_next_90d', 'binary': 'churned_next_90d'}
    >>> print(btyd_targets(get_case("education")))
    BTYD does not apply to case 'education': its targets (final_grade, dropped_out) are not spend in, or the absence of purchases from, a window after the observation end of its event log (the case file has no btyd section).
    """
    kinds = [ROLES[role] for role in ROLES if case.btyd.get(role) == ROLES[role] and ROLES[role] in case.targets]
    if not kinds:
        columns = ", ".join(t.column for t in case.targets.values())
        return (f"BTYD does not apply to case {case.name!r}: its targets ({columns}) are not spend in, or the absence "
                "of purchases from, a window after the observation end of its event log (the case file has no btyd section).")
    return {kind: case.targets[kind].column for kind in kinds}


def window_days(case) -> int:
    """The label window's length: ``btyd.window_days``, else the case's ``label_window_days``."""
    return int(case.btyd.get("window_days", case.raw.get("label_window_days")))


def purchase_occasions(events, observation_end) -> pd.DataFrame:
    """The events before ``observation_end`` as one row per customer and day (values added up), in pandas.

    Computed where the events are (pandas or DuckDB), so that only customer-days come to memory;
    :func:`marketing.clv.btyd_summary` of it equals that of the events.
    """
    end = pd.Timestamp(observation_end).floor("D")
    log = frame(events)
    values = AMOUNT in log.collect_schema().names()
    log = log.filter(nw.col(TIMESTAMP) < nw.lit(end.to_pydatetime()))
    # whole days before the end, floored: 0 is the last calibration day
    log = whole_days(log, {"_before": (end, TIMESTAMP)})
    aggregates = [nw.col(AMOUNT).sum()] if values else [nw.len()]
    days = collect(log.group_by([CUSTOMER, "_before"]).agg(*aggregates).to_native())
    day = end - pd.Timedelta(days=1) - pd.to_timedelta(days["_before"].astype("int64"), unit="D")
    occasions = pd.DataFrame({CUSTOMER: days[CUSTOMER].to_numpy(), TIMESTAMP: day.to_numpy()})
    if values:
        occasions[AMOUNT] = days[AMOUNT].to_numpy(dtype="float64")
    return occasions


def btyd_beside_suite(case, data, problem, splits: dict, results: dict):
    """Fit BTYD on each answered target's training customers and score it beside that target's suite.

    Parameters
    ----------
    case : CaseStudy
    data : CaseData or DuckDBCaseData
        The events (``customer_id``, ``timestamp``, ``amount``) and ``observation_end``.
    problem : RegressionProblem
    splits : dict
        :func:`~marketing.regression.holdouts` of ``problem``.
    results : dict
        ``{"continuous": SuiteResult, "binary": SuiteResult}`` from
        :func:`~marketing.regression.fit_suite` (a :class:`~marketing.regression.problem.NotDefined`
        is skipped).

    Returns
    -------
    BTYDResult, or BTYDNotApplicable when the case's ``btyd`` section names no target.

    Examples
    --------
    >>> from marketing import get_case
    >>> from marketing.datasets import load_case_data
    >>> from marketing.regression import fit_suite, holdouts, regression_problem
    >>> data = load_case_data("ecommerce")
    >>> problem = regression_problem(data)
    >>> splits = holdouts(problem)
    >>> results = {k: fit_suite(k, problem, splits, n_boot=0, names=["linear"] if k == "continuous" else ["logistic"], cv=0)
    ...            for k in ("continuous", "binary")}
    >>> btyd = btyd_beside_suite(get_case("ecommerce"), data, problem, splits, results)
    >>> list(btyd.tables["binary"].index), btyd.counts["binary"]["test"]
    (['baseline', 'logistic', 'btyd'], 400)
    """
    targets = btyd_targets(case)
    if isinstance(targets, str):
        return BTYDNotApplicable(targets)
    targets = {k: c for k, c in targets.items() if not isinstance(results.get(k, NotDefined(k, "")), NotDefined)}
    if not targets:
        return BTYDNotApplicable(f"BTYD does not apply to case {case.name!r}: the targets its btyd section names have no suite.")
    days = window_days(case)
    horizon = days / UNITS[UNIT]
    summary = btyd_summary(purchase_occasions(data.events, data.observation_end), data.observation_end, unit=UNIT,
                           value_col=AMOUNT if "continuous" in targets else None)
    customers = problem.features.index
    purchases, tables, predictions, counts, fitted, differences = {}, {}, {}, {}, {}, {}
    spend = None
    for kind, column in targets.items():
        split, result = splits[kind], results[kind]
        train = summary.reindex(customers[split.train]).dropna(subset=["T"])
        key = tuple(split.train)  # a time split is shared by both targets: fit once
        if key not in fitted:
            fitted[key] = BetaGeo().fit(train)
        model = purchases[kind] = fitted[key]
        test_ids = result.predictions[CUSTOMER].to_numpy()
        test = summary.reindex(test_ids)
        history = test["T"].notna().to_numpy()
        known = test[history]
        if kind == "continuous":
            spend = GammaGamma().fit(_valued(train))
            score = model.predict(known, horizon) * spend.conditional_expected_spend(_valued(known))
        else:
            score = p_no_purchase(model, known, horizon)
        btyd = result.predictions["baseline"].to_numpy(dtype="float64").copy()
        btyd[history] = score.to_numpy()
        frame_ = result.predictions[[CUSTOMER, result.label, "baseline", result.best]].assign(
            btyd=btyd, has_history=history, frequency=test["frequency"].to_numpy(dtype="float64"))
        predictions[kind] = frame_
        tables[kind] = _table(kind, frame_, result.label, ["baseline", result.best, "btyd"])
        differences[kind] = paired_difference(frame_[result.label], frame_["btyd"], frame_[result.best], kind,
                                              n_boot=N_BOOT, random_state=0)
        counts[kind] = {"train_fitted": len(train), "train_no_history": int(len(split.train) - len(train)),
                        "test": len(test_ids), "test_no_history": int((~history).sum())}
        if kind == "continuous":
            counts[kind] |= {"train_zero_value": _zero_value(train), "test_zero_value": _zero_value(known)}
    verdict = " ".join(_verdict(kind, tables[kind], differences[kind], predictions[kind], results[kind], counts[kind], days)
                       for kind in targets)
    first = next(iter(targets))
    truth = _planted_dropout(data, purchases[first], summary, predictions[first][CUSTOMER].to_numpy())
    planted = planted_parameters(data, summary)
    if planted:
        truth = {**(truth or {}), "parameters": planted}
    return BTYDResult(targets, days, purchases, spend, tables, predictions, counts, differences, verdict, summary, truth)


def _planted_dropout(data, purchases: BetaGeo, summary: pd.DataFrame, held_out) -> dict | None:
    """How well P(alive) finds the planted dropouts among the held-out customers (None without them)."""
    from sklearn.metrics import roc_auc_score

    stopped = getattr(getattr(data, "truth", None), "stopped_buying", None)
    if stopped is None:
        return None
    known = summary.reindex(held_out).dropna(subset=["T"])
    truth = stopped.reindex(known.index).to_numpy(dtype=bool)
    if truth.all() or not truth.any():
        return None
    auc = roc_auc_score(truth, 1.0 - purchases.p_alive(known).to_numpy())
    return {"stopped_buying_auc": round(float(auc), 3), "customers": len(truth), "stopped": int(truth.sum())}


def planted_parameters(data, summary: pd.DataFrame) -> dict[str, dict] | None:
    """BG/NBD fitted on each planted BTYD segment's customers alone, beside the planted parameters.

    Parameters
    ----------
    data : CaseData
        Synthetic data whose ``truth`` has ``btyd_parameters`` (:mod:`marketing.datasets.synthetic`:
        a segment that buys as BG/NBD says, lambda per week).
    summary : DataFrame
        The BTYD summary (weeks) of the report's fit: the same calibration period, every customer
        with a purchase before the observation end.

    Returns
    -------
    dict or None
        Per planted segment: ``customers`` (those of the segment in ``summary``), ``planted`` and
        ``fitted`` ({r, alpha, a, b}, fitted to 3 significant digits; None with ``error`` saying why
        when the likelihood has no finite maximum on so few customers). None without a planted
        process (real data, or no segment with a ``btyd`` block).

    Examples
    --------
    >>> from marketing.datasets import load_case_data
    >>> data = load_case_data("ecommerce")
    >>> summary = btyd_summary(purchase_occasions(data.events, data.observation_end), data.observation_end, unit=UNIT)
    >>> planted = planted_parameters(data, summary)["lapsed"]
    >>> planted["planted"], planted["customers"]
    ({'r': 2.0, 'alpha': 10.0, 'a': 3.0, 'b': 2.0}, 618)
    """
    truth = getattr(data, "truth", None)
    parameters = getattr(truth, "btyd_parameters", None)
    if not parameters:
        return None
    out = {}
    for segment, planted in parameters.items():
        members = truth.segments.index[truth.segments.eq(segment).to_numpy()]
        known = summary.reindex(members).dropna(subset=["T"])
        entry = {"customers": len(known), "planted": dict(planted)}
        try:
            model = BetaGeo().fit(known)
            entry["fitted"] = {k: float(f"{getattr(model, f'{k}_'):.3g}") for k in planted}
        except (ConvergenceError, ValueError) as error:  # too few customers to identify the model
            entry |= {"fitted": None, "error": str(error)}
        out[segment] = entry
    return out


def customer_clv(btyd: BTYDResult, customers) -> pd.Series | None:
    """Each customer's discounted lifetime value over the next :data:`CLV_MONTHS` months
    (:func:`marketing.clv.clv`, the spend target's BG/NBD and Gamma-Gamma, monthly periods at
    :data:`ANNUAL_DISCOUNT_RATE` a year); NaN for a customer without a purchase before the
    observation end; None when BTYD does not answer the spend target.
    """
    if btyd.spend is None:
        return None
    known = btyd.summary.reindex(customers).dropna(subset=["T"])
    return _lifetime_value(btyd.purchases["continuous"], btyd.spend, _valued(known)).reindex(customers)


def _lifetime_value(purchases: BetaGeo, spend: GammaGamma, summary: pd.DataFrame) -> pd.Series:
    """:data:`CLV_MONTHS` months of value, discounted monthly; ``summary`` already :func:`_valued`."""
    weeks = CLV_MONTHS * 52.0 / 12.0
    value = clv(purchases, spend, summary, weeks, step=weeks / CLV_MONTHS,
                discount_rate=per_period_rate(ANNUAL_DISCOUNT_RATE, 12))
    return value.rename(f"clv_{CLV_MONTHS}m")


def segment_lifetime_value(case, data, customers, labels) -> pd.DataFrame | str:
    """Per segment: its customers' mean 12-month CLV, their share of the total and mean P(alive).

    BG/NBD and Gamma-Gamma are fitted on *every* customer's purchases before the observation end:
    a description of the segments, not a forecast checked here (the regression report's section 7
    checks the same models on held-out customers). Customers without a purchase before the
    observation end have no CLV and are left out (``with_clv`` counts those left).

    Parameters
    ----------
    case, data
        The case (its ``btyd`` section must name the spend target) and its data in memory
        (pandas or DuckDB events).
    customers, labels : array-like
        The segmented customers and their segments, in the same order.

    Returns
    -------
    DataFrame indexed by segment: ``customers``, ``with_clv``, ``mean_clv_12m``,
    ``share_of_clv``, ``mean_p_alive``; or the sentence saying why there is none.
    """
    targets = btyd_targets(case)
    if isinstance(targets, str) or "continuous" not in targets:
        return (f"No lifetime value for case {case.name!r}: its btyd section names no spend target"
                if not isinstance(targets, str) else targets)
    summary = btyd_summary(purchase_occasions(data.events, data.observation_end), data.observation_end, unit=UNIT,
                           value_col=AMOUNT)
    purchases = BetaGeo().fit(summary)
    value = _lifetime_value(purchases, GammaGamma().fit(_valued(summary)), _valued(summary))
    frame_ = pd.DataFrame({"segment": np.asarray(labels)}, index=pd.Index(np.asarray(customers), name=CUSTOMER))
    frame_["clv"] = value.reindex(frame_.index).to_numpy()
    frame_["p_alive"] = purchases.p_alive(summary).reindex(frame_.index).to_numpy()
    out = frame_.groupby("segment").agg(customers=("clv", "size"), with_clv=("clv", "count"),
                                        mean_clv_12m=("clv", "mean"), total=("clv", "sum"), mean_p_alive=("p_alive", "mean"))
    out["share_of_clv"] = out.pop("total") / frame_["clv"].sum()
    return out[["customers", "with_clv", "mean_clv_12m", "share_of_clv", "mean_p_alive"]]


#: The playbook of :func:`clv_playbook`: the top share of customers by value if retained
#: (CLV / P(alive)) is "high value", and a customer whose P(alive) is below the line is "slipping away".
HIGH_VALUE_SHARE = 0.2
SLIPPING_BELOW = 0.5
#: (high value, slipping away) -> the action.
PLAYBOOK = {
    (True, True): "retention call",
    (True, False): "VIP care",
    (False, True): "low-cost win-back",
    (False, False): "grow: cross-sell",
}


def clv_playbook(btyd: BTYDResult, customers) -> pd.DataFrame | None:
    """Each customer's 12-month CLV, P(alive) at the observation end, CLV decile and the playbook action.

    High value is the top :data:`HIGH_VALUE_SHARE` of the customers by their value if retained,
    CLV / P(alive) (the expected value given the customer is still active: what keeping them is
    worth; the CLV itself is already discounted by P(alive), so a customer slipping away never
    ranks high on it); slipping away is a P(alive) below :data:`SLIPPING_BELOW`; :data:`PLAYBOOK`
    names the action of each combination (high value and slipping away: a retention call). P(alive) is the spend target's BG/NBD's
    (the model behind the CLV). Customers without a purchase before the observation end have no
    CLV, no P(alive), no decile and no action (NaN / None). None when BTYD does not answer the
    spend target.

    The deciles and the high-value share are taken among every customer with a purchase before
    the observation end, whichever ``customers`` are asked for.

    Returns
    -------
    DataFrame, one row per customer of ``customers`` in their order: ``customer_id``, ``clv_12m``,
    ``p_alive``, ``clv_decile`` (1 = the tenth with the highest CLV, 10 = the lowest), ``playbook``.

    Examples
    --------
    >>> from marketing import get_case
    >>> from marketing.datasets import load_case_data
    >>> from marketing.regression import fit_suite, holdouts, regression_problem
    >>> data = load_case_data("ecommerce")
    >>> problem = regression_problem(data)
    >>> splits = holdouts(problem)
    >>> results = {k: fit_suite(k, problem, splits, n_boot=0, names=["linear"] if k == "continuous" else ["logistic"], cv=0)
    ...            for k in ("continuous", "binary")}
    >>> btyd = btyd_beside_suite(get_case("ecommerce"), data, problem, splits, results)
    >>> table = clv_playbook(btyd, problem.features.index)
    >>> int((table["clv_decile"] == 1).sum()), sorted(table["playbook"].unique()) == sorted(PLAYBOOK.values())
    (200, True)
    """
    if btyd.spend is None:
        return None
    # ranked among every customer with a purchase before the observation end, whichever are asked for
    everyone = btyd.summary.index
    value = customer_clv(btyd, everyone)
    alive = btyd.purchases["continuous"].p_alive(btyd.summary)
    n = len(value)
    rank = value.rank(ascending=False, method="min")   # ties share the better decile
    high = (value / alive).rank(ascending=False, method="min") <= HIGH_VALUE_SHARE * n
    slipping = alive < SLIPPING_BELOW
    table = pd.DataFrame({
        value.name: value, "p_alive": alive, "clv_decile": np.ceil(10 * rank / n).astype("int64"),
        "playbook": pd.Series([PLAYBOOK[(bool(h), bool(s))] for h, s in zip(high, slipping)], index=everyone, dtype="str"),
    }, index=everyone)
    out = table.reindex(pd.Index(np.asarray(customers), name=everyone.name))
    out["clv_decile"] = out["clv_decile"].astype("Int64")
    return out.rename_axis(CUSTOMER).reset_index()


def clv_deciles(btyd: BTYDResult, playbook: pd.DataFrame, min_size: int = DEFAULT_MIN_SIZE) -> pd.DataFrame:
    """Per CLV decile: customers, mean CLV and its share of the total (every customer with a CLV), and
    on the spend target's held-out customers the observed and BTYD-predicted mean spend in the window,
    the check that CLV ranks customers by what they then spent.

    A held-out group smaller than ``min_size`` (but not empty) has its spend blanked.
    """
    scored = playbook.dropna(subset=["clv_decile"])
    name = [c for c in playbook.columns if c.startswith("clv_") and c != "clv_decile"][0]
    whole = scored.groupby("clv_decile").agg(customers=(CUSTOMER, "size"), mean_clv=(name, "mean"), total=(name, "sum"))
    whole["share_of_clv"] = whole.pop("total") / scored[name].sum()
    held = btyd.predictions["continuous"]
    label = btyd.targets["continuous"]
    test = held[[CUSTOMER, label, "btyd"]].merge(scored[[CUSTOMER, "clv_decile"]], on=CUSTOMER)
    spend = test.groupby("clv_decile").agg(held_out=(CUSTOMER, "size"), observed=(label, "mean"), predicted=("btyd", "mean"))
    out = whole.join(spend, how="left")
    out["held_out"] = out["held_out"].fillna(0).astype(int)
    out.loc[is_small(out["held_out"], min_size), ["observed", "predicted"]] = np.nan
    return out.rename_axis("clv_decile")


def by_frequency(btyd: BTYDResult, max_frequency: int = 7, min_size: int = DEFAULT_MIN_SIZE) -> dict[str, pd.DataFrame]:
    """The classic BTYD diagnostic on the held-out customers: prediction against outcome by calibration
    frequency 0, 1, ..., ``max_frequency``+ (repeat purchases before the observation end).

    The event log ends at the observation end, so the purchases *counted* in the label window are not
    in the data; the targets give what is: the share buying in the window (1 - the churn target) and
    the mean spend in it. Customers without history are left out (:attr:`BTYDResult.counts`).

    Returns
    -------
    dict of str to DataFrame
        Per kind, indexed by ``frequency`` (labels ``"0"`` ... ``"7+"``): ``customers``,
        ``predicted`` and ``observed`` (share buying for ``binary``, mean spend for ``continuous``).
        A group of fewer than ``min_size`` customers is published without its count or its means
        (all NaN; privacy: :func:`marketing.privacy.is_small`).
    """
    labels = [str(k) for k in range(max_frequency)] + [f"{max_frequency}+"]
    tables = {}
    for kind, frame_ in btyd.predictions.items():
        known = frame_[frame_["has_history"]]
        group = pd.Categorical.from_codes(known["frequency"].clip(upper=max_frequency).astype("int64"), categories=labels)
        label = btyd.targets[kind]
        values = pd.DataFrame({"predicted": known["btyd"], "observed": known[label]})
        if kind == "binary":
            values = 1.0 - values  # the share buying: 1 - P(no purchase), 1 - churned
        grouped = values.assign(frequency=group).groupby("frequency", observed=False)
        table = grouped.mean().assign(customers=grouped.size()).loc[:, ["customers", "predicted", "observed"]]
        table.loc[is_small(table["customers"], min_size), ["customers", "predicted", "observed"]] = np.nan
        tables[kind] = table
    return tables


def p_no_purchase(model: BetaGeo, summary: pd.DataFrame, t: float) -> pd.Series:
    """P(no purchase in the ``t`` units after the calibration | frequency, recency, T) under BG/NBD.

    (1 - P_alive) + P_alive ((alpha + T) / (alpha + T + t))^(r + x); see the module docstring.

    Examples
    --------
    >>> from marketing.clv.simulate import simulate_summary
    >>> summary = simulate_summary(2000, random_state=0)
    >>> model = BetaGeo().fit(summary)
    >>> p = p_no_purchase(model, summary, 13.0)
    >>> bool(p.between(0, 1).all()), float(p_no_purchase(model, summary, 0.0).min())  # no time, no purchase
    (True, 1.0)
    """
    alive = model.p_alive(summary).to_numpy()
    x = summary["frequency"].to_numpy(dtype="float64")
    T = summary["T"].to_numpy(dtype="float64")
    stays_quiet = np.exp((model.r_ + x) * (np.log(model.alpha_ + T) - np.log(model.alpha_ + T + t)))
    return pd.Series((1.0 - alive) + alive * stays_quiet, index=summary.index, name="p_no_purchase")


def conclusion(btyd: BTYDResult) -> str:
    """One Markdown bullet for "What it means": per target, who wins on each metric of the verdict,
    a win claimed only where the paired bootstrap interval of the difference excludes 0.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> table = pd.DataFrame({"roc_auc": [0.5, 0.7, 0.8], "log_loss": [0.6, 0.5, 0.501]}, index=["baseline", "logistic", "btyd"])
    >>> diff = pd.DataFrame({"value": [0.1, 0.001], "low": [0.05, -0.01], "high": [0.15, 0.012]}, index=["roc_auc", "log_loss"])
    >>> fake = SimpleNamespace(tables={"binary": table}, differences={"binary": diff}, targets={"binary": "churned"})
    >>> print(conclusion(fake))
    - **Beside BTYD:** on `churned`, BTYD and logistic cannot be told apart on log_loss (0.501 against 0.500), BTYD beats logistic on roc_auc (0.800 against 0.700), on the held-out customers.
    """
    parts = []
    for kind, table in btyd.tables.items():
        chosen = [m for m in table.index if m not in ("baseline", "btyd")][0]
        said = []
        for metric in dict.fromkeys([PRIMARY_METRIC[kind], RANKING[kind]]):
            b, c = float(table.loc["btyd", metric]), float(table.loc[chosen, metric])
            winner = _winner(metric, btyd.differences[kind].loc[metric])
            if winner is None:
                said.append(f"BTYD and {chosen} cannot be told apart on {metric} ({b:.3f} against {c:.3f})")
            elif winner == "btyd":
                said.append(f"BTYD beats {chosen} on {metric} ({b:.3f} against {c:.3f})")
            else:
                said.append(f"{chosen} beats BTYD on {metric} ({c:.3f} against {b:.3f})")
        parts.append(f"on `{btyd.targets[kind]}`, " + ", ".join(said))
    return "- **Beside BTYD:** " + "; ".join(parts) + ", on the held-out customers."


def _winner(metric: str, difference: pd.Series) -> str | None:
    """"btyd" or "chosen" where the interval of btyd minus the chosen model excludes 0, else None (a NaN
    interval too: nothing is claimed)."""
    low, high = float(difference["low"]), float(difference["high"])
    better, worse = (low > 0, high < 0) if GREATER_IS_BETTER[metric] else (high < 0, low > 0)
    return "btyd" if better else "chosen" if worse else None


def _zero_value(summary: pd.DataFrame) -> int:
    return int(((summary["frequency"] > 0) & (summary["monetary_value"] <= 0)).sum())


def _valued(summary: pd.DataFrame) -> pd.DataFrame:
    """Repeat purchases worth 0 on average tell Gamma-Gamma nothing about spend (it needs values > 0):
    those customers count as without a repeat for the spend model, so they get the population mean."""
    zero = (summary["frequency"] > 0) & (summary["monetary_value"] <= 0)
    return summary.assign(frequency=summary["frequency"].where(~zero, 0)) if zero.any() else summary


def _table(kind: str, predictions: pd.DataFrame, label: str, models: list[str]) -> pd.DataFrame:
    """The metrics of each model's column on the same rows, with the suite's functions."""
    fn = metric_function(kind)
    y = predictions[label].to_numpy()
    rows = {m: fn(y, predictions[m].to_numpy(dtype="float64")) for m in dict.fromkeys(models)}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("model")


def _better(metric: str, a: float, b: float) -> bool:
    return a > b if GREATER_IS_BETTER[metric] else a < b


def _verdict(kind: str, table: pd.DataFrame, difference: pd.DataFrame, predictions: pd.DataFrame, result, counts: dict,
             days: int) -> str:
    """One or two sentences from the table: which model wins on the primary and the ranking metric,
    where the paired interval of the difference says the held-out customers can tell."""
    what = {"continuous": f"Spend in the {days}-day window", "binary": f"No purchase in the {days}-day window"}[kind]
    chosen = result.best
    parts = []
    for metric in dict.fromkeys([PRIMARY_METRIC[kind], RANKING[kind]]):
        b, c, base = (float(table.loc[m, metric]) for m in ("btyd", chosen, "baseline"))
        d = difference.loc[metric]
        interval = f"btyd minus {chosen} {d['value']:+.3f}, 95% interval {d['low']:+.3f} to {d['high']:+.3f}"
        winner = _winner(metric, d)
        if winner is None:
            lead = f"btyd ({b:.3f}) and {chosen} (the suite's choice, {c:.3f}) cannot be told apart ({interval})"
        elif winner == "btyd":
            lead = f"btyd wins with {b:.3f} against {c:.3f} for {chosen} (the suite's choice; {interval})"
        else:
            lead = f"{chosen} (the suite's choice) wins with {c:.3f} against {b:.3f} for btyd ({interval})"
        beats = "better" if _better(metric, b, base) else "no better"
        parts.append(f"on {metric}, {lead}, btyd being {beats} than the baseline's {base:.3f}")
    if kind == "continuous":
        # the level says whether a miss is one of scale (the target is not what BTYD forecasts) or of ranking
        means = predictions[["btyd", result.label]].mean()
        parts.append(f"btyd's mean prediction is {means['btyd']:,.2f} against an observed mean of {means[result.label]:,.2f}")
    extra = (f" {counts['test_no_history']} held-out customer(s) without a purchase before the observation end "
             "got the baseline's prediction." if counts["test_no_history"] else "")
    return f"{what} (`{result.label}`), on the {counts['test']:,} held-out customers: " + "; ".join(parts) + "." + extra
