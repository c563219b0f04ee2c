"""The interaction matrix: weightings, id maps and errors on bad input."""

import numpy as np
import pandas as pd
import pytest

from marketing.recommend import build_interactions
from marketing.validation import DataValidationError

EVENTS = pd.DataFrame(
    {"customer_id": [30, 10, 10, 10, 20], "item_id": [2, 1, 1, 3, 3], "rating": [4, 5, 3, 2, 1]}
)


@pytest.mark.parametrize(
    "weighting, expected",
    [
        ("binary", [[1, 0, 1], [0, 0, 1], [0, 1, 0]]),
        ("count", [[2, 0, 1], [0, 0, 1], [0, 1, 0]]),
        ("log", [[1 + np.log(2), 0, 1], [0, 0, 1], [0, 1, 0]]),
        ("rating", [[4, 0, 2], [0, 0, 1], [0, 4, 0]]),
    ],
)
def test_weightings(weighting, expected):
    X = build_interactions(EVENTS, weighting=weighting)
    np.testing.assert_allclose(X.matrix.toarray(), expected, rtol=1e-6)
    assert X.user_ids.tolist() == [10, 20, 30] and X.item_ids.tolist() == [1, 2, 3]


def test_id_maps_both_ways_and_catalogue():
    X = build_interactions(EVENTS, items=[1, 2, 3, 4], users=[10, 20, 30, 40])
    assert X.matrix.shape == (4, 4)
    assert X.user_positions([30, 99]).tolist() == [2, -1]
    assert X.item_positions([4, 1]).tolist() == [3, 0]
    assert X.item_users().tolist() == [1, 1, 2, 0]
    summary = X.summary()
    assert summary["pairs"] == 4 and summary["density"] == pytest.approx(4 / 16)


def test_column_overrides():
    events = EVENTS.rename(columns={"customer_id": "learner", "item_id": "course"})
    X = build_interactions(events, col_customer="learner", col_item="course")
    assert X.matrix.nnz == 4


def test_empty_log_is_refused():
    with pytest.raises(DataValidationError, match="empty"):
        build_interactions(EVENTS.iloc[:0])


def test_missing_columns_and_values():
    with pytest.raises(DataValidationError, match="item_id"):
        build_interactions(EVENTS.drop(columns="item_id"))
    with pytest.raises(DataValidationError, match="rating"):
        build_interactions(EVENTS.drop(columns="rating"), weighting="rating")
    broken = EVENTS.astype({"item_id": float})
    broken.loc[0, "item_id"] = np.nan
    with pytest.raises(DataValidationError, match="missing"):
        build_interactions(broken)


def test_ids_outside_catalogue_are_named_by_row_not_by_value():
    # row numbers, never the ids themselves (an id may be personal and messages end in records)
    with pytest.raises(DataValidationError, match=r"not in the items table \(rows \[3, 4\], counting from 0\)") as error:
        build_interactions(EVENTS, items=[1, 2])
    assert "[3]" not in str(error.value)


def test_unknown_weighting():
    with pytest.raises(ValueError, match="weighting"):
        build_interactions(EVENTS, weighting="tfidf")
