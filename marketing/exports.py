"""Exports that are never half-written, and that a failed report never replaces.

An export (the audience for the CRM, a campaign list) is written completely under a hidden
temporary name in its own folder, then moved into place with :func:`os.replace`, so a reader of
``<stem>_crm_real_ids.csv`` sees the old file or the new one, never part of one.

A report build goes one step further (:class:`ExportStaging`): while a notebook runs, its exports
stay under their temporary names and are only listed in a staging folder (named by the
:data:`STAGING_ENV` environment variable, which the kernel inherits). When the notebook and its
HTML succeed, the builder moves every staged export into place; when the run fails, they are
deleted (they hold real ids, so a failed run's copy is not kept), and the export beside the last
good report stays the one that report describes. In JupyterLab nothing is staged: each export is
moved into place as soon as it is written.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from pathlib import Path

#: Set (by :class:`ExportStaging`) to the folder that lists the exports waiting for the report.
STAGING_ENV = "MARKETING_EXPORT_STAGING"
_MANIFEST = "exports.jsonl"


def temporary_path(target: str | Path) -> Path:
    """A hidden, unique name beside ``target`` to write it under (same folder: a rename is atomic).

    Examples
    --------
    >>> temporary_path("out/list_crm_real_ids.csv").name.startswith(".list_crm_real_ids.csv.")
    True
    """
    target = Path(target)
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.partial")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def put_in_place(written: str | Path, target: str | Path) -> Path:
    """Move the completely written file or folder ``written`` to ``target``, replacing what is there.

    A file replaces a file atomically. A folder (Spark's part files), or a file where a folder
    was, needs two renames: the old export is first moved aside, so ``target`` is briefly absent
    but never half-written.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> written = temporary_path(folder / "a.csv")
    >>> _ = written.write_text("id\\n7\\n")
    >>> put_in_place(written, folder / "a.csv").read_text()
    'id\\n7\\n'
    """
    written, target = Path(written), Path(target)
    if not (target.is_dir() or written.is_dir()) or not target.exists():
        os.replace(written, target)
        return target
    aside = temporary_path(target)
    os.replace(target, aside)
    os.replace(written, target)
    _remove(aside)
    return target


def publish(written: str | Path, target: str | Path) -> Path:
    """Put ``written`` in place as ``target`` now, or, during a report build, once the report succeeds.

    Returns ``target``: what the export will be called (a staged export is not there yet).
    """
    staging = os.environ.get(STAGING_ENV)
    if not staging:
        return put_in_place(written, target)
    entry = {"written": str(Path(written).resolve()), "target": str(Path(target).resolve())}
    with open(Path(staging) / _MANIFEST, "a", encoding="utf-8") as manifest:
        manifest.write(json.dumps(entry) + "\n")
    return Path(target)


class ExportStaging:
    """Hold back a notebook run's exports until the report succeeds (a context manager).

    On entry (or :meth:`start`) the folder ``folder`` is created and named in :data:`STAGING_ENV`,
    so a kernel started inside the block stages every export it writes (:func:`publish`).
    :meth:`commit` moves them into place, in the order written (an export written twice: the last
    wins). On exit (or :meth:`close`), whatever was not committed is deleted, the folder removed
    and the environment restored.

    Parameters
    ----------
    folder : str or Path
        A private folder for the list of staged exports (one left by a killed run is cleared).

    Examples
    --------
    >>> import tempfile
    >>> from marketing.privacy import write_crm_export
    >>> import pandas as pd
    >>> out = Path(tempfile.mkdtemp())
    >>> with ExportStaging(out / ".staging") as staging:
    ...     path = write_crm_export(pd.DataFrame({"customer_id": [7]}), out, "audience")
    ...     path.exists()
    False
    >>> path.exists()  # not committed: the run failed, the export is dropped
    False
    >>> with ExportStaging(out / ".staging") as staging:
    ...     path = write_crm_export(pd.DataFrame({"customer_id": [7]}), out, "audience")
    ...     [p.name for p in staging.commit()]
    ['audience_crm_real_ids.csv']
    >>> sorted(p.name for p in out.iterdir())
    ['audience_crm_real_ids.csv']
    """

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def __enter__(self) -> ExportStaging:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> ExportStaging:
        """Create the folder and name it in :data:`STAGING_ENV` (what entering the block does)."""
        if self.folder.exists():  # left by a run that was killed: its exports are stale
            self._discard()
        self.folder.mkdir(parents=True)
        self._previous = os.environ.get(STAGING_ENV)
        os.environ[STAGING_ENV] = str(self.folder.resolve())
        return self

    def _entries(self) -> list[dict]:
        manifest = self.folder / _MANIFEST
        if not manifest.exists():
            return []
        return [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line]

    def commit(self) -> list[Path]:
        """Move every staged export into place; return their paths."""
        done = []
        for entry in self._entries():
            done.append(put_in_place(entry["written"], entry["target"]))
        (self.folder / _MANIFEST).unlink(missing_ok=True)
        return done

    def close(self) -> None:
        """Delete what was not committed, remove the folder, restore the environment (what leaving does)."""
        if self._previous is None:
            os.environ.pop(STAGING_ENV, None)
        else:
            os.environ[STAGING_ENV] = self._previous
        self._discard()

    def _discard(self) -> None:
        for entry in self._entries():  # not committed: a failed run's exports are dropped
            _remove(Path(entry["written"]))
        shutil.rmtree(self.folder, ignore_errors=True)
