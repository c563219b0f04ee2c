"""Where a result came from: code version, environment and data, for reports and their records."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
ROOT = PACKAGE_DIR.parent
LOCK_FILE = ROOT / "requirements.lock"
KEY_LIBRARIES = ("pandas", "numpy", "scikit-learn", "scipy", "statsmodels", "implicit", "papermill", "pyspark")


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@cache
def package_fingerprint() -> str:
    """SHA-256 over the package's source and case files (paths and contents, in sorted order)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.suffix in (".py", ".yml", ".yaml") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PACKAGE_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def lock_fingerprint() -> str | None:
    """SHA-256 of requirements.lock, or None when running outside the repository."""
    return sha256_file(LOCK_FILE) if LOCK_FILE.is_file() else None


#: Set by a report build to the git state it read before starting (JSON), so that kernels report
#: the tree as it was, not as the build's own writes left it.
GIT_STATE_ENV = "MARKETING_GIT_STATE"


def git_state(cwd: str | Path = ROOT) -> dict:
    """The git commit of the repository and whether the work tree has uncommitted changes.

    Inside a report build the state read once before the build started is returned (from
    :data:`GIT_STATE_ENV`): the reports the build writes are tracked files, and must not make
    the next report's provenance say "dirty".
    """
    frozen = os.environ.get(GIT_STATE_ENV)
    if frozen:
        try:
            return json.loads(frozen)
        except ValueError:
            pass
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 else None

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"commit": commit, "dirty": bool(status) if status is not None else None}


def library_versions() -> dict[str, str | None]:
    def v(name: str) -> str | None:
        try:
            return version(name)
        except PackageNotFoundError:
            return None

    return {name: v(name) for name in KEY_LIBRARIES}


def environment() -> dict:
    """Package version, git state, lock fingerprint, Python and key library versions."""
    import marketing

    return {
        "marketing": marketing.__version__,
        "git": git_state(),
        "lock_sha256": lock_fingerprint(),
        "python": platform.python_version(),
        "libraries": library_versions(),
    }
