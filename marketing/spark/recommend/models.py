"""Recommenders on Spark with one interface: popularity and Spark ML's ALS for implicit feedback.

``fit(interactions, items)`` learns from the training pairs (:func:`marketing.recommend.build_interactions`
of a Spark event log);
``recommend(customers, k)`` gives every customer their top ``k`` as a long Spark DataFrame
``(customer_id, rank, item_id, score, cold_start)``, excluding the items the customer already has,
and the popularity list to customers without history, as :class:`marketing.recommend.Recommender`
does. Ties in score are broken by popularity (more customers first), then by item id.

Top k excluding the seen items, for every customer, without a customers x items table:

- popularity: customer ``u`` with ``n_u`` items needs at most the ``k + n_u`` most popular items;
  each customer row is expanded to those ranks (``sequence``), joined to the ranked catalogue
  (broadcast: one row per item), the seen pairs removed by an anti-join, and a window keeps the
  first ``k``. Work: ``k`` x customers + training pairs rows.
- ALS: :meth:`pyspark.ml.recommendation.ALSModel.recommendForUserSubset` scores all items block
  by block and keeps the best ``n`` per customer. Customers with at most ``m`` seen items (``m``
  the 99th percentile of the seen counts) ask for ``k + m``; the few above it ask for ``k`` plus the
  largest seen count among them. After the anti-join each customer still has ``k`` items (or every
  item they lack), so the lists are exact, and the candidate rows stay bounded by
  ``(k + m)`` x customers plus the heavy 1%.
"""

from __future__ import annotations

import math

import numpy as np

from marketing.columns import COLD_START, CUSTOMER, ITEM, RANK, SCORE
from marketing.recommend.relational import N_CUSTOMERS, WEIGHT, popularity_table
from marketing.spark.data import require_frame
from marketing.validation import DataValidationError


def spark_models(random_state: int = 42) -> dict:
    """The models Spark runs: the popularity baseline and ALS with the in-memory ALS's defaults.

    User and item kNN and EASE need customer x customer or item x item similarities that Spark ML
    does not provide (declared in :mod:`marketing.capabilities`).
    """
    return {"popularity": PopularityRecommender(), "als": ALS(random_state=random_state)}


POPULARITY_RANK = "popularity_rank"
#: Customers whose seen count is at most this quantile share one candidate length (see the module docstring).
SEEN_QUANTILE = 0.99
#: Training pairs per ALS block when ``blocks`` is None (Spark's default of 10 blocks is for large data;
#: on small data each block is a task whose start-up dominates).
PAIRS_PER_BLOCK = 250_000
_INT_MAX = 2**31 - 1


class Recommender:
    """Base class: subclasses store their parameters in ``__init__`` and implement ``_fit`` and ``_top_k_warm``."""

    def fit(self, interactions, items=None) -> "Recommender":
        """Learn from the training pairs; return self.

        Parameters
        ----------
        interactions : pyspark.sql.DataFrame
            ``customer_id``, ``item_id``, ``weight``: one row per pair (:func:`build_interactions`).
        items : pyspark.sql.DataFrame, optional
            The catalogue (``item_id``), so that items nobody has yet can still be listed by
            popularity and count in coverage. Default: the items in ``interactions``.
        """
        from pyspark.sql import functions as F

        require_frame(interactions, "interactions", [CUSTOMER, ITEM, WEIGHT], pandas_module="marketing.recommend")
        if hasattr(self, "interactions_"):  # a refit: release what the last fit cached
            self.interactions_.unpersist()
            self.item_users_.unpersist()
        pairs = interactions.select(CUSTOMER, ITEM, F.col(WEIGHT).cast("double").alias(WEIGHT))
        # top k reads the pairs again (seen items): cache them unless the caller has
        pairs = pairs if interactions.is_cached else pairs.persist()
        row = pairs.agg(
            F.count(F.lit(1)).alias("pairs"), F.countDistinct(CUSTOMER).alias("users"),
            F.countDistinct(ITEM).alias("items"),
            *[F.min(c).alias(f"min_{c}") for c in (CUSTOMER, ITEM)],
            *[F.max(c).alias(f"max_{c}") for c in (CUSTOMER, ITEM)],
        ).first()
        if not row["pairs"]:
            raise ValueError("The interactions are empty: there is nothing to learn from.")
        from pyspark.sql import Window

        popular = popularity_table(pairs, items)
        # one row per item (the catalogue): Spark moves this small table to one partition
        order = Window.partitionBy(F.lit(0)).orderBy(F.col(N_CUSTOMERS).desc(), F.col(ITEM))
        self.item_users_ = popular.withColumn(POPULARITY_RANK, F.row_number().over(order)).persist()
        self.interactions_ = pairs
        self.n_pairs_ = int(row["pairs"])
        self.n_users_ = int(row["users"])
        self.n_items_ = self.item_users_.count() if items is not None else int(row["items"])
        self.n_items_trained_ = int(row["items"])
        self._id_range = {c: (row[f"min_{c}"], row[f"max_{c}"]) for c in (CUSTOMER, ITEM)}
        self._fit(pairs)
        return self

    # --- to implement -------------------------------------------------------------------------
    def _fit(self, pairs) -> None:
        raise NotImplementedError

    def _top_k_warm(self, users, k: int):
        """(customer_id, rank, item_id, score) for ``users`` with history (None: all), seen items excluded."""
        raise NotImplementedError

    # --- shared -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "interactions_"):
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(interactions) first.")

    def _check_k(self, k) -> int:
        if not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k={k!r}: it must be a positive integer.")
        if k > self.n_items_:
            raise ValueError(
                f"k={k} is larger than the catalogue ({self.n_items_} items): ask for at most "
                f"{self.n_items_} recommendations."
            )
        return int(k)

    def recommend(self, customers=None, k: int = 10):
        """Top ``k`` items for each customer, best first.

        Parameters
        ----------
        customers : pyspark.sql.DataFrame, optional
            The customers (a ``customer_id`` column; duplicates count once). Those without
            training history get the popularity list (``cold_start`` true). Default: every
            customer in the training pairs.
        k : int

        Returns
        -------
        pyspark.sql.DataFrame
            ``customer_id``, ``rank`` (1..k), ``item_id``, ``score`` (double), ``cold_start``;
            ``k`` rows per customer unless they already have nearly every item (not collected).
        """
        from pyspark.sql import functions as F

        self._check_fitted()
        k = self._check_k(k)
        columns = [CUSTOMER, RANK, ITEM, SCORE]
        if customers is None:
            return self._top_k_warm(None, k).select(*columns).withColumn(COLD_START, F.lit(False))
        require_frame(customers, "customers", [CUSTOMER], pandas_module="marketing.recommend")
        wanted = customers.select(CUSTOMER).distinct()
        known = self.interactions_.select(CUSTOMER).distinct()
        warm = wanted.join(known, on=CUSTOMER, how="left_semi")
        cold = wanted.join(known, on=CUSTOMER, how="left_anti")
        return (
            self._top_k_warm(warm, k).select(*columns).withColumn(COLD_START, F.lit(False))
            .unionByName(self._popular_list(cold, k).select(*columns).withColumn(COLD_START, F.lit(True)))
        )

    def _seen_counts(self, users):
        """(customer_id, _n_seen): training pairs per customer of ``users`` (None: every customer)."""
        from pyspark.sql import functions as F

        pairs = self.interactions_ if users is None else self.interactions_.join(users, on=CUSTOMER, how="left_semi")
        return pairs.groupBy(CUSTOMER).agg(F.count(F.lit(1)).alias("_n_seen"))

    def _popular_list(self, users, k: int):
        """The same top ``k`` popular items for each of ``users`` (nothing excluded)."""
        from pyspark.sql import functions as F

        top = self.item_users_.filter(F.col(POPULARITY_RANK) <= k).select(
            ITEM, F.col(POPULARITY_RANK).alias(RANK), F.col(N_CUSTOMERS).cast("double").alias(SCORE)
        )
        return users.crossJoin(F.broadcast(top))

    def _ranked(self, candidates, k: int):
        """Remove the seen pairs from (customer_id, item_id, score) candidates; keep the best ``k``."""
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        unseen = candidates.join(self.interactions_.select(CUSTOMER, ITEM), on=[CUSTOMER, ITEM], how="left_anti")
        unseen = unseen.join(F.broadcast(self.item_users_.select(ITEM, POPULARITY_RANK)), on=ITEM, how="left")
        order = Window.partitionBy(CUSTOMER).orderBy(F.col(SCORE).desc(), F.col(POPULARITY_RANK), F.col(ITEM))
        return unseen.withColumn(RANK, F.row_number().over(order)).filter(F.col(RANK) <= k)


class PopularityRecommender(Recommender):
    """Recommend the items most customers have (the baseline), minus what the customer has.

    The score is the number of training customers with the item, as on the pandas path.

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 2, 2, 3], "item_id": [10, 10, 20, 30]}))
    >>> rec = PopularityRecommender().fit(build_interactions(events)).recommend(k=2)
    >>> [tuple(r) for r in rec.filter("customer_id = 1").orderBy("rank").select("item_id", "score").collect()]
    [(20, 1.0), (30, 1.0)]
    """

    def _fit(self, pairs) -> None:
        pass

    def _top_k_warm(self, users, k: int):
        from pyspark.sql import functions as F

        seen = self._seen_counts(users)
        reach = F.least(F.lit(k) + F.col("_n_seen"), F.lit(self.n_items_))
        expanded = seen.select(CUSTOMER, F.explode(F.sequence(F.lit(1), reach.cast("int"))).alias(POPULARITY_RANK))
        catalogue = self.item_users_.select(ITEM, POPULARITY_RANK, F.col(N_CUSTOMERS).cast("double").alias(SCORE))
        candidates = expanded.join(F.broadcast(catalogue), on=POPULARITY_RANK).drop(POPULARITY_RANK)
        return self._ranked(candidates, k)


class ALS(Recommender):
    """Matrix factorisation for implicit feedback with Spark ML's ALS, parameterised like the pandas path's ALS.

    The parameters are those of :class:`marketing.recommend.ALS` (the ``implicit`` library), mapped
    to ``pyspark.ml.recommendation.ALS(implicitPrefs=True)``:

    - ``rank = factors``, ``maxIter = iterations``, ``seed = random_state``.
    - ``alpha``: ``implicit`` weighs an observed pair by the confidence ``alpha * x`` (0.7 API),
      Spark by ``1 + alpha' * x``; for the binary pairs the evaluation fits on (x = 1) they are
      equal when ``alpha' = alpha - 1``, so ``alpha`` must be at least 1.
    - ``regularization``: ``implicit`` adds ``lambda`` to every customer's and every item's normal
      equations; Spark adds ``regParam * n`` (``n``: the customer's or the item's number of pairs,
      ALS-WR). Scaling customer factors by ``c`` and item factors by ``1 / c`` leaves the fit
      unchanged, so what matters is the geometric mean of the two sides' penalties:
      ``sqrt(lambda * lambda) = regParam * sqrt(mean_u * mean_i)``, with ``mean_u`` and ``mean_i``
      the mean pairs per customer and per item. Hence ``regParam = lambda / sqrt(mean_u * mean_i)``
      (``reg_param_`` after fitting). Measured on the four synthetic cases (five seeds), the Spark
      ALS's NDCG@10 is within 0.025 of the pandas ALS's, where ``lambda / mean_u`` loses up to 0.3
      and ``lambda / mean_i`` up to 0.11 (tests/test_spark_recommend.py has the figures).

    The two fits still differ in the solver (``implicit``: a few conjugate-gradient steps; Spark:
    an exact Cholesky solve) and in the initial factors, so they agree on quality, not on factors.
    The mapping of ``alpha`` is exact for binary weights only (what
    :func:`marketing.recommend.compare_models` fits on); items nobody has in training get no
    factors in Spark and are never recommended by ALS (the pandas ALS scores them 0).

    Parameters
    ----------
    factors, regularization, alpha, iterations, random_state
        As in :class:`marketing.recommend.ALS`.
    reg_param : float, optional
        Spark's ``regParam`` as it is, instead of the mapping above.
    blocks : int, optional
        Spark ALS user and item blocks. Default: one per 250,000 training pairs, 1 to 10. The
        blocks seed the initial factors, so the same data, seed and blocks give the same model.

    Attributes
    ----------
    model_ : pyspark.ml.recommendation.ALSModel
    reg_param_ : float
        The ``regParam`` used.

    Examples
    --------
    >>> import pandas as pd
    >>> from marketing.recommend import build_interactions
    >>> events = spark.createDataFrame(pd.DataFrame({"customer_id": [1, 1, 2, 2, 3], "item_id": [10, 20, 10, 20, 10]}))
    >>> model = ALS(factors=2, random_state=0).fit(build_interactions(events))
    >>> model.recommend(k=1).filter("customer_id = 3").select("item_id").first()[0]
    20
    """

    def __init__(
        self,
        factors: int = 16,
        regularization: float = 10.0,
        alpha: float = 1.0,
        iterations: int = 15,
        random_state: int = 42,
        reg_param: float | None = None,
        blocks: int | None = None,
    ):
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state
        self.reg_param = reg_param
        self.blocks = blocks

    def _fit(self, pairs) -> None:
        from pyspark.ml.recommendation import ALS as SparkALS

        if self.alpha < 1:
            raise ValueError(
                f"alpha={self.alpha}: Spark's confidence is 1 + alpha' x, at least 1, so the implicit-library "
                "alpha (confidence alpha * x) must be at least 1."
            )
        if self.factors < 1 or self.iterations < 1:
            raise ValueError(f"factors={self.factors}, iterations={self.iterations}: both must be at least 1.")
        if self.regularization < 0 or (self.reg_param is not None and self.reg_param < 0):
            raise ValueError("the regularisation must not be negative.")
        mean_user = self.n_pairs_ / self.n_users_
        mean_item = self.n_pairs_ / self.n_items_trained_
        mapped = self.regularization / math.sqrt(mean_user * mean_item)
        self.reg_param_ = float(self.reg_param) if self.reg_param is not None else mapped
        blocks = self.blocks or int(min(10, max(1, math.ceil(self.n_pairs_ / PAIRS_PER_BLOCK))))
        self._check_ids(pairs)
        estimator = SparkALS(
            rank=self.factors, maxIter=self.iterations, regParam=self.reg_param_, alpha=float(self.alpha) - 1.0,
            implicitPrefs=True, seed=int(self.random_state), numUserBlocks=blocks, numItemBlocks=blocks,
            userCol=CUSTOMER, itemCol=ITEM, ratingCol=WEIGHT, coldStartStrategy="drop",
        )
        self.model_ = estimator.fit(pairs)
        self.blocks_ = blocks

    def _check_ids(self, pairs) -> None:
        """Spark ML's ALS takes integer ids that fit in 32 bits."""
        from pyspark.sql.types import IntegralType

        for column in (CUSTOMER, ITEM):
            low, high = self._id_range[column]
            if not isinstance(pairs.schema[column].dataType, IntegralType):
                raise DataValidationError(
                    f"interactions: column '{column}' is {pairs.schema[column].dataType.simpleString()}; Spark ML's "
                    "ALS needs integer ids. Map the ids to integers (e.g. pyspark.ml.feature.StringIndexer) first."
                )
            if low < -_INT_MAX - 1 or high > _INT_MAX:
                raise DataValidationError(
                    f"interactions: column '{column}' has ids from {low} to {high}; Spark ML's ALS needs ids that "
                    "fit in 32 bits. Renumber them first (e.g. dense_rank over the ids)."
                )

    def _top_k_warm(self, users, k: int):
        from pyspark.sql import functions as F

        seen = self._seen_counts(users).persist()
        row = seen.agg(
            F.percentile_approx("_n_seen", SEEN_QUANTILE).alias("typical"), F.max("_n_seen").alias("most")
        ).first()
        typical, most = row["typical"] or 0, row["most"] or 0
        # (customers, the most items one of them has): the many typical ones, then the heavy few
        groups = [(F.col("_n_seen") <= typical, typical)]
        if most > typical:
            groups.append((F.col("_n_seen") > typical, most))
        lists = [
            self.model_.recommendForUserSubset(
                seen.filter(members).select(CUSTOMER), int(min(self.n_items_trained_, k + longest))
            )
            for members, longest in groups
        ]
        found = lists[0] if len(lists) == 1 else lists[0].unionByName(lists[1])
        # Spark ML returns 32-bit ids: back to the types of the pairs, for the joins and the union
        types = {c: self.interactions_.schema[c].dataType for c in (CUSTOMER, ITEM)}
        candidates = found.select(
            F.col(CUSTOMER).cast(types[CUSTOMER]).alias(CUSTOMER), F.explode("recommendations").alias("_r")
        ).select(
            CUSTOMER, F.col(f"_r.{ITEM}").cast(types[ITEM]).alias(ITEM), F.col("_r.rating").cast("double").alias(SCORE)
        )
        return self._ranked(candidates, k)
