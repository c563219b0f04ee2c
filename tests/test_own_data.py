"""Analysts' own data: a case file pointing at CSV / Parquet / Excel files, and the shipped example."""

import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from marketing.cases import CaseConfigError, get_case
from marketing.datasets.files import EXAMPLE_CASE, files_spec, load_own_data, read_case_files
from marketing.features import customer_table
from marketing.privacy import pseudonymize, report_ids
from marketing.regression.problem import regression_problem
from marketing.validation import DataValidationError

EXAMPLE = EXAMPLE_CASE.parent


@pytest.fixture(scope="module")
def shop():
    return load_own_data(EXAMPLE_CASE)


@pytest.fixture
def folder(tmp_path):
    """A private copy of the example, to break in each test."""
    target = tmp_path / "shop"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("*.py", "*.md"))
    return target


def edit_case(folder: Path, **changes) -> Path:
    """Rewrite the copied case file with top-level keys changed (None deletes a key)."""
    path = folder / "case.yml"
    raw = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is None:
            raw.pop(key, None)
        else:
            raw[key] = value
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return path


def files_of(folder: Path) -> dict:
    return yaml.safe_load((folder / "case.yml").read_text())["files"]


# --- the shipped example ---------------------------------------------------------------------


def test_example_is_a_files_case():
    case = get_case(str(EXAMPLE_CASE))
    assert case.source == "files" and case.name == "shop"
    assert set(case.analyses) == {"segmentation", "recommendation", "regression"}
    assert "Email" in case.personal_columns


def test_example_canonical_tables(shop):
    assert list(shop.events.columns) == ["order_id", "customer_id", "item_id", "timestamp", "quantity", "amount"]
    assert shop.events["customer_id"].dtype == "int64" and shop.events["item_id"].dtype == "int64"
    assert shop.observation_end == pd.Timestamp("2026-01-01")  # set in the case file
    assert shop.events["timestamp"].max() < shop.observation_end
    assert shop.truth is None and shop.source == "files:shop/case.yml"
    # entity columns mapped to roles: signup_date (a parsed date) and the item fields
    assert shop.customers["signup_date"].dtype == "datetime64[ns]"
    assert {"name", "category", "price"} <= set(shop.items.columns)
    assert len(shop.customers) == 300


def test_example_cleaning_counts_match_the_raw_file(shop):
    raw = pd.read_csv(EXAMPLE / "transactions.csv")
    products = pd.read_csv(EXAMPLE / "products.csv")
    no_customer = raw["CustomerID"].isna()
    returns = ~no_customer & ((raw["Quantity"] < 0) | (raw["Revenue"] < 0))
    not_product = ~no_customer & ~returns & ~raw["StockCode"].isin(products["StockCode"])
    removed = shop.cleaning.to_frame().set_index("reason")["rows_removed"]
    assert removed["missing customer id"] == no_customer.sum() == 6
    assert removed["returns or cancellations (negative quantity or amount)"] == returns.sum() > 100
    assert removed["item not in the items table"] == not_product.sum() == 4
    assert len(shop.events) == len(raw) - no_customer.sum() - returns.sum() - not_product.sum()


def test_example_dates_are_day_first(shop):
    raw = pd.read_csv(EXAMPLE / "transactions.csv")["InvoiceDate"]  # written dd/mm/yyyy HH:MM
    row = raw.index[raw.str[:2].astype(int) > 12][0]  # a day that cannot be a month
    day, month = int(raw[row][:2]), int(raw[row][3:5])
    parsed = read_case_files(EXAMPLE_CASE)["transactions"]["InvoiceDate"][row]
    assert (parsed.day, parsed.month) == (day, month)


def test_example_runs_each_analysis_data_loading(shop):
    case = shop.case
    segmentation = customer_table(shop, case.segmentation_features)
    assert segmentation.shape == (300, 4) and segmentation.notna().all().all()
    problem = regression_problem(shop)
    assert list(problem.features.columns) == ["frequency", "Age", "Region", "Channel"]
    assert problem.target_column("continuous") == "Revenue_Next90d"
    assert set(problem.targets["binary"].unique()) == {0, 1}
    assert problem.time is not None
    assert problem.excluded.loc["Email", "in_data"]
    assert shop.events["item_id"].nunique() > 50  # enough products to recommend


def test_example_personal_columns_pseudonymized_for_reports(shop):
    shown = report_ids(shop.customers.head(3), shop.case, key="k")
    assert shown["customer_id"].tolist() == pseudonymize(shop.customers["customer_id"].head(3), key="k").tolist()
    assert not shown["Email"].str.contains("@").any()


# --- formats and options ----------------------------------------------------------------------


def test_parquet_tsv_and_absolute_paths(folder, tmp_path):
    pd.read_csv(folder / "products.csv").to_parquet(tmp_path / "products.parquet")
    customers = pd.read_csv(folder / "customers.csv")
    customers.to_csv(folder / "customers.tsv", sep="\t", index=False)
    files = files_of(folder)
    files["products"] = str(tmp_path / "products.parquet")
    files["customers"] = {"path": "customers.tsv", "date_format": "%d/%m/%Y"}
    data = load_own_data(edit_case(folder, files=files))
    assert len(data.items) == 300 and len(data.customers) == 300


def test_compressed_csv_with_semicolons_and_latin1(folder):
    raw = pd.read_csv(folder / "products.csv")
    raw.loc[0, "Description"] = "Crème #1"
    raw.to_csv(folder / "products.csv.gz", sep=";", index=False, encoding="latin-1")
    files = files_of(folder)
    files["products"] = {"path": "products.csv.gz", "sep": ";", "encoding": "latin-1"}
    tables = read_case_files(edit_case(folder, files=files))
    assert tables["products"].loc[0, "Description"] == "Crème #1"


def test_date_format_mapping_and_iso_default(folder):
    tx = pd.read_csv(folder / "transactions.csv")
    tx["InvoiceDate"] = pd.to_datetime(tx["InvoiceDate"], format="%d/%m/%Y %H:%M").dt.strftime("%Y-%m-%d %H:%M")
    tx.to_csv(folder / "transactions.csv", index=False)
    files = files_of(folder)
    files["transactions"] = "transactions.csv"  # ISO dates need no format
    files["customers"] = {"path": "customers.csv", "date_format": {"Created": "%d/%m/%Y"}}
    tables = read_case_files(edit_case(folder, files=files))
    assert tables["transactions"]["InvoiceDate"].min() >= pd.Timestamp("2025-01-01")
    assert tables["customers"]["Created"].dtype == "datetime64[ns]"


def test_observation_end_defaults_to_day_after_last_event(folder):
    data = load_own_data(edit_case(folder, observation_end=None))
    assert data.observation_end == data.events["timestamp"].max().normalize() + pd.Timedelta(days=1)


# --- errors name the case file, the key and the fix ------------------------------------------


def test_missing_file_names_path_and_base(folder):
    files = files_of(folder)
    files["products"] = "exports/products.csv"
    path = edit_case(folder, files=files)
    with pytest.raises(CaseConfigError) as err:
        read_case_files(path)
    message = str(err.value)
    assert str(path) in message and "files.products" in message
    assert str(folder / "exports" / "products.csv") in message
    assert "relative to the case file's folder" in message


def test_excel_without_openpyxl_says_pip_install(folder):
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("openpyxl is installed: the message is for machines without it")
    (folder / "customers.xlsx").write_bytes(b"PK\x03\x04 not really a workbook")
    files = files_of(folder)
    files["customers"] = {"path": "customers.xlsx", "sheet": "Customers"}
    with pytest.raises(CaseConfigError, match=r"files\.customers: reading the Excel file .*customers\.xlsx needs the openpyxl package.*`pip install openpyxl`"):
        read_case_files(edit_case(folder, files=files))


def test_unknown_extension(folder):
    (folder / "products.json").write_text("[]")
    files = files_of(folder)
    files["products"] = "products.json"
    with pytest.raises(CaseConfigError, match=r"files\.products: cannot read 'products\.json': unknown file type.*\.csv"):
        read_case_files(edit_case(folder, files=files))


def test_unknown_option_and_missing_table(folder):
    files = files_of(folder)
    files["transactions"]["delimiter"] = ";"
    with pytest.raises(CaseConfigError, match=r"files\.transactions\.delimiter: unknown key; did you mean 'sep'\?"):
        read_case_files(edit_case(folder, files=files))
    files = files_of(folder)
    files["transaction"] = files.pop("transactions")
    with pytest.raises(CaseConfigError) as err:
        read_case_files(edit_case(folder, files=files))
    assert "files.transaction: names no table of 'tables' (customers, products, transactions); did you mean 'transactions'?" in str(err.value)
    assert "files: no file for the table 'transactions'" in str(err.value)


def test_option_of_another_format(folder, tmp_path):
    pd.read_csv(folder / "products.csv").to_parquet(folder / "products.parquet")
    files = files_of(folder)
    files["products"] = {"path": "products.parquet", "sep": ";"}
    with pytest.raises(CaseConfigError, match=r"files\.products: option\(s\) \['sep'\] do not apply to a parquet file"):
        read_case_files(edit_case(folder, files=files))


def test_no_files_section(folder):
    with pytest.raises(CaseConfigError, match="files: missing \\(needed when source is 'files'\\).*customers: customers.csv"):
        read_case_files(edit_case(folder, files=None))


def test_dates_not_matching_format(folder):
    files = files_of(folder)
    files["transactions"]["date_format"] = "%Y-%m-%d %H:%M"
    with pytest.raises(DataValidationError, match=r"files\.transactions: column 'InvoiceDate' has \d+ value\(s\) that do not match the date format '%Y-%m-%d %H:%M', first '01/01/2025 00:45'.*date_format"):
        read_case_files(edit_case(folder, files=files))


def test_day_first_dates_without_format_are_not_guessed(folder):
    files = files_of(folder)
    del files["transactions"]["date_format"]
    with pytest.raises(DataValidationError, match="ISO 8601.*Set files.transactions.date_format"):
        read_case_files(edit_case(folder, files=files))


def test_wrong_separator_hint(folder):
    pd.read_csv(folder / "products.csv").to_csv(folder / "products.csv", sep=";", index=False)
    with pytest.raises(DataValidationError, match=r"one column with sep=','.*files\.products\.sep"):
        read_case_files(folder / "case.yml")


def test_wrong_encoding_hint(folder):
    (folder / "products.csv").write_bytes("StockCode,Description\n1,Cr\xe8me\n".encode("latin-1"))
    with pytest.raises(DataValidationError, match="not utf-8 text.*files.products.encoding"):
        read_case_files(folder / "case.yml")


def test_empty_file(folder):
    (folder / "products.csv").write_text("")
    with pytest.raises(DataValidationError, match=r"files\.products: could not read .*the file is empty"):
        read_case_files(folder / "case.yml")


def test_mapped_column_missing_is_named_by_canonical_step(folder):
    tx = pd.read_csv(folder / "transactions.csv").rename(columns={"Revenue": "Sales"})
    tx.to_csv(folder / "transactions.csv", index=False)
    with pytest.raises(DataValidationError, match=r"table 'transactions'.*missing column\(s\) \['Revenue'\]"):
        load_own_data(folder / "case.yml")


def test_bad_observation_end(folder):
    with pytest.raises(CaseConfigError, match="observation_end 'soon' is not a date"):
        load_own_data(edit_case(folder, observation_end="soon"))


def test_builtin_case_is_not_own_data():
    with pytest.raises(CaseConfigError, match="source 'synthetic'.*load_case_data"):
        load_own_data("ecommerce")


def test_files_spec_resolves_relative_to_case_file():
    spec = files_spec(EXAMPLE_CASE)
    assert spec["customers"]["path"] == EXAMPLE / "customers.csv"
    assert spec["products"]["format"] == "csv"
