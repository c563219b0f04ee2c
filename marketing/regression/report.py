"""The regression notebook's steps: one call per section, the same on every engine.

Each function takes what the previous steps returned (a problem, its splits, suite results),
computes on the engine those belong to, and prints or draws its section. A step that an engine
cannot run (:data:`marketing.capabilities.CAPABILITIES`) prints the table's sentence where its
output would be, so the notebook never asks which engine it runs on.
"""

from __future__ import annotations

from dataclasses import dataclass

import narwhals as nw
import pandas as pd

from marketing.capabilities import FLEXIBLE_MODELS, supports, unavailable
from marketing.columns import CUSTOMER
from marketing.engines import engine_of
from marketing.frames import count_where
from marketing.privacy import DEFAULT_MIN_SIZE
from marketing.regression.frames import as_frame, bounded_sample, head, scalars
from marketing.regression.interpret import (
    RankDeficientError,
    coefficient_table,
    collinear_terms,
    coverage,
    design_matrix,
    flat_features,
    partial_dependence_frame,
    permutation_importances,
    rank_problems,
    residual_frame,
)
from marketing.regression.metrics import GREATER_IS_BETTER, calibration_table
from marketing.regression.problem import KINDS, NotDefined, target_summary
from marketing.regression.targeting import break_even_probability, profit_curve
from marketing.validation import DataValidationError

#: The capability table's names of the regression steps not every engine runs.
INTERVALS = "bootstrap intervals of the metrics"
TREE = "the decision tree diagram"
IMPORTANCE = "permutation importance"
PARTIAL_DEPENDENCE = "partial dependence"
WARNINGS = "the data warnings (leakage, missing-value codes, impossible zeros, dominant values)"
#: Score bins of the calibration and gains charts; with fewer held-out customers the charts are left out.
N_BINS = 10
#: How the primary metric of each target is named in a sentence.
PRIMARY = {"continuous": "lowest RMSE", "binary": "lowest log loss"}


def defined(results: dict) -> dict:
    """The suite results of the targets the case defines."""
    return {kind: result for kind, result in results.items() if not isinstance(result, NotDefined)}


def runs(step: str, obj) -> bool:
    """Whether ``step`` runs on ``obj``'s engine; if not, print the capability table's sentence.

    >>> import pandas as pd
    >>> runs(PARTIAL_DEPENDENCE, pd.DataFrame())
    True
    """
    engine = engine_of(obj)
    if supports("regression", step, engine):
        return True
    print(unavailable("regression", step, engine))
    return False


__all__ = [
    "ContactRule", "NO_TARGETING", "NotDefined", "beats_baseline", "calibration_tables", "coefficient_coverage",
    "coefficients", "conclusions", "contact_rule", "defined", "head", "held_out_residuals", "importances",
    "btyd_record", "regression_record", "runs", "selection_warnings", "show_btyd", "show_clv", "show_calibration", "show_contact_list", "show_contact_rule",
    "show_effects", "show_gains", "show_intervals", "show_partial_dependence", "show_residuals", "show_suite",
    "show_targets", "show_tree", "show_warnings", "split_note", "suite_note", "suite_table", "verdict",
]


def show_targets(problem) -> None:
    """Show the targets with their meaning, and print their summary (:func:`~marketing.regression.target_summary`).

    Returns nothing, so that a notebook cell ending with it shows the summary once (as text).
    """
    from IPython.display import Markdown, display

    display(Markdown("\n".join(
        f"- **{kind}**: `{problem.target_column(kind)}`: {problem.meanings[kind]}" if kind in problem.meanings
        else f"- **{kind}**: not defined by this case (no `targets.{kind}` in its case file)" for kind in KINDS
    )))
    summary = target_summary(problem)
    parts = [f"{summary['customers']} customers"]
    if "mean" in summary:
        parts.append(f"{problem.target_column('continuous')}: mean {summary['mean']:.2f}, sd {summary['sd']:.2f}")
    if "positive_rate" in summary:
        parts.append(f"{problem.target_column('binary')}: {summary['positive_rate']:.1%} positive")
    print("; ".join(parts))


def show_warnings(problem, splits: dict, *, random_state: int | None = 0):
    """Show where the data look suspicious, as a short list (or "No warnings."), and return the warnings.

    The warnings of :func:`~marketing.regression.diagnostics.regression_warnings`: features that
    alone predict a target almost perfectly on the training part (leakage), values that look like
    missing-value codes, impossible zeros and columns with one dominant value. ``splits`` are the
    holdouts of :func:`~marketing.regression.holdouts` (leakage is scored on their training parts).

    Returns
    -------
    list of :class:`~marketing.data_quality.DataWarning`, or None where the engine lacks the step
    (the capability sentence is printed); :func:`regression_record` takes either.
    """
    from IPython.display import Markdown, display

    from marketing.data_quality import KIND_LABELS
    from marketing.regression.diagnostics import regression_warnings

    if not runs(WARNINGS, problem):
        return None
    found = regression_warnings(problem, splits, random_state=random_state)
    display(Markdown("\n".join(f"- **{KIND_LABELS[w.kind]}**: {w.message}" for w in found) or "No warnings."))
    return found


def split_note(splits: dict) -> str:
    """How the customers are split for the targets the case defines (one sentence when the split is shared)."""
    notes = list(dict.fromkeys(split.description for split in splits.values()))
    return "\n".join(notes)


def show_suite(result):
    """The suite's note (:func:`suite_note`) and a table of every model: its cross-validated (or
    validation) score on the training part, and its held-out metrics; or why the target has no suite."""
    if isinstance(result, NotDefined):
        print(f"No {result.kind} model: {result.reason}.")
        return None
    print(suite_note(result))
    return suite_table(result).round(3)


def suite_table(result) -> pd.DataFrame:
    """One row per model: ``chosen`` (a tick for the chosen model), the training-part score of the
    primary metric (``cv_<metric>``, ``cv_<metric>_sd``), then the held-out metrics."""
    primary = result.primary_metric
    scores = result.selection.scores[[primary, f"{primary}_sd"]].add_prefix("cv_")
    chosen = pd.Series(["✓" if m == result.best else "" for m in result.metrics.index], index=result.metrics.index)
    return pd.concat([chosen.rename("chosen"), scores, result.metrics], axis=1).rename_axis("model")


#: The metric that says whether a model ranks or predicts better than chance, per target.
SKILL = {"continuous": ("r2", 0.0), "binary": ("roc_auc", 0.5)}


def beats_baseline(result) -> bool:
    """Whether the chosen model is not the baseline and, on the held-out customers, beats it on the
    primary metric and has skill: R² above 0, or ROC AUC above 0.5 (the whole 95% bootstrap
    interval, where the engine gives one)."""
    if result.best == "baseline":
        return False
    primary, metrics = result.primary_metric, result.metrics
    better = GREATER_IS_BETTER[primary] == (metrics.loc[result.best, primary] > metrics.loc["baseline", primary])
    metric, chance = SKILL[result.kind]
    low = _interval(result, metric)[0]
    return bool(better and metrics.loc[result.best, metric] > chance and (low is None or low > chance))


def _interval(result, metric: str) -> tuple[float | None, float | None]:
    """The chosen model's bootstrap interval of ``metric`` (None, None without intervals)."""
    if result.intervals is None:
        return None, None
    row = result.intervals.loc[(result.intervals["model"] == result.best) & (result.intervals["metric"] == metric)]
    return (float(row["low"].iloc[0]), float(row["high"].iloc[0])) if len(row) else (None, None)


def _with_interval(result, metric: str) -> str:
    low, high = _interval(result, metric)
    value = result.metrics.loc[result.best, metric]
    return f"{metric} {value:.3f}" + ("" if low is None else f" (95% interval {low:.3f} to {high:.3f})")


def suite_note(result) -> str:
    """The chosen model, how it was chosen (on the training part), its held-out score with its
    interval, and whether it beats the baseline; where fitted, the penalty strengths."""
    primary, selection = result.primary_metric, result.selection
    cv = selection.scores.loc[result.best]
    spread = "" if pd.isna(cv[f"{primary}_sd"]) else f", sd {cv[f'{primary}_sd']:.3f} over the folds"
    metric, _ = SKILL[result.kind]
    lines = [
        f"chosen model: {result.best} ({PRIMARY[result.kind]} in {selection.method}: {cv[primary]:.3f}{spread})",
        f"{result.best} on the held-out customers: {_with_interval(result, primary)}; {_with_interval(result, metric)}"
        + ("" if result.best == "baseline" else f" (baseline {result.metrics.loc['baseline', metric]:.3f})"),
        verdict(result),
        *(f"warning: {w}" for w in selection_warnings(result)),
    ]
    if not supports("regression", FLEXIBLE_MODELS, engine_of(result)):
        lines.append(unavailable("regression", FLEXIBLE_MODELS, engine_of(result)))
    elif result.kind == "continuous" and "ridge" in result.models:
        alpha = result.models["ridge"][-1].alpha_
        lines.append(f"ridge strength chosen by leave-one-out cross-validation: alpha = {alpha:.3g}")
    elif result.kind == "binary" and "logistic_l2" in result.models:
        c = result.models["logistic_l2"][-1].C_
        lines.append(f"logistic_l2 strength chosen by 5-fold cross-validation: C = {c:.3g} (smaller is stronger)")
    return "\n".join(lines)


def selection_warnings(result) -> list[str]:
    """A held-out score far above the cross-validated one (more than 0.05 and three fold standard
    deviations better): the test customers are easier than the training ones, or something known
    only in the test period leaks into a feature. Empty without fold spreads (one validation split)."""
    metric, _ = SKILL[result.kind]
    scores = result.selection.scores.loc[result.best]
    cv, sd = scores[metric], scores[f"{metric}_sd"]
    test = result.metrics.loc[result.best, metric]
    if result.best == "baseline" or pd.isna(sd) or not test - cv > max(0.05, 3 * sd):
        return []
    return [f"{result.best}'s held-out {metric} {test:.3f} is far above its cross-validated {cv:.3f} (sd {sd:.3f}): "
            "the test customers differ from the training ones, or a feature carries information from after the "
            "prediction moment; check the features before trusting the held-out score."]


def verdict(result) -> str:
    """One sentence: whether the chosen model beats its baseline on the held-out customers."""
    if beats_baseline(result):
        what = "predicts the amount better than the average does" if result.kind == "continuous" else (
            "ranks customers better than chance and gives better probabilities than the base rate")
        return f"verdict: {result.best} {what} on customers it never saw."
    if result.best == "baseline":
        return ("verdict: no model beats the baseline on the training part; the features do not predict "
                f"{result.label} here, so no model-based decision is recommended.")
    metric, chance = SKILL[result.kind]
    return (f"verdict: {result.best} does not clearly beat the baseline on the held-out customers ({metric} "
            f"not above {chance:g} with confidence); no model-based decision is recommended.")


def show_intervals(result, metric: str) -> None:
    """Draw the bootstrap intervals of ``metric`` for every model of the suite (in the target's unit)."""
    from marketing.plots import regression as regplots

    if not isinstance(result, NotDefined) and runs(INTERVALS, result):
        regplots.model_comparison(result.intervals, metric, chosen=result.best,
                                  unit=result.label if result.kind == "continuous" else "")


def show_tree(result) -> None:
    """Draw the suite's depth-3 decision tree."""
    from marketing.plots import regression as regplots

    if not isinstance(result, NotDefined) and runs(TREE, result):
        regplots.tree_diagram(result.models["tree"], target_label=result.label)


def coefficients(result, scale: str = "raw"):
    """The suite's coefficient table on ``scale`` and a sentence for the report, or None and why not.

    Where terms are collinear (a constant column, a column equal to another or a linear
    combination of others) the in-memory suite is refitted without them
    (:func:`~marketing.regression.interpret.collinear_terms`), and the sentence names them; where the
    coefficients cannot be estimated at all (a binary outcome separated by a term, a Spark design
    that is rank-deficient) the table is None and the sentence says why. The sentence is None when
    every term is estimated.
    """
    try:
        return result.coefficient_table(scale=scale), None
    except RankDeficientError as error:
        X = getattr(result, "X_train", None)   # the in-memory suite keeps its training part
        if X is None:
            return None, _no_coefficients(result, error)
        design = design_matrix(X)
        note = (f"{result.label}: the coefficients leave out {', '.join(collinear_terms(design))} "
                f"({rank_problems(design)}); the other terms are estimated without them.")
        try:
            return coefficient_table(X, result.y_train, result.kind, scale=scale, collinear="drop"), note
        except DataValidationError as again:
            return None, _no_coefficients(result, again)
    except DataValidationError as error:
        return None, _no_coefficients(result, error)


def _no_coefficients(result, error: Exception) -> str:
    return f"{result.label}: no coefficients: {str(error).removeprefix('features: ')}"


def show_effects(results: dict, problem) -> dict[str, pd.DataFrame]:
    """Each defined target's standardized coefficients: the effects in words, then drawn; returns the tables.

    A target whose coefficients cannot all be estimated gets one sentence instead (see
    :func:`coefficients`); its table is left out of the result, and the other target's stays.
    """
    from IPython.display import Markdown, display

    from marketing.plots import regression as regplots
    from marketing.regression.interpret import effect_sentences

    per_unit = {"continuous": "change in {} per standard deviation (or vs reference level)",
                "binary": "change in log-odds of {} per standard deviation (or vs reference level)"}
    coefs = {}
    for kind, result in defined(results).items():
        table, note = coefficients(result, "standardized")
        if note:
            print(note)
        if table is not None:
            coefs[kind] = table
    for kind, result in defined(results).items():
        if kind in coefs:
            display(Markdown(f"**{result.label}**\n\n" + "\n".join(
                f"- {line}" for line in effect_sentences(coefs[kind], problem.levels, outcome=result.label, kind=kind))))
    for kind, result in defined(results).items():
        if kind in coefs:
            regplots.coefficients(coefs[kind], xlabel=per_unit[kind].format(result.label))
    return coefs


def coefficient_coverage(results: dict, truth) -> dict[str, pd.DataFrame]:
    """For each target, whether the planted coefficients lie in the raw-scale intervals; ``{}`` without a truth.

    A target whose coefficients cannot all be estimated is left out, with one sentence: intervals of
    a model without some of the planted terms say nothing about the truth.
    """
    if truth is None:
        return {}
    checks = {}
    for kind, result in defined(results).items():
        table, note = coefficients(result)
        if note is not None:
            print(f"{result.label}: no coverage check, because not every planted coefficient is estimated (see the effects above).")
            continue
        checks[kind] = coverage(table, truth.coefficients(result.label))
    return checks


def importances(results: dict, problem, splits: dict, *, n_repeats: int = 5, random_state: int | None = 0):
    """Permutation importance of every model on the held-out customers: print the best model's top three, draw all.

    Returns the table per target (None where the engine lacks the step).
    """
    from marketing.plots import regression as regplots

    if not runs(IMPORTANCE, problem):
        return None
    tables = {}
    for kind, result in defined(results).items():
        test = splits[kind].test
        tables[kind] = permutation_importances(
            result.models, problem.features.iloc[test], problem.targets[kind].iloc[test], kind,
            n_repeats=n_repeats, random_state=random_state,
        )
        top = tables[kind].loc[tables[kind]["model"] == result.best].head(3)
        print(f"{result.label}: the chosen model ({result.best}) relies most on "
              + ", then ".join(f"{f} ({v:.3f})" for f, v in zip(top["feature"], top["importance"], strict=True)))
    for kind, score_label in (("continuous", "R²"), ("binary", "ROC AUC")):
        if kind in tables:
            regplots.importances(tables[kind].loc[tables[kind]["model"] != "baseline"], score_label=score_label)
    return tables


def show_partial_dependence(result, problem, splits: dict, tables, *, n_features: int = 3) -> None:
    """Draw the gradient-boosting model's partial dependence on its ``n_features`` most important features.

    Near-constant features (:func:`~marketing.regression.interpret.flat_features`) have no range to
    vary over: they are skipped for the next most important ones, and a sentence names them.
    """
    from marketing.plots import regression as regplots

    if isinstance(result, NotDefined) or not runs(PARTIAL_DEPENDENCE, problem):
        return
    if not tables or result.kind not in tables:
        print(f"{result.label}: no partial dependence, because there are no importances to choose its features by.")
        return
    split = splits[result.kind]
    table = tables[result.kind]
    train = problem.features.iloc[split.train]
    order = table.loc[table["model"] == "gradient_boosting", "feature"].tolist()
    flat = flat_features(train, order)
    top = [feature for feature in order if feature not in flat][:n_features]
    skipped = [feature for feature in order[:n_features] if feature in flat]
    if skipped:
        print(f"{result.label}: partial dependence leaves out {', '.join(skipped)}, near-constant on the training "
              "customers (the 5th and 95th percentiles are equal), so there is no range to vary over.")
    if not top:
        return
    frame = partial_dependence_frame(result.models["gradient_boosting"], train, top, result.kind)
    regplots.partial_dependence(frame, ylabel=f"average predicted {result.label}")


def held_out_residuals(result, n: int = 5000, random_state: int | None = 0) -> pd.DataFrame:
    """:func:`~marketing.regression.residual_frame` of the best model on (at most ``n``) held-out customers."""
    sample = bounded_sample(result.predictions, n, random_state)
    return residual_frame(sample[result.label], sample[result.best])


def show_residuals(result, n: int = 5000, random_state: int | None = 0) -> None:
    """The best continuous model's held-out residuals: their mean and sd, and the diagnostic plots."""
    from marketing.plots import regression as regplots

    if isinstance(result, NotDefined):
        return
    residuals = held_out_residuals(result, n, random_state)
    print(f"{result.best}: residual mean {residuals['residual'].mean():.3f}, sd {residuals['residual'].std():.3f}")
    regplots.residual_diagnostics(residuals, unit=result.label)


def calibration_tables(result, models=("logistic", "gradient_boosting")) -> dict[str, pd.DataFrame]:
    """The calibration table of the best model and of each of ``models`` the suite has."""
    names = [name for name in dict.fromkeys([models[0], result.best, *models[1:]]) if name in result.metrics.index]
    return {name: calibration_table(result.predictions, result.label, name) for name in names}


def _too_few(what: str, customers: int) -> bool:
    """Whether ``customers`` held-out customers are too few for ``what``'s tenths; if so, say so."""
    if customers >= N_BINS:
        return False
    print(f"{what}: only {customers} held-out customer(s), fewer than the {N_BINS} score bins; the chart is left out.")
    return True


def show_calibration(result):
    """Draw the calibration of the best binary model and its reference models; return the best one's table.

    With fewer held-out customers than bins the chart is left out (one sentence says so) and the
    table is still returned.
    """
    from marketing.plots import regression as regplots

    if isinstance(result, NotDefined):
        return None
    tables = calibration_tables(result)
    if not _too_few(f"calibration of {result.label}", int(tables[result.best]["customers"].sum())):
        regplots.calibration(tables)
    return tables[result.best].round(3)


def show_gains(result):
    """The best binary model's gains and lift by held-out score decile, drawn; returns the table (None without a binary target).

    With fewer held-out customers than deciles the chart is left out (one sentence says so); the
    table, which the record reads, is still returned.
    """
    from marketing.plots import regression as regplots
    from marketing.regression.targeting import gains_table

    if isinstance(result, NotDefined):
        return None
    if result.best == "baseline":
        print("The chosen model is the baseline: every customer gets the same score, so there is no ranking to cut into deciles.")
        return None
    gains = gains_table(result.predictions, result.label, result.best)
    if not _too_few(f"gains of {result.label}", int(gains["customers"].sum())):
        regplots.gains(gains)
    return gains


@dataclass(frozen=True)
class ContactRule:
    """The break-even contact rule on the held-out customers, with the profit curve it sits on."""

    contact_cost: float
    response_value: float
    threshold: float
    curve: pd.DataFrame
    n_rule: int

    @property
    def profit_at(self) -> pd.Series:
        """Realised profit by number of customers contacted (best scores first)."""
        return self.curve.set_index("contacted")["realised_profit"]

    def summary(self) -> str:
        """The rule in words: what it contacts and earns against contacting everyone and the best cut in hindsight."""
        profit = self.profit_at
        n, best = int(profit.index[-1]), int(profit.idxmax())
        lines = [
            f"contact cost {self.contact_cost:.2f}, response value {self.response_value:.2f}: "
            f"break-even probability {self.threshold:.4f}",
            f"held-out customers: the rule contacts {self.n_rule} of {n} ({self.n_rule / n:.1%}); "
            f"realised profit {profit[self.n_rule]:.2f} vs {profit.iloc[-1]:.2f} contacting everyone; "
            f"the best possible cut in hindsight was {best} customers ({profit[best]:.2f})",
        ]
        if self.n_rule == n:
            lines.append("at these costs every customer is worth a contact: the score sets the order and the playbook band the action")
        return "\n".join(lines)


def show_contact_rule(result, targeting: dict):
    """The break-even rule of the case's ``targeting`` costs on the held-out scores: in words and drawn."""
    from marketing.plots import regression as regplots

    if isinstance(result, NotDefined):
        return None
    if not beats_baseline(result):
        print(NO_TARGETING)
        return None
    rule = contact_rule(result, targeting["contact_cost"], targeting["response_value"])
    print(rule.summary())
    regplots.profit(rule.curve, n_rule=rule.n_rule, currency=targeting.get("currency", ""))
    return rule


def show_contact_list(result, problem, case, data, export_dir, btyd=None):
    """Score every customer, write the campaign list for the CRM and show its first rows (pseudonyms on real data).

    With a :class:`~marketing.regression.btyd.BTYDResult` that answers the spend target (``btyd``, from
    :func:`show_btyd`), the list gets each customer's lifetime value, ``clv_12m``
    (:func:`~marketing.regression.btyd.customer_clv`), and a line says its horizon, rate and currency.
    Returns the list's totals (:func:`~marketing.regression.targeting.contact_totals`), None without a binary target.
    """
    from IPython.display import display

    from marketing.privacy import export_note, publishable
    from marketing.regression.targeting import campaign_list, contact_totals, export_campaign_list

    if isinstance(result, NotDefined):
        return None
    if not beats_baseline(result):
        print(f"{NO_TARGETING} No campaign list is written.")
        return None
    cost, value = case.targeting["contact_cost"], case.targeting["response_value"]
    contacts = campaign_list(result.predict(problem.table), "score", cost, value, actions=case.playbook.get("score_bands"))
    note = _with_clv(contacts, btyd, case)
    if note:
        contacts = contacts.assign(**{c: note[0][c].to_numpy() for c in note[0].columns})
    path, listed = export_campaign_list(contacts, export_dir), contact_totals(contacts)
    print(f"{export_note(path, contacts)}: {listed['contacted']} to contact, expected profit {listed['expected_profit']:.2f}")
    if note:
        print(note[1])
    display(publishable(head(contacts, 10).round(4), data))
    return listed


def _with_clv(contacts, btyd, case):
    """The CLV and playbook columns for the list's customers, in its order, and the line that states
    them; None without them."""
    from marketing.regression.btyd import ANNUAL_DISCOUNT_RATE, CLV_MONTHS, BTYDResult, clv_playbook

    if not isinstance(btyd, BTYDResult) or not isinstance(contacts, pd.DataFrame):
        return None
    table = clv_playbook(btyd, contacts[CUSTOMER].to_numpy())
    if table is None:
        return None
    name = f"clv_{CLV_MONTHS}m"
    value = table[name]
    currency = case.targeting.get("currency", "")
    missing = int(value.isna().sum())
    line = (f"{name}: expected value of each customer's purchases in the next {CLV_MONTHS} months"
            f"{f' ({currency})' if currency else ''} from BG/NBD x Gamma-Gamma (section 7), discounted at "
            f"{ANNUAL_DISCOUNT_RATE:.0%} a year; total {value.sum():,.0f}; playbook: the action of section 7"
            + (f"; both empty for {missing} customer(s) without a purchase before the observation end." if missing else "."))
    # money to the cent, as the list's expected profit
    return pd.DataFrame({name: value.round(2).to_numpy(), "playbook": table["playbook"].to_numpy()}), line


#: What the targeting steps say when the binary model does not beat its baseline.
NO_TARGETING = ("No targeting is recommended: the chosen model does not rank customers better than chance on "
                "customers it never saw, so its score cannot say whom to contact.")


def contact_rule(result, contact_cost: float, response_value: float) -> ContactRule:
    """The break-even rule applied to the best binary model's held-out scores."""
    threshold = break_even_probability(contact_cost, response_value)
    curve = profit_curve(result.predictions, result.label, result.best, contact_cost, response_value)
    n_rule = scalars(as_frame(result.predictions), n=count_where(nw.col(result.best) > threshold))["n"]
    return ContactRule(contact_cost, response_value, threshold, curve, int(n_rule))


def show_btyd(case, data, problem, splits: dict, results: dict):
    """BTYD beside the suite (:func:`marketing.regression.btyd.btyd_beside_suite`): one table per target
    it answers (baseline, the suite's chosen model, btyd on the same held-out customers) and the verdict.

    Prints one line instead where the case's targets are not BTYD's (why) or the engine lacks the
    step (the capability table's sentence); returns the result, or None on such an engine.
    """
    from IPython.display import Markdown, display

    from marketing.regression.btyd import STEP, BTYDNotApplicable, btyd_beside_suite, btyd_targets

    targets = btyd_targets(case)
    if isinstance(targets, str):   # why BTYD does not apply
        print(targets)
        return BTYDNotApplicable(targets)
    if not runs(STEP, problem):
        return None
    btyd = btyd_beside_suite(case, data, problem, splits, results)
    for kind, table in btyd.tables.items():
        display(Markdown(f"**{kind}** (`{btyd.targets[kind]}`), held-out customers:"), table.round(3))
    display(Markdown(btyd.verdict))
    if btyd.truth and "stopped_buying_auc" in btyd.truth:
        t = btyd.truth
        print(f"Against the planted truth: of the {t['customers']:,} held-out customers, the {t['stopped']:,} whose buying "
              f"stopped before the observation end are ranked above the others by 1 - P(alive) with ROC AUC "
              f"{t['stopped_buying_auc']:.3f} (0.5 = chance).")
        for segment, fit in t.get("parameters", {}).items():
            print(_planted_line(segment, fit))
    _btyd_figure(btyd, case.targeting.get("currency", ""))
    _tracking_figure(btyd, data)
    return btyd


def _planted_line(segment: str, fit: dict) -> str:
    """One line: the planted BG/NBD parameters of a segment against those fitted on its customers alone.

    >>> print(_planted_line("lapsed", {"customers": 618, "planted": {"r": 2.0, "alpha": 10.0}, "fitted": {"r": 1.91, "alpha": 9.85}}))
    Planted BG/NBD process of segment 'lapsed' (618 customers, fitted on them alone): r 2 fitted 1.91, alpha 10 fitted 9.85 (alpha per week).
    """
    head = f"Planted BG/NBD process of segment {segment!r} ({fit['customers']:,} customers, fitted on them alone): "
    if fit["fitted"] is None:
        return head + f"no fit ({fit['error']})."
    pairs = ", ".join(f"{k} {v:g} fitted {fit['fitted'][k]:g}" for k, v in fit["planted"].items())
    return head + pairs + " (alpha per week)."


def _tracking_figure(btyd, data) -> None:
    """The tracking plot over the calibration period: the log ends at the observation end, so the
    window after it (where the labels are) has spend and churn, not purchase counts, to track."""
    from marketing.clv.tracking import cumulative_repeat_purchases
    from marketing.plots import regression as plots
    from marketing.regression.btyd import UNIT, purchase_occasions

    model = next(iter(btyd.purchases.values()))
    table = cumulative_repeat_purchases(model, purchase_occasions(data.events, data.observation_end),
                                        data.observation_end, unit=UNIT)
    last = table.iloc[-1]
    gap = last["expected"] / last["observed"] - 1 if last["observed"] else float("nan")
    plots.btyd_tracking(table, title=f"Tracking over the calibration period: {last['observed']:,.0f} repeat purchases "
                                     f"observed, {last['expected']:,.0f} expected ({gap:+.1%})")


def _btyd_figure(btyd, currency: str) -> None:
    """The diagnostic by calibration frequency, titled with its largest gap."""
    from marketing.plots import regression as plots
    from marketing.regression.btyd import by_frequency

    tables = by_frequency(btyd)
    ylabels = {"binary": "share buying in the window", "continuous": f"mean spend in the window{f' [{currency}]' if currency else ''}"}
    titles = {}
    for kind, table in tables.items():
        filled = table.dropna(subset=["predicted", "observed"])  # empty and too-small groups
        if filled.empty:
            titles[kind] = "Spend" if kind == "continuous" else "Buying at all"
            continue
        worst = (filled["predicted"] - filled["observed"]).abs().idxmax()
        gap = filled.loc[worst, "predicted"] - filled.loc[worst, "observed"]
        amount = f"{gap:+,.2f}{f' {currency}' if currency else ''}" if kind == "continuous" else f"{gap:+.2f}"
        titles[kind] = f"{'Spend' if kind == 'continuous' else 'Buying at all'}: largest gap {amount} (at {worst})"
    plots.btyd_by_frequency(tables, ylabels={k: ylabels[k] for k in tables}, titles=titles)


def show_clv(btyd, problem, case):
    """Lifetime value and what to do about it: the playbook's groups (customers, mean CLV, share of the
    total, mean P(alive); groups below the minimum size blanked) and the decile chart. Returns the
    per-customer table (:func:`~marketing.regression.btyd.clv_playbook`), or None, after one line,
    where BTYD does not answer the spend target.
    """
    from IPython.display import display

    from marketing.plots import regression as plots
    from marketing.privacy import is_small
    from marketing.regression.btyd import HIGH_VALUE_SHARE, PLAYBOOK, SLIPPING_BELOW, BTYDResult, clv_deciles, clv_playbook

    table = clv_playbook(btyd, problem.features.index) if isinstance(btyd, BTYDResult) else None
    if table is None:
        print("No lifetime value: BTYD does not answer this case's spend target (section 7).")
        return None
    name = [c for c in table.columns if c.startswith("clv_") and c != "clv_decile"][0]
    print(f"Playbook: high value = the top {HIGH_VALUE_SHARE:.0%} by value if retained ({name} / P(alive)); "
          f"slipping away = P(alive) below {SLIPPING_BELOW}. {int(table[name].isna().sum())} customer(s) without a "
          "purchase before the observation end have no lifetime value.")
    groups = table.groupby("playbook").agg(customers=(CUSTOMER, "size"), mean_clv=(name, "mean"),
                                           total=(name, "sum"), mean_p_alive=("p_alive", "mean"))
    groups = groups.reindex(list(PLAYBOOK.values()))
    groups["customers"] = groups["customers"].fillna(0).astype("Int64")
    groups["share_of_clv"] = groups.pop("total") / table[name].sum()
    small = is_small(groups["customers"]).to_numpy(dtype=bool)
    groups.loc[small, :] = pd.NA
    if small.any():
        print(f"Blanked: {', '.join(groups.index[small])} (fewer than {DEFAULT_MIN_SIZE} customers, too few to publish).")
    display(groups.round(3))
    plots.clv_deciles(clv_deciles(btyd, table), currency=case.targeting.get("currency", ""), window_days=btyd.window_days)
    return table


def _significant(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def btyd_record(btyd) -> dict | None:
    """The record's ``btyd`` entry: parameters to 3 significant digits, the tables' metrics to 3
    decimals, the counts and the verdict; None where BTYD does not apply or the engine lacks it."""
    from marketing.regression.btyd import BTYDResult

    if not isinstance(btyd, BTYDResult):
        return None
    return {
        "window_days": btyd.window_days,
        "parameters": {name: {k: _significant(v) for k, v in values.items()} for name, values in btyd.parameters.items()},
        "targets": dict(btyd.targets),
        "counts": btyd.counts,
        "models": {kind: table.round(3).to_dict(orient="index") for kind, table in btyd.tables.items()},
        "verdict": btyd.verdict,
        "clv": _clv_record(btyd),
        "truth": btyd.truth,
    }


def _clv_record(btyd) -> dict | None:
    """The CLV total, the top decile's share of it and the playbook's head counts (None below the minimum size)."""
    from marketing.privacy import is_small
    from marketing.regression.btyd import PLAYBOOK, clv_playbook

    table = clv_playbook(btyd, btyd.summary.index)
    if table is None:
        return None
    name = [c for c in table.columns if c.startswith("clv_") and c != "clv_decile"][0]
    counts = table["playbook"].value_counts()
    return {
        "total": round(float(table[name].sum()), 2),
        "top_decile_share": round(float(table.loc[table["clv_decile"] == 1, name].sum() / table[name].sum()), 3),
        "playbook": {a: None if is_small(int(counts.get(a, 0))) else int(counts.get(a, 0)) for a in PLAYBOOK.values()},
    }


def regression_record(case, data, splits, continuous, binary, *, gains, rule, listed, coef_coverage, warnings=None,
                      btyd=None) -> dict:
    """The machine-readable record of the analysis, for :func:`marketing.notebook.record_metrics`.

    Every model's held-out metrics for both targets, the chosen model and how it was chosen, the
    coverage of the planted coefficients (None without a truth), and the targeting results:
    break-even probability, the top decile's lift, what the rule does on the held-out customers and
    what the campaign list holds (or that no targeting is recommended).
    ``warnings`` (from :func:`show_warnings`) are recorded as their messages; None (the default,
    or an engine without the step) records None: not checked, rather than "no warnings".
    ``btyd`` (from :func:`show_btyd`) is recorded by :func:`btyd_record` (None where it does not apply).
    """
    split = next(iter(splits.values()))
    record = {
        "engine": engine_of(data),
        "case_study": case.name,
        "split": split.method,
        "n_train": split.n_train,
        "n_test": split.n_test,
        "warnings": None if warnings is None else [getattr(w, "message", str(w)) for w in warnings],
        "btyd": btyd_record(btyd),
    }
    for kind, result in (("continuous", continuous), ("binary", binary)):
        if isinstance(result, NotDefined):
            record[kind] = {"target": None, "not_defined": result.reason}
            continue
        primary = result.primary_metric
        record[kind] = {
            "target": result.label,
            "best_model": result.best,
            "beats_baseline": beats_baseline(result),
            "selection_warnings": selection_warnings(result),
            "selection": {
                "method": result.selection.method,
                "metric": primary,
                "scores": result.selection.scores[primary].to_dict(),
            },
            "models": result.metrics.to_dict(orient="index"),
            "coef_coverage": _covered(coef_coverage, kind),
        }
    if not isinstance(binary, NotDefined):
        record["binary"]["positive_rate"] = float(scalars(as_frame(binary.predictions), rate=nw.col(binary.label).mean())["rate"])
    if rule is None and not isinstance(binary, NotDefined):
        record["targeting"] = {"recommended": False, "reason": NO_TARGETING}
    elif rule is not None:
        record["targeting"] = {
            "recommended": True,
            "break_even_probability": rule.threshold,
            "top_decile_lift": float(gains["lift"].iloc[0]),
            "test_contacted": rule.n_rule,
            "test_realised_profit": float(rule.profit_at[rule.n_rule]),
            "list_contacted": listed["contacted"],
            "list_expected_profit": listed["expected_profit"],
        }
    return record


def _covered(checks: dict, kind: str) -> float | None:
    return float(checks[kind]["covered"].mean()) if kind in checks else None


def conclusions(continuous, binary, *, rule=None, listed=None, calibration=None, btyd=None) -> str:
    """Section "What it means" as Markdown, written from the results (never a fixed sentence).

    One bullet per defined target, saying what the chosen model achieved on the held-out customers
    or that it does not beat its baseline, and what to do: contact the customers above break-even,
    or no model-based targeting. With a :class:`~marketing.regression.btyd.BTYDResult` (``btyd``),
    a bullet says whether the suite or BTYD wins (:func:`~marketing.regression.btyd.conclusion`).
    """
    from marketing.regression.btyd import BTYDResult, conclusion

    lines = []
    if not isinstance(continuous, NotDefined):
        r2 = continuous.metrics.loc[continuous.best, "r2"]
        if beats_baseline(continuous):
            lines.append(
                f"- **How much:** {continuous.best} explains {r2:.0%} of the variance of `{continuous.label}` on "
                f"customers it never saw ({_with_interval(continuous, 'rmse')}, against "
                f"{continuous.metrics.loc['baseline', 'rmse']:.3f} for predicting the average); the coefficients in "
                "section 5 say which levers move the amount, and by how much per standard deviation.")
        else:
            lines.append(f"- **How much:** no model predicts `{continuous.label}` better than its average on customers "
                         "it never saw; do not plan budgets on these predictions.")
    if not isinstance(binary, NotDefined):
        if beats_baseline(binary):
            text = (f"- **Who:** {binary.best} ranks customers with {_with_interval(binary, 'roc_auc')} "
                    "(0.5 is chance) on customers it never saw")
            if calibration is not None:
                gap = float((calibration["observed"] - calibration["predicted"]).abs().mul(calibration["customers"]).sum()
                            / calibration["customers"].sum())
                text += (f"; its probabilities are off by {gap:.3f} on average across the score tenths"
                         + (", close enough to use them as such." if gap <= 0.05 else
                            ": recalibrate them before the contact rule relies on them."))
            else:
                text += "."
            lines.append(text)
        else:
            lines.append(f"- **Who:** no model ranks customers by `{binary.label}` better than chance on customers it "
                         "never saw.")
        if rule is not None and listed is not None:
            profit = rule.profit_at
            lines.append(
                f"- **What to do:** contact the customers whose probability is above break-even ({rule.threshold:.3f}): "
                f"on the held-out customers the rule contacts {rule.n_rule} of {int(profit.index[-1])} and realises "
                f"{profit[rule.n_rule]:,.2f} against {profit.iloc[-1]:,.2f} contacting everyone. The campaign list "
                f"marks {listed['contacted']} of {listed['customers']} customers to contact.")
        else:
            lines.append("- **What to do:** no model-based targeting; improve the data (more customers, features known "
                         "before the prediction moment) before selecting customers by score.")
    if isinstance(btyd, BTYDResult):
        lines.append(conclusion(btyd))
    return "\n".join(lines) or "Neither target is defined for this case: nothing to conclude."
