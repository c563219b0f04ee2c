"""The download path of marketing.datasets.public, run for real against a server on 127.0.0.1.

Each test serves archives it builds itself and points a registry entry at the server, so nothing
here needs the internet or the real datasets.
"""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import zipfile
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

from marketing.datasets import public
from marketing.datasets.public import (
    CACHE_ENV,
    MIRROR_ENV,
    ChecksumError,
    DataFile,
    FetchError,
    PublicDataset,
    UnverifiedDownloadWarning,
    fetch,
    retail_fingerprint,
)

CSV = b"customer_id,amount\n1,10.5\n2,3.25\n"
OTHER_CSV = b"customer_id,amount\n1,99\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


class Server:
    """Serves ``routes`` (path -> (mode, bytes)) on 127.0.0.1 and counts the requests."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[str, bytes]] = {}
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append(self.path)
                mode, body = server.routes.get(self.path, ("missing", b""))
                if mode == "missing":
                    self.send_error(404)
                elif mode == "error":
                    self.send_error(500, "boom")
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    # "half": announce every byte, send half, then hang up
                    self.wfile.write(body if mode == "ok" else body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    def __enter__(self) -> "Server":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    with Server() as running:
        yield running


@pytest.fixture(autouse=True)
def no_mirror(monkeypatch):
    monkeypatch.delenv(MIRROR_ENV, raising=False)
    monkeypatch.delenv(CACHE_ENV, raising=False)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/toy.zip"


def register(monkeypatch, url: str, files: tuple[DataFile, ...], **fields) -> PublicDataset:
    dataset = PublicDataset(
        name="toy", title="Toy data", url=url, landing_page="https://example.org/toy",
        licence="CC0", citation="Nobody (2024). Toy.", case="ecommerce",
        analyses=("regression",), files=files, mirror_folder="toy-folder", **fields,
    )
    monkeypatch.setitem(public.DATASETS, "toy", dataset)
    return dataset


def cache_files(cache: Path) -> list[str]:
    folder = cache / "toy"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_downloads_extracts_and_verifies_an_archive_member(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"toy/data.csv": CSV, "toy/README": b"about"}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="toy/data.csv"),))
    path = fetch("toy", tmp_path)
    assert path == tmp_path / "toy" / "data.csv"
    assert path.read_bytes() == CSV
    assert cache_files(tmp_path) == ["data.csv"]  # no temporary file and no archive left


def test_finds_a_member_inside_an_inner_archive(server, monkeypatch, tmp_path):
    # UCI serves bank+marketing.zip holding bank.zip holding bank-full.csv
    inner = zip_bytes({"bank-full.csv": CSV})
    server.routes["/outer.zip"] = ("ok", zip_bytes({"bank.zip": inner, "other.zip": zip_bytes({"x": b""})}))
    register(monkeypatch, server.url + "/outer.zip", (DataFile("bank-full.csv", sha(CSV), member="bank.zip/bank-full.csv"),))
    assert fetch("toy", tmp_path).read_bytes() == CSV


def test_multi_file_dataset_returns_a_dict_from_one_download(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"a.csv": CSV, "b.csv": OTHER_CSV}))
    register(monkeypatch, server.url + "/toy.zip", (
        DataFile("a.csv", sha(CSV), member="a.csv"), DataFile("b.csv", sha(OTHER_CSV), member="b.csv"),
    ))
    paths = fetch("toy", tmp_path)
    assert {k: v.read_bytes() for k, v in paths.items()} == {"a.csv": CSV, "b.csv": OTHER_CSV}
    assert server.requests == ["/toy.zip"]


def test_plain_file_download(server, monkeypatch, tmp_path):
    server.routes["/insurance.csv"] = ("ok", CSV)
    register(monkeypatch, server.url + "/insurance.csv", (DataFile("insurance.csv", sha(CSV)),))
    assert fetch("toy", tmp_path).read_bytes() == CSV


def test_checksum_mismatch_leaves_nothing_in_the_cache(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"data.csv": OTHER_CSV}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="data.csv"),))
    with pytest.raises(ChecksumError, match=f"expected sha256 {sha(CSV)}, got sha256 {sha(OTHER_CSV)}"):
        fetch("toy", tmp_path)
    assert cache_files(tmp_path) == []


def test_server_error_is_reported_and_nothing_is_written(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("error", b"")
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="data.csv"),))
    with pytest.raises(FetchError, match="HTTP 500") as raised:
        fetch("toy", tmp_path)
    assert not isinstance(raised.value, ChecksumError)
    assert cache_files(tmp_path) == []


def test_interrupted_download_leaves_no_partial_file(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("half", zip_bytes({"data.csv": CSV * 200}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV * 200), member="data.csv"),))
    with pytest.raises(FetchError, match="interrupted"):
        fetch("toy", tmp_path)
    assert cache_files(tmp_path) == []


def test_cached_file_is_reused_without_a_request(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"data.csv": CSV}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="data.csv"),))
    first = fetch("toy", tmp_path)
    second = fetch("toy", tmp_path)
    assert first == second
    assert server.requests == ["/toy.zip"]


def test_cached_file_with_a_wrong_checksum_is_fetched_again(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"data.csv": CSV}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="data.csv"),))
    (tmp_path / "toy").mkdir()
    (tmp_path / "toy" / "data.csv").write_bytes(b"truncated")
    assert fetch("toy", tmp_path).read_bytes() == CSV
    assert server.requests == ["/toy.zip"]


def test_cache_location_from_the_environment(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"data.csv": CSV}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("data.csv", sha(CSV), member="data.csv"),))
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "elsewhere"))
    assert fetch("toy") == tmp_path / "elsewhere" / "toy" / "data.csv"


def test_mirror_folder_is_used_instead_of_the_source(monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "toy-folder").mkdir(parents=True)
    (mirror / "toy-folder" / "data.csv").write_bytes(CSV)
    # the source is unreachable: only the mirror can serve the file
    register(monkeypatch, closed_port_url(), (DataFile("data.csv", sha(CSV), member="data.csv"),))
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    assert fetch("toy", tmp_path / "cache").read_bytes() == CSV


def test_mirror_folder_with_a_bad_copy_is_rejected(monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    (mirror / "toy-folder").mkdir(parents=True)
    (mirror / "toy-folder" / "data.csv").write_bytes(OTHER_CSV)
    register(monkeypatch, closed_port_url(), (DataFile("data.csv", sha(CSV), member="data.csv"),))
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    with pytest.raises(ChecksumError):
        fetch("toy", tmp_path / "cache")
    assert cache_files(tmp_path / "cache") == []


def test_mirror_folder_without_the_file_names_the_path(monkeypatch, tmp_path):
    register(monkeypatch, closed_port_url(), (DataFile("data.csv", sha(CSV), member="data.csv"),))
    monkeypatch.setenv(MIRROR_ENV, str(tmp_path / "mirror"))
    with pytest.raises(FetchError, match=r"has no file toy-folder/data\.csv"):
        fetch("toy", tmp_path / "cache")


def test_mirror_base_address(server, monkeypatch, tmp_path):
    server.routes["/datasets/toy-folder/data.csv"] = ("ok", CSV)
    register(monkeypatch, closed_port_url(), (DataFile("data.csv", sha(CSV), member="data.csv"),))
    monkeypatch.setenv(MIRROR_ENV, server.url + "/datasets/")
    assert fetch("toy", tmp_path).read_bytes() == CSV
    assert server.requests == ["/datasets/toy-folder/data.csv"]


def test_offline_error_says_which_file_to_put_where(monkeypatch, tmp_path):
    url = closed_port_url()
    register(monkeypatch, url, (DataFile("data.csv", sha(CSV), member="toy/data.csv"),))
    with pytest.raises(FetchError) as raised:
        fetch("toy", tmp_path)
    message = str(raised.value)
    assert "are you offline?" in message
    assert url in message and "toy/data.csv" in message
    assert f"{tmp_path / 'toy'}/ as data.csv" in message
    assert MIRROR_ENV in message and "https://example.org/toy" in message


def test_a_silent_server_times_out(monkeypatch, tmp_path):
    with socket.socket() as listener:
        # accepts connections (the backlog) but never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/toy.zip"
        register(monkeypatch, url, (DataFile("data.csv", sha(CSV), member="data.csv"),))
        with pytest.raises(FetchError, match="timed out"):
            fetch("toy", tmp_path, timeout=0.3)
    assert cache_files(tmp_path) == []


def test_file_without_a_published_checksum_warns(server, monkeypatch, tmp_path):
    server.routes["/toy.zip"] = ("ok", zip_bytes({"ml/u.data": CSV}))
    register(monkeypatch, server.url + "/toy.zip", (DataFile("u.data", None, member="ml/u.data"),), )
    with pytest.warns(UnverifiedDownloadWarning, match=f"could not be verified.*computed: sha256 {sha(CSV)}"):
        path = fetch("toy", tmp_path)
    assert path.read_bytes() == CSV


def test_movielens_is_never_read_from_a_mirror(monkeypatch, tmp_path):
    mirror = tmp_path / "mirror"
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    monkeypatch.setitem(public.DATASETS, "movielens_100k", replace(public.DATASETS["movielens_100k"], url=closed_port_url()))
    with pytest.raises(FetchError, match="are you offline") as raised:
        fetch("movielens_100k", tmp_path)
    assert MIRROR_ENV not in str(raised.value)  # no mirror to suggest: download only


def test_retail_workbook_needs_openpyxl_and_says_so(monkeypatch, tmp_path):
    try:
        import openpyxl  # noqa: F401
        pytest.skip("openpyxl is installed: the workbook path would run")
    except ImportError:
        pass
    monkeypatch.setitem(public.DATASETS, "online_retail_ii", replace(public.DATASETS["online_retail_ii"], url=closed_port_url()))
    with pytest.raises(ImportError, match="pip install openpyxl"):
        fetch("online_retail_ii", tmp_path)


def retail_frame() -> pd.DataFrame:
    return pd.DataFrame({
        "Invoice": ["489434", "489434", "C489449"],
        "StockCode": ["85048", "79323P", "22087"],
        "Description": ["15CM CHRISTMAS GLASS BALL 20 LIGHTS", "PINK CHERRY LIGHTS", None],
        "Quantity": [12, 12, -12],
        "InvoiceDate": ["2009-12-01 07:45:00", "2009-12-01 07:45:00", "2009-12-01 10:33:00"],
        "Price": [6.95, 6.75, 0.85],
        "Customer ID": [13085.0, 13085.0, None],
        "Country": ["United Kingdom"] * 3,
    })


def test_retail_fingerprint_ignores_how_the_table_was_stored():
    as_parquet = retail_frame()
    # what reading the workbook gives: numeric codes as numbers, real datetimes
    as_workbook = as_parquet.assign(
        Invoice=pd.Series([489434, 489434, "C489449"], dtype=object),
        StockCode=pd.Series([85048, "79323P", 22087], dtype=object),
        InvoiceDate=pd.to_datetime(as_parquet["InvoiceDate"]),
    )
    assert retail_fingerprint(as_parquet) == retail_fingerprint(as_workbook)
    changed = as_parquet.assign(Price=[6.95, 6.75, 0.86])
    assert retail_fingerprint(changed) != retail_fingerprint(as_parquet)


def test_retail_copy_is_accepted_by_its_content_fingerprint(monkeypatch, tmp_path):
    # a Parquet written by another writer has other bytes but the same content
    frame = retail_frame()
    mirror = tmp_path / "mirror"
    (mirror / "toy-folder").mkdir(parents=True)
    frame.to_parquet(mirror / "toy-folder" / "retail.parquet", index=False, compression="gzip")
    spec = DataFile("retail.parquet", sha256="0" * 64, member="online_retail_II.xlsx",
                    fingerprint=retail_fingerprint(frame), sheet="Year 2009-2010")
    register(monkeypatch, closed_port_url(), (spec,), converter="xlsx-sheet-to-parquet")
    monkeypatch.setenv(MIRROR_ENV, str(mirror))
    path = fetch("toy", tmp_path / "cache")
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)
    # a copy whose content differs is refused
    frame.assign(Quantity=[1, 2, 3]).to_parquet(mirror / "toy-folder" / "retail.parquet", index=False)
    path.unlink()
    with pytest.raises(ChecksumError, match="content fingerprint"):
        fetch("toy", tmp_path / "cache")


def test_unknown_dataset_lists_the_known_ones(tmp_path):
    with pytest.raises(ValueError, match="choose one of .*'online_retail_ii'"):
        fetch("online_retail", tmp_path)


def test_registry_records_source_licence_citation_and_checksums():
    for name, dataset in public.DATASETS.items():
        assert dataset.name == name
        assert dataset.url.startswith("https://") and dataset.licence and dataset.citation
        assert dataset.case in {"ecommerce", "finance", "education", "health"}
        for spec in dataset.files:
            assert spec.sha256 is None or len(spec.sha256) == 64
    assert public.DATASETS["movielens_100k"].mirror_folder is None
    assert all(f.sha256 is None for f in public.DATASETS["movielens_100k"].files)


def test_retail_workbook_path_converts_the_sheet_and_verifies_its_fingerprint(server, monkeypatch, tmp_path):
    # openpyxl is not installed here: stand in for the workbook reader with what it returns
    frame = retail_frame()
    as_workbook = frame.assign(
        Invoice=pd.Series([489434, 489434, "C489449"], dtype=object),
        StockCode=pd.Series([85048, "79323P", 22087], dtype=object),
        InvoiceDate=pd.to_datetime(frame["InvoiceDate"]),
    )
    read = []

    def fake_read_excel(path, sheet_name, engine):
        read.append((Path(path).read_bytes(), sheet_name, engine))
        return as_workbook

    monkeypatch.setattr(public, "_require_openpyxl", lambda dataset: None)
    monkeypatch.setattr(public.pd, "read_excel", fake_read_excel)
    server.routes["/retail.zip"] = ("ok", zip_bytes({"online_retail_II.xlsx": b"workbook bytes"}))
    spec = DataFile("retail.parquet", sha256="0" * 64, member="online_retail_II.xlsx",
                    fingerprint=retail_fingerprint(frame), sheet="Year 2009-2010")
    register(monkeypatch, server.url + "/retail.zip", (spec,), converter="xlsx-sheet-to-parquet")
    path = fetch("toy", tmp_path)
    assert read == [(b"workbook bytes", "Year 2009-2010", "openpyxl")]
    pd.testing.assert_frame_equal(pd.read_parquet(path), frame)  # the mirror's types
    assert cache_files(tmp_path) == ["retail.parquet"]
    # the cached conversion is reused: its bytes differ from the mirror's, its content does not
    fetch("toy", tmp_path)
    assert server.requests == ["/retail.zip"]
