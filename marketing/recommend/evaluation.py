"""Offline evaluation: fit every model on the same split and score it with the same metrics, on
the split's engine (in memory: the sparse-matrix models; Spark: popularity and Spark ML's ALS).

What an engine lacks (:mod:`marketing.capabilities`) is not an error here: the step prints the
capability table's sentence where its output would be and returns None, so a notebook needs no
engine branch.
"""

from __future__ import annotations

from collections.abc import Mapping
import copy
import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from marketing.capabilities import unavailable
from marketing.columns import CUSTOMER, ITEM, RANK
from marketing.engines import engine_of
from marketing.frames import count_where
from marketing.recommend import relational as rel
from marketing.recommend.interactions import build_interactions, id_values
from marketing.recommend.metrics import RANKING_METRICS, catalogue_coverage, novelty, ranking_metrics
from marketing.recommend.models import ALS, EASE, ItemKNN, PopularityRecommender, Recommender, UserKNN
from marketing.recommend.split import Split, validation_split
from marketing.validation import DataValidationError, require_columns

BASELINE = "popularity"
ANALYSIS = "recommendation"
#: Steps of the capability table (marketing.capabilities) this module serves.
KNN_AND_EASE = "user and item kNN and EASE recommenders"
RATINGS = "rating prediction"
SWEEP = "the hyper-parameter sweep"
EXPLAINED = "explained recommendations (item kNN)"
#: Columns of the comparison table, on every engine.
TABLE_COLUMNS = (*RANKING_METRICS, "coverage", "novelty", "n_customers")

#: The main hyper-parameter of each model, swept in the notebook.
MAIN_PARAMETER = {
    "item_knn": "n_neighbors",
    "user_knn_cosine": "n_neighbors",
    "user_knn_pearson": "n_neighbors",
    "ease": "l2",
    "als": "factors",
}

#: Values tried for that parameter when the notebook does not name its own.
DEFAULT_GRID = {
    "item_knn": [5, 10, 25, 50, 100, 200],
    "user_knn_cosine": [10, 25, 50, 100, 200],
    "user_knn_pearson": [10, 25, 50, 100, 200],
    "ease": [10.0, 50.0, 200.0, 500.0, 1000.0],
    "als": [8, 16, 32, 64],
}


def default_models(n_items: int, random_state: int = 42) -> dict[str, Recommender]:
    """Popularity, user kNN (cosine, Pearson), item kNN, EASE (when the catalogue fits) and ALS."""
    models: dict[str, Recommender] = {
        BASELINE: PopularityRecommender(),
        "user_knn_cosine": UserKNN(n_neighbors=50, similarity="cosine"),
        "user_knn_pearson": UserKNN(n_neighbors=50, similarity="pearson"),
        "item_knn": ItemKNN(n_neighbors=100),
        "ease": EASE(l2=200.0),
        "als": ALS(random_state=random_state),
    }
    if n_items > models["ease"].max_items:
        del models["ease"]
    return models


def make_model(name: str, random_state: int = 42, **params) -> Recommender:
    """A fresh model of the kind ``name`` (a key of :func:`default_models`) with ``params`` changed."""
    base = default_models(n_items=1, random_state=random_state)
    if name not in base:
        raise ValueError(f"model {name!r} is unknown: use one of {sorted(base)}.")
    model = base[name]
    for key, value in params.items():
        if not hasattr(model, key):
            raise ValueError(f"model {name!r} has no parameter {key!r}.")
        setattr(model, key, value)
    return model


@dataclass
class Comparison:
    """The result of :func:`compare_models`.

    The same attributes on every engine.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per model (warm test customers): the ranking metrics at k, coverage, novelty,
        ``n_customers``. Small: collected on Spark too.
    cold_start : dict
        Ranking metrics of the popularity list for test customers without training history.
    models : dict
        The fitted models.
    train : Interactions or pyspark.sql.DataFrame
        The training interactions every model was fitted on (:func:`build_interactions`).
    k : int
    details : dict
        The split's counts and the test pairs of items outside the catalogue.
    items : optional
        The catalogue the models were fitted with (Spark keeps it beside the pairs).
    validation : pandas.DataFrame or None
        The same table for the validation split inside the training part, where the model is chosen.
    selection : str
        How the model was chosen, in words (or why it could not be).
    """

    table: pd.DataFrame
    cold_start: dict
    models: dict
    train: object
    k: int
    details: dict = field(default_factory=dict)
    items: object = None
    validation: pd.DataFrame | None = None
    selection: str = ""

    @property
    def best_model(self) -> str:
        """The chosen model: the highest NDCG@k on the validation split inside the training part
        (:attr:`validation`; the baseline wins ties), never on the test part. Without a validation
        table (``compare_models(validation=None)``) there is no choice to make: popularity."""
        return BASELINE if self.validation is None else best_by_ndcg(self.validation)

    @property
    def degenerate(self) -> bool:
        """No model, the baseline included, recommends a single test pair correctly (NDCG 0 or undefined)."""
        return not bool((self.table["ndcg"].fillna(0) > 0).any())

    @property
    def engine(self) -> str:
        return engine_of(self.train)

    @property
    def gain(self) -> float:
        """Relative test NDCG@k gain of the chosen model over the baseline (0 when the baseline is
        chosen; NaN when the baseline's NDCG is 0)."""
        base = self.table.loc[BASELINE, "ndcg"]
        return float(self.table.loc[self.best_model, "ndcg"] / base - 1) if base > 0 else float("nan")

    def refit(self, interactions, name: str | None = None):
        """Refit model ``name`` (default: the best) on ``interactions`` (e.g. every event up to the
        observation end, from :func:`build_interactions`) and return it: the final model."""
        model = self.models[name or self.best_model]
        if engine_of(interactions) == "spark":
            return model.fit(interactions, self.items)
        return model.fit(interactions)

    def note(self) -> str:
        """The result in words: how the model was chosen, its test NDCG against popularity, the
        cold-start count; or that the data give no model anything to get right."""
        ndcg, k = self.table["ndcg"], self.k
        cold = ("Cold-start test customers (the collaborative models give them the popularity list): "
                f"{self.cold_start['n_customers']}")
        if self.degenerate:
            return (f"No model recommends a single test pair correctly (NDCG@{k} is 0 for every model, popularity "
                    "included): the test window holds too few new pairs, or the data are not repeat interactions. "
                    f"Nothing here can be trusted, and no campaign list is written.\n{cold}")
        best = self.best_model
        lines = [self.selection]
        if best == BASELINE:
            lines.append(f"Popularity is the model to use: NDCG@{k} {ndcg[BASELINE]:.3f} on the test customers.")
        else:
            lines.append(f"On the test customers: {best} NDCG@{k} {ndcg[best]:.3f} vs popularity {ndcg[BASELINE]:.3f} "
                         f"({self.gain:+.1%}).")
        return "\n".join([*lines, cold])


def best_by_ndcg(table: pd.DataFrame) -> str:
    """The row (model) of a comparison table with the highest ``ndcg``; the first listed, the
    baseline, wins ties. Both engines' comparisons pick their best model with it."""
    ndcg = table["ndcg"]
    return str(ndcg.index[np.argmax(ndcg.to_numpy())])


def evaluate_model(model: Recommender, relevant: sp.csr_matrix, rows: np.ndarray, k: int) -> dict:
    """Ranking metrics, coverage and novelty of a fitted model on the given customers' test pairs."""
    items, _ = model.recommend_positions(rows, k)
    out = ranking_metrics(items, relevant, k)
    train = model.interactions_
    out["coverage"] = catalogue_coverage(items, train.n_items)
    out["novelty"] = novelty(items, model.item_users_, train.n_users)
    out["n_customers"] = len(rows)
    return out


def compare_models(
    split: Split,
    k: int = 10,
    models: Mapping[str, Recommender] | None = None,
    items=None,
    random_state: int = 42,
    col_customer: str = CUSTOMER,
    col_item: str = ITEM,
    validation="auto",
) -> Comparison:
    """Fit each model on ``split.train`` (binary interactions) and evaluate it at ``k`` on ``split.test``;
    choose the model on a validation split inside ``split.train``.

    The choice (:attr:`Comparison.best_model`) is made on ``validation``: by default
    :func:`~marketing.recommend.validation_split` of ``split`` (the same method again, inside the
    training events), where every model is fitted and scored the same way; the test part only
    measures the chosen model. ``validation=None`` skips the choice (popularity is then the
    model to use).

    Test customers without training history are cold-start: every model serves them the
    popularity list, so they are evaluated once, separately. Test pairs of items outside the
    training matrix (possible only when ``items`` is not given) cannot be recommended; they
    stay in the recall denominator and are counted in ``details``.

    Parameters
    ----------
    split : Split
        From :func:`make_split`, on either engine.
    k : int
    models : dict, optional
        Name -> unfitted recommender; must include ``"popularity"``. Default: every model the
        engine runs (in memory :func:`default_models`; on Spark popularity and ALS, and the
        capability note names what is left out).
    items : table or array-like, optional
        The catalogue (a table with ``item_id``, or the ids).
    random_state : int
    validation : "auto", Split or None
        Where the model is chosen (see above).

    Returns
    -------
    Comparison
        The same attributes on every engine; the metrics of the in-memory models come from the
        CSR metric code, those of the Spark models from the relational one, tested equal.

    Examples
    --------
    >>> events = pd.DataFrame({
    ...     "customer_id": [1, 1, 2, 2, 2, 3, 3, 1, 3, 4],
    ...     "item_id": [10, 20, 10, 20, 30, 20, 30, 30, 10, 30],
    ...     "timestamp": pd.to_datetime(["2025-01-01", "2025-01-05", "2025-01-02", "2025-01-03", "2025-01-04",
    ...         "2025-01-04", "2025-01-06", "2025-02-15", "2025-02-20", "2025-02-10"])})
    >>> from marketing.recommend import make_split
    >>> held_out = make_split(events, "time", observation_end="2025-03-01", test_days=30)
    >>> result = compare_models(held_out, k=1, models={"popularity": PopularityRecommender()})
    >>> result.table[["precision", "recall", "n_customers"]]
                precision  recall  n_customers
    model
    popularity        1.0     1.0            2
    >>> result.cold_start["n_customers"], result.cold_start["hit_rate"]
    (1, 0.0)
    """
    if not split.details.get("test_pairs", 1) or (engine_of(split.test) != "spark" and len(split.test) == 0):
        raise ValueError("The split has no test pairs: choose a longer test window or another split.")
    chosen_on, selection = None, "No validation split was asked for: popularity is the model to use."
    if isinstance(validation, str) and validation == "auto":
        try:
            validation = validation_split(split, random_state)
        except DataValidationError as error:
            validation, selection = None, f"Popularity is used: {error}"
    if validation is not None:
        chosen_on = compare_models(validation, k, None if models is None else copy.deepcopy(dict(models)), items,
                                   random_state, col_customer, col_item, validation=None).table
        what = {"time": "the last days before the test window", "leave_last": "each customer's last training items",
                "random": "a random share of each customer's training items"}.get(validation.method, "a validation split")
        best = best_by_ndcg(chosen_on)
        selection = (f"Chosen on a validation split inside the training events ({what}; "
                     f"{validation.details['test_pairs']:,} pairs): {best}, validation NDCG@{k} "
                     f"{chosen_on.loc[best, 'ndcg']:.3f} vs popularity {chosen_on.loc[BASELINE, 'ndcg']:.3f}.")
    if engine_of(split.train) == "spark":
        result = _compare_spark(split, k, models, items, random_state)
    else:
        result = _compare_memory(split, k, models, items, random_state, col_customer, col_item)
    return dataclasses.replace(result, validation=chosen_on, selection=selection)


def _compare_memory(split, k, models, items, random_state, col_customer, col_item) -> Comparison:
    """compare_models in memory: the sparse-matrix models, scored by the CSR metric code."""
    items = id_values(items, col_item)
    train = build_interactions(split.train, weighting="binary", items=items, col_customer=col_customer, col_item=col_item)
    if models is None:
        models = default_models(train.n_items, random_state=random_state)
    if BASELINE not in models:
        raise ValueError(f"models must include the baseline {BASELINE!r}.")
    test = split.test
    user_pos = train.user_positions(test[col_customer].to_numpy())
    item_pos = train.item_positions(test[col_item].to_numpy())
    unseen_items = item_pos < 0
    # unseen items get an extra column no model can recommend, so they still count against recall
    item_pos = np.where(unseen_items, train.n_items, item_pos)
    warm = user_pos >= 0
    warm_users, warm_rows = np.unique(user_pos[warm], return_inverse=True)
    relevant = sp.csr_matrix(
        (np.ones(int(warm.sum())), (warm_rows, item_pos[warm])), shape=(len(warm_users), train.n_items + 1)
    )
    fitted, rows = {}, {}
    for name, model in models.items():
        fitted[name] = model.fit(train)
        rows[name] = evaluate_model(model, relevant, warm_users, k)
    table = pd.DataFrame(rows).T.rename_axis("model")
    table["n_customers"] = table["n_customers"].astype(int)

    cold_ids, cold_rows = np.unique(test[col_customer].to_numpy()[~warm], return_inverse=True)
    cold = {"n_customers": len(cold_ids)}
    if len(cold_ids):
        cold_rel = sp.csr_matrix(
            (np.ones(len(cold_rows)), (cold_rows, item_pos[~warm])), shape=(len(cold_ids), train.n_items + 1)
        )
        items_cold, _ = fitted[BASELINE].recommend_positions(np.full(len(cold_ids), -1), k)
        cold.update(ranking_metrics(items_cold, cold_rel, k))
    details = {"test_pairs_unseen_items": int(unseen_items.sum()), **split.details}
    return Comparison(table, cold, fitted, train, k, details, items)


def _compare_spark(split, k, models, items, random_state) -> Comparison:
    """compare_models on Spark: the relational metrics (:mod:`~marketing.recommend.relational`) on
    the Spark models' top-k tables; the table comes back to pandas."""
    import narwhals as nw

    from marketing.spark.recommend.models import spark_models

    if items is not None:
        require_columns(items, [ITEM], "items")
    train = build_interactions(split.train, weighting="binary").persist()
    models = spark_models(random_state) if models is None else dict(models)
    if BASELINE not in models:
        raise ValueError(f"models must include the baseline {BASELINE!r}.")
    users = rel.lazy(train).select(CUSTOMER).unique().with_columns(_warm=nw.lit(1))
    catalogue = rel.lazy(items if items is not None else train).select(ITEM).unique().with_columns(_known=nw.lit(1))
    flagged = rel.lazy(split.test).select(CUSTOMER, ITEM).join(users, on=CUSTOMER, how="left")
    flagged = rel.lazy(flagged.join(catalogue, on=ITEM, how="left").to_native().persist())
    is_cold = nw.col("_warm").is_null()
    counts = rel.first_row(flagged.select(count_where(nw.col("_known").is_null()).alias("unseen")))
    n_cold = rel.first_row(flagged.filter(is_cold).select(nw.col(CUSTOMER).n_unique()))[CUSTOMER]
    warm = rel.native(flagged.filter(~is_cold).select(CUSTOMER, ITEM))
    cold = rel.native(flagged.filter(is_cold).select(CUSTOMER, ITEM))
    fitted = {name: model.fit(train, items) for name, model in models.items()}
    # every model's lists in one table, scored in one query per measure (a Spark query here costs
    # seconds of planning whatever its size); persisted: both measures read the lists
    lists = [rel.lazy(model.recommend(warm.select(CUSTOMER), k)).select(CUSTOMER, RANK, ITEM).with_columns(model=nw.lit(name))
             for name, model in fitted.items()]
    recommended = nw.concat(lists).to_native().persist()
    baseline = fitted[BASELINE]  # every model saw the same training pairs and catalogue
    table = pd.concat([rel.mean_ranking_metrics(recommended, warm, k, by="model"),
                       rel.coverage_and_novelty(recommended, baseline.item_users_, baseline.n_users_, baseline.n_items_, by="model")], axis=1)
    recommended.unpersist()
    table = table.reindex(list(fitted)).rename_axis("model")[list(TABLE_COLUMNS)]
    cold_start: dict = {"n_customers": int(n_cold or 0)}
    if n_cold:
        cold_lists = fitted[BASELINE].recommend(cold.select(CUSTOMER), k)
        metrics = rel.mean_ranking_metrics(cold_lists, cold, k)
        cold_start.update({m: metrics[m] for m in RANKING_METRICS})
    flagged.to_native().unpersist()
    details = {"test_pairs_unseen_items": int(counts["unseen"]), **split.details}
    return Comparison(table, cold_start, fitted, train, k, details, items)


def sweep(
    split: Split, name: str, values=None, k: int = 10, items=None, random_state: int = 42
) -> pd.DataFrame:
    """NDCG, recall and coverage at ``k`` of model ``name`` for each value of its main parameter
    (:data:`MAIN_PARAMETER`); ``values`` defaults to :data:`DEFAULT_GRID`. Measured on the
    validation split inside the training events (:func:`~marketing.recommend.validation_split`):
    tuning on the test part would make its score optimistic.

    Returns None, after saying why, when there is nothing to sweep: the baseline won, or the
    engine does not run the sweep (each value is a refit; see :mod:`marketing.capabilities`).
    """
    engine = engine_of(split.train)
    if engine == "spark":
        print(unavailable(ANALYSIS, SWEEP, engine))
        return None
    if name == BASELINE:
        print("Popularity won: nothing to tune.")
        return None
    if name not in MAIN_PARAMETER:
        raise ValueError(f"model {name!r} has no hyper-parameter to sweep; use one of {sorted(MAIN_PARAMETER)}.")
    param = MAIN_PARAMETER[name]
    values = DEFAULT_GRID[name] if values is None else values
    try:
        inner = validation_split(split, random_state)
    except DataValidationError as error:
        print(f"No sweep: {error}")
        return None
    rows = []
    for value in values:
        models = {BASELINE: PopularityRecommender(), name: make_model(name, random_state, **{param: value})}
        result = compare_models(inner, k=k, models=models, items=items, random_state=random_state, validation=None)
        row = result.table.loc[name, ["ndcg", "recall", "coverage"]].to_dict()
        rows.append({"parameter": param, "value": value, **row})
    return pd.DataFrame(rows)


def campaign_list(model, customers, items, k: int = 10):
    """The action: top-k per customer with the item's name, ready for a campaign tool.

    Parameters
    ----------
    model : a fitted recommender (either engine)
    customers : table or array-like
        The customers (a table with ``customer_id``, or the ids). Those without history get the
        popularity list, flagged ``cold_start``.
    items : table
        ``item_id`` and ``name`` (without names, the id stands in).
    k : int

    Returns
    -------
    pandas.DataFrame or pyspark.sql.DataFrame (persisted: it is written, counted and shown)
        customer_id, rank, item_id, item_name, score (rounded to 4 decimals), cold_start. Write it
        with :func:`marketing.privacy.write_crm_export`.

    Examples
    --------
    >>> X = build_interactions(pd.DataFrame({"customer_id": [1, 2, 2], "item_id": [10, 10, 20]}))
    >>> items = pd.DataFrame({"item_id": [10, 20], "name": ["tea", "mug"]})
    >>> campaign_list(PopularityRecommender().fit(X), [1, 3], items, k=1)
       customer_id  rank  item_id item_name  score  cold_start
    0            1     1       20       mug    1.0       False
    1            3     1       10       tea    2.0        True
    """
    if engine_of(customers) == "spark":
        return rel.with_item_names(model.recommend(customers, k), items).persist()
    return rel.with_item_names(model.recommend(id_values(customers, CUSTOMER), k=k), items)


def show_campaign(result: Comparison, interactions, data, k: int = 10, export_dir=".", n_shown: int | None = None, cold=None):
    """The notebook's last step: refit the campaign's model on ``interactions`` (every event up to the
    observation end), write every customer's top ``k`` for the CRM, say what was written, and return
    the first rows to show (pseudonyms on real data). Degenerate data (:attr:`Comparison.degenerate`)
    get no list: the reason is printed and None returned.

    With ``cold`` (:func:`~marketing.recommend.compare_cold_start`) the model is its hybrid (the
    chosen model blended with content, for every customer, new ones included) and each line gets
    its ``reason``; without it (an engine without content models), the chosen model.
    """
    from marketing.privacy import export_note, publishable, write_crm_export
    from marketing.recommend.cold_start import reasons

    if result.degenerate:
        print("No campaign list: no model got a single test pair right, so its lists would be guesses.")
        return None
    if cold is None:
        final, label = result.refit(interactions), result.best_model
        campaign = campaign_list(final, data.customers, data.items, k=k)
    else:
        final = cold.refit(interactions, data)
        label = f"hybrid of {result.best_model} and content, blend weight {final.weight_:.2f} chosen on these events"
        campaign = reasons(final, campaign_list(final, data.customers, data.items, k=k), items=data.items)
    path = write_crm_export(campaign, export_dir, "recommendation_campaign")
    print(f"Campaign list ({label}): {export_note(path, campaign)}.")
    return publishable(head(campaign, n_shown or k), data)


def head(frame, n: int = 10) -> pd.DataFrame:
    """The first ``n`` rows of a campaign list by customer and rank, as pandas (to show)."""
    if engine_of(frame) == "spark":
        return frame.orderBy(CUSTOMER, "rank").limit(n).toPandas()
    return frame.head(n)


def explained_examples(result: Comparison, split, data, n: int = 3, k: int = 3):
    """Item-kNN recommendations with their reasons for the first ``n`` warm test customers, as a
    report may show them (ids pseudonymised on real data); None, after saying why, on an engine
    without item kNN."""
    from marketing.privacy import publishable

    if "item_knn" not in result.models:
        print(unavailable(ANALYSIS, EXPLAINED, result.engine))
        return None
    model = result.models["item_knn"]
    examples = split.test[CUSTOMER].drop_duplicates().sort_values()
    examples = examples[result.train.user_positions(examples) >= 0].head(n)
    shown = campaign_list(model, examples, data.items, k=k)
    explained = explain_recommendations(model, shown, data.items)
    return publishable(explained[[CUSTOMER, "rank", "item_name", "score", "because"]], data)


def compare_ratings(split, case):
    """RMSE and MAE of the bias model against the overall mean (:func:`evaluate_ratings`) when the
    case has explicit ratings; None, after saying why, otherwise or on an engine without it."""
    from marketing.recommend.ratings import evaluate_ratings

    if case.feedback != "explicit":
        print(f"{case.title.split(':')[0]} has implicit feedback only: no ratings to predict.")
        return None
    engine = engine_of(split.train)
    if engine == "spark":
        print(unavailable(ANALYSIS, RATINGS, engine))
        return None
    return evaluate_ratings(split.train, split.test, rating_scale=case.rating_scale)


def recommendation_record(result: Comparison, split, ratings=None, data=None, cold=None) -> dict:
    """The machine-readable record of a recommendation report (for
    :func:`marketing.notebook.record_metrics`), its floats rounded here: 4 decimals in memory, 3 on
    Spark, whose sums run in partition order so the last digits can vary between runs.

    ``data`` (the case's data) names the engine the report ran on (DuckDB data is modelled in
    memory, so the comparison alone would say pandas); ``cold``
    (:func:`~marketing.recommend.compare_cold_start`) adds the cold-start table (None without it).
    """
    digits = 3 if result.engine == "spark" else 4
    metrics = [*RANKING_METRICS, "coverage", "novelty"]
    record = {
        "engine": engine_of(data) if data is not None else result.engine,
        "k": result.k,
        "split": split.method,
        "best_model": result.best_model,
        "selection": result.selection,
        "validation_ndcg": None if result.validation is None else result.validation["ndcg"].to_dict(),
        "degenerate": result.degenerate,
        "models": {name: {m: row[m] for m in metrics} for name, row in result.table.iterrows()},
        "n_test_users": int(result.table["n_customers"].iloc[0]),
        "cold_start_users": result.cold_start["n_customers"],
        "ndcg_gain_over_popularity": result.gain,
        "ratings": None if ratings is None else ratings.to_dict(orient="index"),
        "cold_start": None if cold is None else cold.record(digits),
    }
    return _rounded(record, digits)


def _rounded(value, digits: int):
    if isinstance(value, Mapping):
        return {key: _rounded(v, digits) for key, v in value.items()}
    if isinstance(value, (float, np.floating)):
        return round(float(value), digits)
    return value


def explain_recommendations(model: ItemKNN, recommendations: pd.DataFrame, items: pd.DataFrame, n: int = 2) -> pd.DataFrame:
    """Add a "because you have ..." column to item-kNN recommendations (a few customers at a time).

    Items are named by the catalogue's ``name`` column, or by their id where it has none (a
    catalogue derived from the events).
    """
    catalogue = items.set_index(ITEM)
    names = catalogue["name"] if "name" in catalogue else catalogue.index.to_series()
    reasons = []
    for customer, item, cold in recommendations[[CUSTOMER, ITEM, "cold_start"]].itertuples(index=False):
        if cold:
            reasons.append("popular with all customers (no history yet)")
            continue
        why = model.explain(customer, item, n=n)
        because = ", ".join(names.reindex(why["because_item_id"].to_numpy()).astype(str))
        reasons.append(f"because you have {because}" if because else "popular (no similar item owned)")
    out = recommendations.copy()
    out["because"] = reasons
    return out
