"""Public datasets: where each comes from, its licence and checksum, and a verified local copy.

:data:`DATASETS` records, for every public dataset the case studies can run on, the original
download address, the licence, the citation, the data file(s) and their SHA-256, and the case
study it serves. :func:`fetch` returns the path of a verified copy in the cache, downloading it
once:

- the cache is ``data/raw/<name>/`` in the repository (or ``$MARKETING_DATA_DIR/<name>/``);
- a cached file whose checksum is right is reused without any request; one whose checksum is
  wrong is fetched again;
- a download is written to a temporary file in the cache folder and moved into place with
  :func:`os.replace` only after its checksum passed, so an interruption or a bad checksum never
  leaves a partial or wrong file behind;
- ``$MARKETING_DATA_MIRROR`` points at a local mirror, either a folder or a base ``http(s)``
  address laid out as ``<mirror>/<folder>/<file>`` (for offline machines and CI);
- without a network, the error says which file to put where, and where to get it.

Checksums are of the data file itself, after extracting it from the archive it is served in.
Online Retail II is served as an Excel workbook; the project keeps the sheet "Year 2009-2010" as
Parquet and verifies it by a *content fingerprint* (:func:`retail_fingerprint`): the SHA-256 of
a canonical CSV serialisation of the table, which does not depend on how the file was written.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

#: Environment variable overriding the cache folder (``data/raw`` in the repository by default).
CACHE_ENV = "MARKETING_DATA_DIR"
#: Environment variable naming a mirror: a folder or a base http(s) address.
MIRROR_ENV = "MARKETING_DATA_MIRROR"
#: Seconds to wait for a server before giving up (per request and per read).
TIMEOUT_SECONDS = 60.0
_CHUNK = 1 << 20


class FetchError(OSError):
    """A public dataset could not be downloaded, or its copy could not be verified."""


class ChecksumError(FetchError):
    """A downloaded or cached file does not have the recorded SHA-256 (or fingerprint)."""


class UnverifiedDownloadWarning(UserWarning):
    """A file was downloaded for which no published checksum is known."""


@dataclass(frozen=True)
class DataFile:
    """One data file of a public dataset.

    Attributes
    ----------
    name : str
        File name in the cache and in the mirror folder.
    sha256 : str or None
        SHA-256 of the file. None when no published checksum could be verified.
    member : str or None
        Path of the file inside the downloaded archive (``outer.zip/inner.zip/file`` for a nested
        archive), None when the address serves the file itself.
    fingerprint : str or None
        For a file converted from the original (a spreadsheet sheet to Parquet): the content
        fingerprint of the table, accepted in place of ``sha256``.
    sheet : str or None
        The spreadsheet sheet the file holds, for converted files.
    """

    name: str
    sha256: str | None
    member: str | None = None
    fingerprint: str | None = None
    sheet: str | None = None


@dataclass(frozen=True)
class PublicDataset:
    """A public dataset: its source, licence, citation, files and the case it serves.

    Attributes
    ----------
    name : str
        Registry key, also the cache sub-folder.
    title : str
    url : str
        The original download address (an archive or the file itself).
    landing_page : str
        Where a person finds the dataset and its documentation.
    licence : str
    citation : str
    case : str
        The built-in case study the dataset serves.
    analyses : tuple of str
        The analyses the dataset supports (see data/README.md for why others do not apply).
    files : tuple of DataFile
    mirror_folder : str or None
        Sub-folder of a mirror holding the files; None when the licence forbids mirroring.
    converter : str or None
        ``"xlsx-sheet-to-parquet"`` when the original is a spreadsheet converted on download.
    """

    name: str
    title: str
    url: str
    landing_page: str
    licence: str
    citation: str
    case: str
    analyses: tuple[str, ...]
    files: tuple[DataFile, ...]
    mirror_folder: str | None
    converter: str | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def multi_file(self) -> bool:
        return len(self.files) > 1


DATASETS: dict[str, PublicDataset] = {
    "online_retail_ii": PublicDataset(
        name="online_retail_ii",
        title='Online Retail II (sheet "Year 2009-2010")',
        url="https://archive.ics.uci.edu/static/public/502/online+retail+ii.zip",
        landing_page="https://archive.ics.uci.edu/dataset/502/online+retail+ii",
        licence="CC BY 4.0",
        citation="Chen, D. (2019). Online Retail II [Dataset]. UCI Machine Learning Repository. "
        "https://doi.org/10.24432/C5CG6D",
        case="ecommerce",
        analyses=("segmentation", "recommendation", "regression"),
        files=(
            DataFile(
                name="online_retail_ii_2009_2010.parquet",
                # the mirror's Parquet conversion, byte for byte
                sha256="e92bcbbce1b7a1041ad79462879d4774bf050c7b8fee9f4eef89f09fb6330664",
                member="online_retail_II.xlsx",
                fingerprint="fda3fdeb92a70303d1ec85af6322d2515358f954ca612d134970b872fa5721e5",
                sheet="Year 2009-2010",
            ),
        ),
        mirror_folder="online-retail-ii",
        converter="xlsx-sheet-to-parquet",
    ),
    "bank_marketing": PublicDataset(
        name="bank_marketing",
        title="Bank Marketing (bank-full)",
        url="https://archive.ics.uci.edu/static/public/222/bank+marketing.zip",
        landing_page="https://archive.ics.uci.edu/dataset/222/bank+marketing",
        licence="CC BY 4.0",
        citation="Moro, S., Rita, P., & Cortez, P. (2014). Bank Marketing [Dataset]. UCI Machine "
        "Learning Repository. https://doi.org/10.24432/C5K306. Paper: Moro, S., Cortez, P., & "
        "Rita, P. (2014). A data-driven approach to predict the success of bank telemarketing. "
        "Decision Support Systems, 62, 22-31.",
        case="finance",
        analyses=("segmentation", "regression"),
        files=(
            DataFile(
                name="bank-full.csv",
                sha256="d1513ec63b385506f7cfce9f2c5caa9fe99e7ba4e8c3fa264b3aaf0f849ed32d",
                member="bank.zip/bank-full.csv",
            ),
        ),
        mirror_folder="bank-marketing",
    ),
    "student_performance": PublicDataset(
        name="student_performance",
        title="Student Performance (mathematics and Portuguese)",
        url="https://archive.ics.uci.edu/static/public/320/student+performance.zip",
        landing_page="https://archive.ics.uci.edu/dataset/320/student+performance",
        licence="CC BY 4.0",
        citation="Cortez, P. (2008). Student Performance [Dataset]. UCI Machine Learning "
        "Repository. https://doi.org/10.24432/C5TG7T. Paper: Cortez, P., & Silva, A. (2008). "
        "Using data mining to predict secondary school student performance. FUBUTEC 2008, 5-12.",
        case="education",
        analyses=("segmentation", "regression"),
        files=(
            DataFile(
                name="student-mat.csv",
                sha256="e47f9ee225e1ee6e69b7564e6dac7123e80b8486677fe111f351964cef5dec80",
                member="student.zip/student-mat.csv",
            ),
            DataFile(
                name="student-por.csv",
                sha256="a7594a11d7771c0efe1a740824e0e833da9c4cad07c39a9766a874575563fb3f",
                member="student.zip/student-por.csv",
            ),
        ),
        mirror_folder="student-performance",
    ),
    "insurance": PublicDataset(
        name="insurance",
        title="Medical cost personal data (insurance)",
        url="https://raw.githubusercontent.com/stedy/Machine-Learning-with-R-datasets/master/insurance.csv",
        landing_page="https://github.com/stedy/Machine-Learning-with-R-datasets",
        licence="public domain, as stated by the source repository",
        citation="Lantz, B. (2013). Machine Learning with R. Packt Publishing. Data: "
        "stedy/Machine-Learning-with-R-datasets on GitHub.",
        case="health",
        analyses=("segmentation", "regression"),
        files=(
            DataFile(
                name="insurance.csv",
                sha256="505c1cbc2e63d0363bac59501563df2530aadf4cdb9cfee226f4ef32f5468281",
            ),
        ),
        mirror_folder="insurance",
    ),
    "cdnow": PublicDataset(
        name="cdnow",
        title="CDNOW 1/10 sample (purchases of the 1997 Q1 cohort to 1998-06-30)",
        url="https://www.brucehardie.com/datasets/CDNOW_sample.zip",
        landing_page="https://www.brucehardie.com/datasets/",
        licence="no licence stated; distributed by the authors for research and teaching",
        citation="Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). \"Counting your customers\" "
        "the easy way: an alternative to the Pareto/NBD model. Marketing Science, 24(2), 275-284. "
        "Data: Bruce Hardie's datasets page; sampling documented in http://brucehardie.com/notes/026/.",
        # a CD retailer's log: the e-commerce case is its domain, but no analysis of that case reads
        # it yet (``analyses`` is empty); it validates the lifetime-value models (marketing.clv)
        case="ecommerce",
        analyses=(),
        files=(
            DataFile(
                name="CDNOW_sample.txt",
                sha256="6fae10155c0b0ba363c2c386e30f77990d22328220efd862a5edd1443420d94a",
                member="CDNOW_sample.txt",
            ),
        ),
        mirror_folder="cdnow",
    ),
    "movielens_100k": PublicDataset(
        name="movielens_100k",
        title="MovieLens 100K",
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        landing_page="https://grouplens.org/datasets/movielens/100k/",
        licence="research use only; may not be redistributed without permission (GroupLens "
        "usage licence in the archive's README)",
        citation="Harper, F. M., & Konstan, J. A. (2015). The MovieLens Datasets: History and "
        "Context. ACM Transactions on Interactive Intelligent Systems, 5(4), 19. "
        "https://doi.org/10.1145/2827872",
        case="education",
        analyses=("recommendation",),
        # no published SHA-256 of these files could be verified offline: see data/README.md
        files=(
            DataFile(name="u.data", sha256=None, member="ml-100k/u.data"),
            DataFile(name="u.item", sha256=None, member="ml-100k/u.item"),
            DataFile(name="u.user", sha256=None, member="ml-100k/u.user"),
        ),
        # never redistributed, so never read from a mirror: download only
        mirror_folder=None,
    ),
}


def get_dataset(name: str) -> PublicDataset:
    """The registry entry ``name``, with an error listing the known names otherwise.

    Examples
    --------
    >>> get_dataset("insurance").case
    'health'
    >>> get_dataset("iris")
    Traceback (most recent call last):
    ...
    ValueError: unknown public dataset 'iris'; choose one of ['bank_marketing', 'cdnow', 'insurance', 'movielens_100k', 'online_retail_ii', 'student_performance'].
    """
    if name not in DATASETS:
        raise ValueError(f"unknown public dataset {name!r}; choose one of {sorted(DATASETS)}.")
    return DATASETS[name]


def default_cache_dir() -> Path:
    """The cache root: ``$MARKETING_DATA_DIR``, else ``data/raw`` of the repository checkout.

    Outside a checkout (an installed package) the fallback is ``data/raw`` under the current
    working directory.
    """
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    repo = Path(__file__).resolve().parents[2]
    if (repo / "pyproject.toml").exists():
        return repo / "data" / "raw"
    return Path.cwd() / "data" / "raw"


def sha256_file(path: str | os.PathLike) -> str:
    """SHA-256 of a file, read in 1 MiB blocks.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> _ = p.write_bytes(b"abc")
    >>> sha256_file(p)
    'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


RETAIL_COLUMNS = (
    "Invoice", "StockCode", "Description", "Quantity", "InvoiceDate", "Price", "Customer ID", "Country",
)


def retail_fingerprint(frame: pd.DataFrame) -> str:
    """Content fingerprint of an Online Retail II sheet, however it was read.

    The table is serialised canonically and hashed, so the Parquet conversion and the table read
    from the original workbook give the same value when they hold the same data:

    - the columns :data:`RETAIL_COLUMNS`, in that order (a missing one is an error);
    - ``Invoice`` and ``StockCode`` as text, a numeric code written without a trailing ``.0``
      (Excel stores ``85048`` as a number, the Parquet as text);
    - ``Description`` and ``Country`` as text, missing as the empty string;
    - ``Quantity`` as an integer; ``Price`` with four decimals; ``Customer ID`` as an integer
      or the empty string;
    - ``InvoiceDate`` as ``YYYY-MM-DD HH:MM:SS``;
    - rows in file order, written as CSV with ``\\n`` line ends, UTF-8, then SHA-256.

    Examples
    --------
    >>> frame = pd.DataFrame({
    ...     "Invoice": [489434], "StockCode": [85048], "Description": ["LED CANDLE"],
    ...     "Quantity": [12], "InvoiceDate": [pd.Timestamp("2009-12-01 07:45")],
    ...     "Price": [6.95], "Customer ID": [13085.0], "Country": ["United Kingdom"]})
    >>> as_text = frame.astype({"Invoice": str, "StockCode": str, "InvoiceDate": str})
    >>> retail_fingerprint(frame) == retail_fingerprint(as_text)
    True
    """
    missing = [c for c in RETAIL_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"Online Retail II table is missing column(s) {missing}; it has {list(frame.columns)}. "
            f'Read the sheet "Year 2009-2010" of online_retail_II.xlsx without renaming columns.'
        )

    def code(values: pd.Series) -> pd.Series:
        return values.astype("str").str.strip().str.replace(r"\.0$", "", regex=True)

    def text(values: pd.Series) -> pd.Series:
        return values.astype("str").fillna("")

    customer = pd.to_numeric(frame["Customer ID"]).astype("Int64").astype("str").fillna("")
    canonical = pd.DataFrame(
        {
            "Invoice": code(frame["Invoice"]),
            "StockCode": code(frame["StockCode"]),
            "Description": text(frame["Description"]),
            "Quantity": pd.to_numeric(frame["Quantity"]).astype("int64"),
            "InvoiceDate": pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "Price": pd.to_numeric(frame["Price"]).map("{:.4f}".format),
            "Customer ID": customer,
            "Country": text(frame["Country"]),
        }
    )
    payload = canonical.to_csv(index=False, lineterminator="\n").encode("utf-8")
    return hashlib.sha256(payload).hexdigest()


def _verify(path: Path, spec: DataFile) -> tuple[bool, str]:
    """Whether ``path`` is the recorded file, and what was computed (for messages)."""
    actual = sha256_file(path)
    if spec.sha256 is None or actual == spec.sha256:
        return True, f"sha256 {actual}"
    if spec.fingerprint is not None:
        # a Parquet written by this package from the workbook differs byte-wise from the mirror's
        try:
            print_ = retail_fingerprint(pd.read_parquet(path))
        except Exception:  # an unreadable file is simply not the right one
            return False, f"sha256 {actual} (not a readable Parquet file)"
        return print_ == spec.fingerprint, f"sha256 {actual}, content fingerprint {print_}"
    return False, f"sha256 {actual}"


def fetch(
    name: str, cache_dir: str | os.PathLike | None = None, *, timeout: float = TIMEOUT_SECONDS
) -> Path | dict[str, Path]:
    """A verified local copy of a public dataset, downloaded once into the cache.

    Parameters
    ----------
    name : str
        A key of :data:`DATASETS`.
    cache_dir : path, optional
        The cache root; files go to ``<cache_dir>/<name>/``. Defaults to
        :func:`default_cache_dir` (``$MARKETING_DATA_DIR`` or the repository's ``data/raw``).
    timeout : float
        Seconds to wait on each network request and read.

    Returns
    -------
    Path, or dict of file name to Path
        The data file, or every data file for a multi-file dataset.

    Raises
    ------
    ValueError
        Unknown dataset name.
    ChecksumError
        The downloaded file does not match the recorded checksum (nothing is written).
    FetchError
        The server or mirror failed, the download was interrupted, or there is no network; the
        message says which file to place where, and where to get it.
    ImportError
        Online Retail II from the original workbook needs ``openpyxl`` (``pip install openpyxl``).

    Warns
    -----
    UnverifiedDownloadWarning
        A file without a published checksum (MovieLens 100K) was downloaded.

    Examples
    --------
    >>> fetch("insurance")  # doctest: +SKIP
    PosixPath('.../data/raw/insurance/insurance.csv')
    >>> fetch("titanic")
    Traceback (most recent call last):
    ...
    ValueError: unknown public dataset 'titanic'; choose one of ['bank_marketing', 'cdnow', 'insurance', 'movielens_100k', 'online_retail_ii', 'student_performance'].
    """
    dataset = get_dataset(name)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    folder = folder / dataset.name
    targets = {f.name: folder / f.name for f in dataset.files}
    needed = [f for f in dataset.files if not (targets[f.name].exists() and _verify(targets[f.name], f)[0])]
    if needed:
        folder.mkdir(parents=True, exist_ok=True)
        mirror = os.environ.get(MIRROR_ENV)
        if mirror and dataset.mirror_folder is not None:
            for spec in needed:
                _from_mirror(dataset, spec, mirror, targets[spec.name], timeout)
        else:
            _from_source(dataset, needed, targets, timeout)
    if dataset.multi_file:
        return targets
    return targets[dataset.files[0].name]


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _from_mirror(dataset: PublicDataset, spec: DataFile, mirror: str, target: Path, timeout: float) -> None:
    if _is_url(mirror):
        source = f"{mirror.rstrip('/')}/{dataset.mirror_folder}/{spec.name}"
        with _temporary(target.parent) as tmp:
            _download(source, tmp, dataset, spec, target, timeout)
            _install(tmp, target, spec, source)
        return
    source_path = Path(mirror).expanduser() / dataset.mirror_folder / spec.name
    if not source_path.exists():
        raise FetchError(
            f"{MIRROR_ENV}={mirror!r} has no file {dataset.mirror_folder}/{spec.name} (looked for "
            f"{source_path}). Put the file there, or unset {MIRROR_ENV} to download from "
            f"{dataset.url}."
        )
    with _temporary(target.parent) as tmp:
        shutil.copyfile(source_path, tmp)
        _install(tmp, target, spec, str(source_path))


def _from_source(dataset: PublicDataset, needed: list[DataFile], targets: dict[str, Path], timeout: float) -> None:
    if dataset.converter == "xlsx-sheet-to-parquet":
        # fail before a long download that could not be read anyway
        _require_openpyxl(dataset)
    first = targets[needed[0].name]
    with _temporary(first.parent) as raw:
        _download(dataset.url, raw, dataset, needed[0], first, timeout)
        for spec in needed:
            target = targets[spec.name]
            with _temporary(target.parent) as tmp:
                if spec.member is None:
                    shutil.copyfile(raw, tmp)
                else:
                    with zipfile.ZipFile(raw) as archive:
                        _extract(archive, spec.member, tmp, dataset.url)
                if dataset.converter == "xlsx-sheet-to-parquet":
                    _xlsx_sheet_to_parquet(tmp, spec)
                _install(tmp, target, spec, dataset.url)


def _require_openpyxl(dataset: PublicDataset) -> None:
    try:
        import openpyxl  # noqa: F401
    except ImportError as error:
        spec = dataset.files[0]
        raise ImportError(
            f"{dataset.title} is published as an Excel workbook ({spec.member} inside "
            f"{dataset.url}); reading it needs openpyxl: `pip install openpyxl`. Or set "
            f"{MIRROR_ENV} to a mirror holding {dataset.mirror_folder}/{spec.name}."
        ) from error


def _xlsx_sheet_to_parquet(path: Path, spec: DataFile) -> None:
    """Replace the workbook at ``path`` by its sheet ``spec.sheet`` as Parquet, in place."""
    frame = pd.read_excel(path, sheet_name=spec.sheet, engine="openpyxl")
    # keep the mirror's types (text codes and dates) so the adapter reads either copy alike
    frame = frame.assign(
        Invoice=frame["Invoice"].astype("str").str.replace(r"\.0$", "", regex=True),
        StockCode=frame["StockCode"].astype("str").str.replace(r"\.0$", "", regex=True),
        InvoiceDate=pd.to_datetime(frame["InvoiceDate"]).dt.strftime("%Y-%m-%d %H:%M:%S"),
        # a description Excel stored as a number would make a mixed column Parquet refuses
        Description=frame["Description"].astype("str"),
        Country=frame["Country"].astype("str"),
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    path.write_bytes(buffer.getvalue())


def _extract(archive: zipfile.ZipFile, member: str, out: Path, url: str) -> None:
    """Copy ``member`` (``a.zip/b.zip/file`` for nested archives) to ``out``.

    UCI has served the same files both directly and inside an inner archive, so when the exact
    path is absent the file is looked up by name, recursing into inner ``.zip`` members.
    """
    found = _open_member(archive, member.split("/")[-1], member)
    if found is None:
        raise FetchError(
            f"the archive from {url} has no member {member!r}; it holds {archive.namelist()[:20]}. "
            "The source may have changed its layout: download the file by hand (see data/README.md)."
        )
    with open(out, "wb") as fh:
        fh.write(found)


def _open_member(archive: zipfile.ZipFile, basename: str, member: str) -> bytes | None:
    names = archive.namelist()
    if member in names:
        return archive.read(member)
    for candidate in names:
        if candidate.rsplit("/", 1)[-1] == basename:
            return archive.read(candidate)
    for candidate in names:
        if candidate.lower().endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(archive.read(candidate))) as inner:
                found = _open_member(inner, basename, member.split("/", 1)[-1])
                if found is not None:
                    return found
    return None


def _install(tmp: Path, target: Path, spec: DataFile, source: str) -> None:
    """Move ``tmp`` to ``target`` if its checksum is right, otherwise raise (``tmp`` is removed)."""
    ok, computed = _verify(tmp, spec)
    if not ok:
        expected = f"sha256 {spec.sha256}" + (f" or content fingerprint {spec.fingerprint}" if spec.fingerprint else "")
        raise ChecksumError(
            f"{spec.name} from {source} failed verification: expected {expected}, got {computed}. "
            f"Nothing was written to {target}. The source may have changed or the transfer was "
            "corrupted; try again, or compare with the datasheet in data/README.md."
        )
    if spec.sha256 is None:
        warnings.warn(
            f"{spec.name} from {source} could not be verified: no published SHA-256 is known for "
            f"it (computed: {computed}). Compare with the publisher's checksum before relying on it.",
            UnverifiedDownloadWarning,
            stacklevel=4,
        )
    os.replace(tmp, target)


class _temporary:
    """A temporary file path in ``folder``, removed on exit unless it was moved away."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def __enter__(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.folder, prefix=".", suffix=".part")
        os.close(fd)
        self.path = Path(name)
        return self.path

    def __exit__(self, *exc) -> None:
        self.path.unlink(missing_ok=True)


def _where_to_put(dataset: PublicDataset, spec: DataFile, target: Path) -> str:
    inside = f" (the file {spec.member} inside that archive)" if spec.member else ""
    mirror = (
        f" Or set {MIRROR_ENV} to a folder or address holding {dataset.mirror_folder}/{spec.name}."
        if dataset.mirror_folder
        else ""
    )
    what = "the Parquet conversion of that sheet" if dataset.converter else "the file"
    names = ", ".join(f.name for f in dataset.files)
    return (
        f"To work offline, download {dataset.url}{inside} from a machine with internet "
        f"(see {dataset.landing_page}) and put {what} at {target.parent}/ as {names}.{mirror}"
    )


def _download(
    url: str, out: Path, dataset: PublicDataset, spec: DataFile, target: Path, timeout: float
) -> None:
    """Stream ``url`` to ``out``, raising :class:`FetchError` on any failure or a short body."""
    request = urllib.request.Request(url, headers={"User-Agent": "marketing-data-fetcher"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response, open(out, "wb") as fh:
            expected = response.headers.get("Content-Length")
            received = 0
            for block in iter(lambda: response.read(_CHUNK), b""):
                fh.write(block)
                received += len(block)
        if expected is not None and received != int(expected):
            raise FetchError(
                f"the download of {url} was interrupted: received {received} of {expected} bytes. "
                f"Nothing was written to {target}; try again. " + _where_to_put(dataset, spec, target)
            )
    except urllib.error.HTTPError as error:
        raise FetchError(
            f"the server answered HTTP {error.code} ({error.reason}) for {url}. Nothing was written "
            f"to {target}. Try again later. " + _where_to_put(dataset, spec, target)
        ) from error
    except (http.client.IncompleteRead, ConnectionResetError) as error:
        raise FetchError(
            f"the download of {url} was interrupted ({error!r}). Nothing was written to {target}; "
            "try again. " + _where_to_put(dataset, spec, target)
        ) from error
    except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
        if isinstance(error, FetchError):
            raise
        reason = getattr(error, "reason", error)
        raise FetchError(
            f"could not download {url} ({reason}); are you offline? " + _where_to_put(dataset, spec, target)
        ) from error
