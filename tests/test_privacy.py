"""Privacy: keyed pseudonyms with the key outside the repository, small-cell suppression, CRM names."""

import hashlib
import hmac
import os
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from marketing.privacy import (
    KEY_ENV,
    KEY_FILE_ENV,
    crm_export_path,
    pseudonym_key,
    pseudonymize,
    report_ids,
    suppress_small_cells,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A fresh HOME with no key in the environment."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(KEY_FILE_ENV, raising=False)
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def test_pseudonym_is_the_truncated_hmac():
    expected = "c_" + hmac.new(b"secret", b"12345", hashlib.sha256).hexdigest()[:12]
    assert pseudonymize([12345], key="secret").tolist() == [expected]


def test_same_id_same_key_same_pseudonym():
    ids = pd.Series([3, 1, 3, 2], index=[10, 11, 12, 13], name="customer_id")
    first = pseudonymize(ids, key="k")
    assert first.equals(pseudonymize(ids, key="k"))
    assert first[10] == first[12] and first.nunique() == 3
    assert list(first.index) == [10, 11, 12, 13] and first.name == "customer_id"
    assert first.str.match(r"^c_[0-9a-f]{12}$").all()


def test_different_key_different_pseudonyms():
    ids = list(range(100))
    a, b = pseudonymize(ids, key="key one"), pseudonymize(ids, key="key two")
    assert not set(a) & set(b)


def test_ids_hashed_by_text_and_missing_kept():
    out = pseudonymize(pd.Series([5.0, np.nan, 7.0]), key="k")
    assert out[0] == pseudonymize(["5"], key="k")[0]
    assert out[2] == pseudonymize([7], key="k")[0]
    assert pd.isna(out[1])


def test_collision_raises_instead_of_merging_customers():
    # 2^32 pseudonyms of 8 hex digits: 200,000 ids collide with probability above 99%
    # (fixed key, so this is deterministic)
    with pytest.raises(ValueError, match="same 8-digit pseudonym.*larger length"):
        pseudonymize(np.arange(200_000), key="k", length=8)


def test_length_validated():
    with pytest.raises(ValueError, match="length must be"):
        pseudonymize([1], key="k", length=4)


def test_key_from_environment(home, monkeypatch):
    monkeypatch.setenv(KEY_ENV, "from the environment")
    assert pseudonymize([1], key=None).equals(pseudonymize([1], key="from the environment"))
    assert not (home / ".config").exists()


def test_key_file_created_outside_repo_with_owner_only_permissions(home):
    first = pseudonymize([1, 2, 3])
    path = home / ".config" / "marketing" / "pseudonym.key"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert len(path.read_text().strip()) == 64  # 256 random bits in hex
    assert not path.resolve().is_relative_to(REPO)
    # the key persists: the next run gives the same pseudonyms
    assert pseudonymize([1, 2, 3]).equals(first)
    assert first.tolist() == pseudonymize([1, 2, 3], key=path.read_bytes().strip()).tolist()


def test_new_key_new_pseudonyms(home):
    first = pseudonymize([1])
    (home / ".config" / "marketing" / "pseudonym.key").unlink()
    assert pseudonymize([1])[0] != first[0]


@pytest.mark.parametrize("inside", ["package repo", "other git repo"])
def test_key_file_inside_a_repository_refused(home, tmp_path, monkeypatch, inside):
    if inside == "package repo":
        target = REPO / "pseudonym-test.key"
    else:
        (tmp_path / "project" / ".git").mkdir(parents=True)
        target = tmp_path / "project" / "keys" / "pseudonym.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(target))
    with pytest.raises(ValueError, match="inside the repository.*outside"):
        pseudonym_key()
    assert not target.exists() and not target.parent.joinpath("pseudonym.key").exists()


def test_home_inside_the_repository_refused(home, monkeypatch):
    monkeypatch.setenv("HOME", str(REPO))
    with pytest.raises(ValueError, match="inside the repository"):
        pseudonymize([1])
    assert not (REPO / ".config").exists()


def test_loose_key_file_permissions_warn(home):
    pseudonym_key()
    path = home / ".config" / "marketing" / "pseudonym.key"
    os.chmod(path, 0o644)
    with pytest.warns(UserWarning, match="chmod 600"):
        pseudonym_key()


def test_empty_key_refused(monkeypatch):
    with pytest.raises(ValueError, match="empty"):
        pseudonym_key(b"  ")


@pytest.fixture
def profile():
    return pd.DataFrame(
        {
            "segment": ["loyal", "rare", "edge", "just under", "empty"],
            "n_customers": [120, 4, 10, 9, 0],
            "mean_spend": [81.5, 310.0, 55.0, 42.0, np.nan],
            "churn_share": [0.1, 0.5, 0.2, 0.3, np.nan],
        }
    )


def test_profile_rows_below_minimum_blanked(profile):
    result = suppress_small_cells(profile, "n_customers")
    # rows "rare" (4) and "just under" (9): size and both statistics; 10 and 0 are kept
    assert result.cells_suppressed == 6 and result.rows_affected == 2 and result.min_size == 10
    table = result.table
    assert table.loc[[1, 3], ["n_customers", "mean_spend", "churn_share"]].isna().all().all()
    assert table.loc[[0, 2, 4], "n_customers"].tolist() == [120, 10, 0]
    assert table["segment"].tolist() == profile["segment"].tolist()
    assert profile.loc[1, "n_customers"] == 4  # the input is untouched
    assert "6 cell(s) in 2 row(s)" in result.note()


def test_profile_marked_and_configurable_minimum(profile):
    result = suppress_small_cells(profile, "n_customers", min_size=5, mark=True)
    assert result.cells_suppressed == 3
    assert result.table.loc[1, ["n_customers", "mean_spend", "churn_share"]].tolist() == ["<5"] * 3
    assert result.table.loc[3, "n_customers"] == 9


def test_profile_only_named_columns(profile):
    result = suppress_small_cells(profile, "n_customers", columns=["mean_spend"])
    assert result.cells_suppressed == 4  # two rows x (size + mean_spend)
    assert result.table.loc[1, "churn_share"] == 0.5


def test_crosstab_counts_suppressed_cell_by_cell():
    crosstab = pd.DataFrame({"north": [25, 3, 0], "south": [12, 40, 9]}, index=["a", "b", "c"])
    result = suppress_small_cells(crosstab)
    assert result.cells_suppressed == 2 and result.rows_affected == 2
    assert result.table.isna().to_numpy().tolist() == [[False, False], [True, False], [False, True]]


def test_crosstab_with_published_totals_hides_what_would_give_a_small_count_away():
    # by hand: the 3 is small, and its row's total would give it away: the row's smallest other
    # count goes, the 40 (hiding the 0 would tell nothing). Then the north and the south column
    # each hide one cell, which their totals would give away: the 25 and the 12 go too.
    crosstab = pd.DataFrame({"north": [25, 3], "south": [12, 40], "east": [30, 0]}, index=["loyal", "rare"])
    result = suppress_small_cells(crosstab, protect_totals=True)
    assert result.table.isna().to_numpy().tolist() == [[True, True, False], [True, True, False]]
    assert result.cells_suppressed == 4 and result.protected == 3 and result.rows_affected == 2
    assert "1 describe(s) fewer than 10 people, 3 more would reveal them through the totals" in result.note()
    assert suppress_small_cells(crosstab).cells_suppressed == 1  # primary suppression only, by default
    with pytest.raises(ValueError, match="protect_totals applies to a counts table"):
        suppress_small_cells(crosstab, "north", protect_totals=True)


def test_labels_that_describe_a_small_group_are_blanked_too():
    # a name derived from the group's profile ("lapsed big spenders") describes its few members
    summary = pd.DataFrame({"size": [120, 4], "name": ["loyal", "lapsed big spenders"]})
    result = suppress_small_cells(summary, "size")
    assert result.table["name"].isna().tolist() == [False, True] and result.table.loc[0, "name"] == "loyal"
    assert suppress_small_cells(summary, "size", mark=True).table["name"].tolist() == ["loyal", "<10"]


def test_nothing_to_suppress_is_said():
    result = suppress_small_cells(pd.DataFrame({"n": [50, 60]}), "n")
    assert result.cells_suppressed == 0
    assert result.note().startswith("No group is smaller than 10")


def test_suppression_bad_input(profile):
    with pytest.raises(ValueError, match="min_size"):
        suppress_small_cells(profile, "n_customers", min_size=0)
    with pytest.raises(ValueError, match=r"\['size'\] not in the table"):
        suppress_small_cells(profile, "size")
    with pytest.raises(ValueError, match="count column 'segment' must hold numbers"):
        suppress_small_cells(profile, "segment")


def test_report_ids_replaces_customer_id_and_personal_columns():
    frame = pd.DataFrame({"customer_id": [7, 9], "member_id": ["M1", "M2"], "spend": [1.0, 2.0]})
    out = report_ids(frame, "health", key="k")  # health marks member_id personal
    assert out["customer_id"].tolist() == pseudonymize([7, 9], key="k").tolist()
    assert out["member_id"].tolist() == pseudonymize(["M1", "M2"], key="k", prefix="p_").tolist()
    assert out["spend"].tolist() == [1.0, 2.0]
    assert frame["customer_id"].tolist() == [7, 9]
    # a case without personal columns still hides the customer id, and leaves the rest
    out = report_ids(frame, "ecommerce", key="k")
    assert out["member_id"].tolist() == ["M1", "M2"] and out["customer_id"].str.startswith("c_").all()


def test_report_ids_replaces_the_index():
    frame = pd.DataFrame({"recency_days": [3, 40]}, index=pd.Index([7, 9], name="customer_id"))
    out = report_ids(frame, "ecommerce", key="k")
    assert out.index.name == "customer_id"
    assert list(out.index) == pseudonymize([7, 9], key="k").tolist()


def test_crm_export_name_says_real_ids():
    assert crm_export_path("out", "segment_audience") == Path("out/segment_audience_crm_real_ids.csv")
    assert crm_export_path("out", "segment_audience_crm_real_ids").name == "segment_audience_crm_real_ids.csv"
    assert crm_export_path(Path("x"), "contacts", ".parquet").name == "contacts_crm_real_ids.parquet"
    with pytest.raises(ValueError, match="plain file-name stem"):
        crm_export_path("out", "../escape")


def test_a_pandas_export_replaces_the_spark_engines_folder_of_the_same_name(tmp_path):
    from marketing.privacy import crm_export_path, write_crm_export

    left_by_spark = crm_export_path(tmp_path, "segment_audience")
    left_by_spark.mkdir()
    (left_by_spark / "part-00000.csv").write_text("customer_id\n1\n")
    path = write_crm_export(pd.DataFrame({"customer_id": [7]}), tmp_path, "segment_audience")
    assert path.is_file() and path.read_text().splitlines() == ["customer_id", "7"]


# ------------------------------------------------------------------ messages never quote ids


def test_duplicate_ids_are_pointed_at_by_row_number_not_by_value():
    from marketing.validation import DataValidationError, require_unique

    people = pd.DataFrame({"customer_id": ["ann@example.org", "bo@example.org", "ann@example.org",
                                           "cy@example.org", "cy@example.org", "cy@example.org"]})
    with pytest.raises(DataValidationError) as error:
        require_unique(people, "customer_id", "customers", "crm.csv")
    message = str(error.value)
    assert "@example.org" not in message
    assert "3 id(s) repeat, e.g. rows 0 and 2 hold the same id; so do rows 3, 4 and 5" in message
    assert "table 'customers' (from crm.csv): column 'customer_id'" in message


def test_missing_ids_repeat_as_one_id():
    from marketing.validation import DataValidationError, require_unique

    with pytest.raises(DataValidationError, match=r"1 id\(s\) repeat, e.g. rows 1 and 3 hold the same id"):
        require_unique(pd.DataFrame({"id": [1.0, np.nan, 2.0, np.nan]}), "id", "customers")


def test_truth_without_a_customer_names_its_row_not_its_id():
    from marketing.segmentation import truth_agreement
    from marketing.validation import DataValidationError

    labels = pd.Series([0, 1, 1], index=["ann@example.org", "bo@example.org", "cy@example.org"])
    truth = pd.Series(["a", "b"], index=["ann@example.org", "cy@example.org"])
    with pytest.raises(DataValidationError) as error:
        truth_agreement(labels, truth)
    assert "truth has no segment for 1 customer(s), e.g. the labels' rows [1]" in str(error.value)
    assert "@example.org" not in str(error.value)


# ------------------------------------------------------------------ exports: atomic, and staged in a report build


def _no_temporaries(folder: Path) -> bool:
    return not [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_an_export_that_fails_half_way_leaves_the_last_one_whole(tmp_path, monkeypatch):
    from marketing.privacy import write_crm_export

    good = write_crm_export(pd.DataFrame({"customer_id": [7, 8]}), tmp_path, "audience")

    def disk_full(self, path, **kwargs):
        Path(path).write_text("customer_id\n")  # half the file, then the disk is full
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_crm_export(pd.DataFrame({"customer_id": [9]}), tmp_path, "audience")
    assert good.read_text().splitlines() == ["customer_id", "7", "8"]
    assert _no_temporaries(tmp_path)


def test_a_staged_export_waits_for_the_commit_and_a_failed_run_drops_it(tmp_path, monkeypatch):
    from marketing.exports import STAGING_ENV, ExportStaging
    from marketing.privacy import write_crm_export

    monkeypatch.delenv(STAGING_ENV, raising=False)
    last_good = write_crm_export(pd.DataFrame({"customer_id": [1]}), tmp_path, "audience")
    with ExportStaging(tmp_path / ".staging"):  # a run that fails: never committed
        assert os.environ[STAGING_ENV] == str((tmp_path / ".staging").resolve())
        write_crm_export(pd.DataFrame({"customer_id": [2]}), tmp_path, "audience")
        assert last_good.read_text().splitlines() == ["customer_id", "1"]
    assert last_good.read_text().splitlines() == ["customer_id", "1"]
    assert _no_temporaries(tmp_path) and STAGING_ENV not in os.environ
    with ExportStaging(tmp_path / ".staging") as staging:  # a run that succeeds, writing twice
        write_crm_export(pd.DataFrame({"customer_id": [3]}), tmp_path, "audience")
        write_crm_export(pd.DataFrame({"customer_id": [4]}), tmp_path / "crm", "audience")
        write_crm_export(pd.DataFrame({"customer_id": [5]}), tmp_path, "audience")
        assert staging.commit() == [last_good.resolve(), (tmp_path / "crm" / last_good.name).resolve(), last_good.resolve()]
    assert last_good.read_text().splitlines() == ["customer_id", "5"]
    assert (tmp_path / "crm" / last_good.name).read_text().splitlines() == ["customer_id", "4"]
    assert _no_temporaries(tmp_path) and _no_temporaries(tmp_path / "crm")


def test_a_folder_export_replaces_a_file_and_a_folder(tmp_path):
    # Spark writes a folder of part files under the temporary name; it is renamed as a whole
    from marketing.exports import put_in_place, temporary_path

    target = tmp_path / "audience_crm_real_ids.csv"
    target.write_text("customer_id\n1\n")
    for run in ("a", "b"):
        written = temporary_path(target)
        written.mkdir()
        (written / f"part-{run}.csv").write_text("customer_id\n2\n")
        put_in_place(written, target)
        assert [p.name for p in target.iterdir()] == [f"part-{run}.csv"]
    written = temporary_path(target)
    written.write_text("customer_id\n3\n")
    put_in_place(written, target)
    assert target.read_text() == "customer_id\n3\n" and _no_temporaries(tmp_path)
