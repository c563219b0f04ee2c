"""Splits: what goes to test, what is left out and counted, seeded reproducibility."""

import pandas as pd
import pytest

from marketing.recommend import leave_last_n_out, make_split, random_split, split_by_time
from marketing.validation import DataValidationError

EVENTS = pd.DataFrame(
    {
        "customer_id": [1, 1, 1, 1, 2, 2, 3, 4],
        "item_id": [10, 11, 12, 10, 10, 13, 11, 12],
        "timestamp": pd.to_datetime(
            ["2025-01-01", "2025-01-05", "2025-02-10", "2025-02-12", "2025-01-03", "2025-02-15", "2025-01-20", "2025-02-20"]
        ),
        "rating": [5, 4, 3, 1, 2, 5, 4, 3],
    }
)


def pairs(df):
    return sorted(map(tuple, df[["customer_id", "item_id"]].to_numpy().tolist()))


def test_time_split_by_hand():
    s = split_by_time(EVENTS, "2025-02-01")
    # after the cut: (1,12) new, (1,10) a repeat, (2,13) new, (4,12) new from a customer never seen
    assert pairs(s.test) == [(1, 12), (2, 13), (4, 12)]
    assert s.details["repeat_pairs_left_out"] == 1
    assert s.details["cold_start_customers"] == 1
    # items 12 and 13 first appear after the cut: all three test pairs name an unseen item
    assert s.details["test_pairs_item_unseen_in_train"] == 3
    assert (s.train["timestamp"] < "2025-02-01").all() and len(s.train) == 4
    assert s.test.set_index(["customer_id", "item_id"]).loc[(2, 13), "rating"] == 5


def test_time_split_cutoff_outside_the_log():
    with pytest.raises(DataValidationError, match="cut-off inside that range"):
        split_by_time(EVENTS, "2024-01-01")


def test_leave_last_n_out_by_hand():
    s = leave_last_n_out(EVENTS, n=1)
    # last distinct item (by first interaction): customer 1 -> 12, customer 2 -> 13;
    # customers 3 and 4 have one item only and stay in training
    assert pairs(s.test) == [(1, 12), (2, 13)]
    assert s.details["customers_too_short"] == 2
    assert not set(pairs(s.test)) & set(pairs(s.train))


def test_random_split_is_seeded_and_holds_out_a_share():
    a = random_split(EVENTS, test_size=0.5, random_state=7)
    b = random_split(EVENTS, test_size=0.5, random_state=7)
    assert pairs(a.test) == pairs(b.test)
    # customer 1 has 3 distinct items -> round(1.5) = 2 held out; customer 2 has 2 -> 1; 3 and 4 none
    counts = a.test.groupby("customer_id").size().to_dict()
    assert counts == {1: 2, 2: 1}
    assert not set(pairs(a.test)) & set(pairs(a.train))
    seeds = {tuple(pairs(random_split(EVENTS, 0.5, random_state=s).test)) for s in range(10)}
    assert len(seeds) > 1


def test_make_split_dispatch_and_errors():
    assert make_split(EVENTS, "time", observation_end="2025-03-01", test_days=30).details["cutoff"].startswith("2025-01-30")
    with pytest.raises(ValueError, match="split="):
        make_split(EVENTS, "kfold")
    with pytest.raises(ValueError, match="test_size"):
        random_split(EVENTS, test_size=1.5)
    with pytest.raises(ValueError, match="at least one"):
        leave_last_n_out(EVENTS, n=0)
    with pytest.raises(DataValidationError, match="empty"):
        split_by_time(EVENTS.iloc[:0], "2025-02-01")


@pytest.mark.parametrize("method", ["time", "leave_last", "random"])
def test_every_split_ends_at_the_observation_end(method):
    # the events from the observation end on are the other analyses' label window
    events = pd.DataFrame({"customer_id": [1, 1, 1, 2, 2, 2], "item_id": [5, 6, 7, 5, 6, 8],
                           "timestamp": pd.to_datetime(["2025-01-01", "2025-02-20", "2025-03-05",
                                                        "2025-01-10", "2025-02-25", "2025-03-02"])})
    split = make_split(events, method, observation_end="2025-03-01", test_days=30, random_state=1)
    seen = pd.concat([split.train[["customer_id", "item_id"]], split.test[["customer_id", "item_id"]]])
    assert not (seen["item_id"].isin([7, 8])).any()
    assert split.details["train_events"] + split.details["test_pairs"] == 4
