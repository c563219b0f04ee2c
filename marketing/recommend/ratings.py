"""Rating prediction for explicit feedback: the global mean and the bias baseline."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketing.columns import CUSTOMER, ITEM, RATING
from marketing.recommend.metrics import mae, rmse
from marketing.validation import require_columns, require_non_empty


class GlobalMean:
    """The naive rating predictor: the mean training rating for every pair."""

    def __init__(self, col_customer: str = CUSTOMER, col_item: str = ITEM, col_rating: str = RATING):
        self.col_customer = col_customer
        self.col_item = col_item
        self.col_rating = col_rating

    def fit(self, ratings: pd.DataFrame) -> "GlobalMean":
        require_non_empty(ratings, "ratings")
        require_columns(ratings, [self.col_rating], "ratings")
        self.mean_ = float(ratings[self.col_rating].mean())
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        return np.full(len(pairs), self.mean_)


class BiasBaseline:
    """Rating = global mean + customer bias + item bias, ``r_ui ~ mu + b_u + b_i``.

    Biases minimise the regularised squared error, fitted by alternating exact updates
    ``b_i = sum_u (r_ui - mu - b_u) / (reg_item + n_i)`` and
    ``b_u = sum_i (r_ui - mu - b_i) / (reg_user + n_u)``. Unknown customers or items get bias 0;
    predictions are clipped to ``rating_scale``.

    Examples
    --------
    >>> r = pd.DataFrame({"customer_id": [1, 1, 2, 2], "item_id": [1, 2, 1, 2], "rating": [5, 3, 4, 2]})
    >>> model = BiasBaseline(reg_user=0, reg_item=0, n_iter=20).fit(r)
    >>> model.predict(pd.DataFrame({"customer_id": [1, 3], "item_id": [1, 1]})).round(2).tolist()
    [5.0, 4.5]
    """

    def __init__(
        self,
        reg_user: float = 5.0,
        reg_item: float = 5.0,
        n_iter: int = 10,
        rating_scale: tuple[float, float] | None = None,
        col_customer: str = CUSTOMER,
        col_item: str = ITEM,
        col_rating: str = RATING,
    ):
        self.reg_user = reg_user
        self.reg_item = reg_item
        self.n_iter = n_iter
        self.rating_scale = rating_scale
        self.col_customer = col_customer
        self.col_item = col_item
        self.col_rating = col_rating

    def fit(self, ratings: pd.DataFrame) -> "BiasBaseline":
        require_non_empty(ratings, "ratings")
        require_columns(ratings, [self.col_customer, self.col_item, self.col_rating], "ratings")
        users, u = np.unique(ratings[self.col_customer].to_numpy(), return_inverse=True)
        items, i = np.unique(ratings[self.col_item].to_numpy(), return_inverse=True)
        r = ratings[self.col_rating].to_numpy(dtype=float)
        self.mean_ = float(r.mean())
        b_u, b_i = np.zeros(len(users)), np.zeros(len(items))
        n_u, n_i = np.bincount(u, minlength=len(users)), np.bincount(i, minlength=len(items))
        for _ in range(self.n_iter):
            b_i = np.bincount(i, r - self.mean_ - b_u[u], minlength=len(items)) / (self.reg_item + n_i)
            b_u = np.bincount(u, r - self.mean_ - b_i[i], minlength=len(users)) / (self.reg_user + n_u)
        self.user_bias_ = pd.Series(b_u, index=users)
        self.item_bias_ = pd.Series(b_i, index=items)
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        b_u = self.user_bias_.reindex(pairs[self.col_customer].to_numpy()).fillna(0.0).to_numpy()
        b_i = self.item_bias_.reindex(pairs[self.col_item].to_numpy()).fillna(0.0).to_numpy()
        pred = self.mean_ + b_u + b_i
        if self.rating_scale is not None:
            pred = np.clip(pred, *self.rating_scale)
        return pred


def evaluate_ratings(train: pd.DataFrame, test: pd.DataFrame, rating_scale=None, col_rating: str = RATING) -> pd.DataFrame:
    """RMSE and MAE of the global mean and the bias baseline on ``test`` (fitted on ``train``).

    Returns a table indexed by model (``global_mean``, ``bias_baseline``) with columns rmse, mae.
    """
    require_columns(test, [col_rating], "test")
    require_non_empty(test, "test")
    rows = {}
    for name, model in {"global_mean": GlobalMean(), "bias_baseline": BiasBaseline(rating_scale=rating_scale)}.items():
        pred = model.fit(train).predict(test)
        rows[name] = {"rmse": rmse(test[col_rating], pred), "mae": mae(test[col_rating], pred)}
    return pd.DataFrame(rows).T.rename_axis("model")
