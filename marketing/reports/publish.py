"""HTML export of executed notebooks, and the index page of all reports. Both open offline."""

from __future__ import annotations

import copy
import html
import json
import os
import re
from datetime import datetime, timezone
from pathlib import Path

# Reports need no JavaScript (figures are embedded PNGs, tables are HTML); the template's
# CDN scripts (require.js, MathJax) would only make the page reach for the internet.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.I)
_REMOTE_CSS = re.compile(r"<link[^>]*\bhref=[\"']https?://[^>]*>", re.I)


#: The HTML names the inputs and the version (code or stakeholder) it was made from, so that a
#: build can tell a current page from a stale one without reading the notebook.
_STAMP = re.compile(r'<meta name="marketing-report" content="inputs=(\w*);no_input=([01])">')
# what a stakeholder does not need: the exercises, the machine-readable record, engine notes
_TRY_IT = re.compile(r"^#+\s*(\d+\.\s*)?Try it\b", re.I | re.M)
_RECORD_HEADING = re.compile(r"^#+\s*Record of key results", re.I | re.M)
_ENGINE_NOTE = re.compile(r"^(Engine \w+: every step.*|.*: not on engine \w+ \(see the engine note at the top\)\.)\n?",
                          re.M)
STAKEHOLDER_HIDE_TAG = "stakeholder-hide"


def stakeholder_cells(cells: list) -> list:
    """The cells of the stakeholder version: without the "Try it" prompts, the record cell and
    its heading, and the engine notes (cells are recognised by their content, or by the tag
    :data:`STAKEHOLDER_HIDE_TAG`).

    Examples
    --------
    >>> import nbformat
    >>> v4 = nbformat.v4
    >>> out = v4.new_output("stream", name="stdout", text="Engine pandas: every step of this analysis runs.\\n")
    >>> cells = [v4.new_markdown_cell("## Try it\\n- more"), v4.new_code_cell("record_metrics(r)"),
    ...          v4.new_code_cell("print(note)", outputs=[out]), v4.new_markdown_cell("## Results")]
    >>> [c.source for c in stakeholder_cells(cells)]
    ['print(note)', '## Results']
    >>> stakeholder_cells(cells)[0].outputs
    []
    """
    kept = []
    for cell in cells:
        source = cell.get("source", "")
        if STAKEHOLDER_HIDE_TAG in cell.get("metadata", {}).get("tags", []):
            continue
        if cell.get("cell_type") == "markdown" and (_TRY_IT.search(source) or _RECORD_HEADING.search(source)):
            continue
        if cell.get("cell_type") == "code" and "record_metrics(" in source:
            continue
        if cell.get("cell_type") == "code":
            cell = copy.deepcopy(cell)
            outputs = []
            for output in cell.get("outputs", []):
                if output.get("output_type") == "stream":
                    output["text"] = _ENGINE_NOTE.sub("", output.get("text", ""))
                    if not output["text"]:
                        continue
                outputs.append(output)
            cell["outputs"] = outputs
        kept.append(cell)
    return kept


def export_html(notebook: str | Path, target: str | Path, no_input: bool = False, inputs: str = "") -> Path:
    """Write ``notebook`` as a self-contained HTML page.

    ``no_input`` makes the stakeholder version: no code, and none of :func:`stakeholder_cells`'
    exercises, record or engine notes. ``inputs`` (the report's input fingerprint) is stamped in
    the page's head with the version, for :func:`html_stamp`.
    """
    import nbformat
    from nbconvert import HTMLExporter

    nb = nbformat.read(str(notebook), as_version=4)
    if no_input:
        nb.cells = stakeholder_cells(nb.cells)
    exporter = HTMLExporter(template_name="lab", exclude_input=no_input, exclude_input_prompt=no_input,
                            exclude_output_prompt=no_input)
    body, _ = exporter.from_notebook_node(nb)
    body = _REMOTE_CSS.sub("", _REMOTE_SCRIPT.sub("", body))
    stamp = f'<meta name="marketing-report" content="inputs={inputs};no_input={int(no_input)}">'
    body = re.sub(r"<head[^>]*>", lambda m: m.group(0) + stamp, body, count=1)
    Path(target).write_text(body, encoding="utf-8")
    return Path(target)


def html_stamp(path: str | Path) -> tuple[str, bool] | None:
    """The (input fingerprint, no_input) an HTML report was exported with; None if unknown.

    Reads only the page's first kilobytes (the stamp is in its head), so a build's up-to-date
    check stays cheap.
    """
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return None
    match = _STAMP.search(head)
    return (match.group(1), match.group(2) == "1") if match else None


def _key_metrics(record: dict) -> str:
    m = record.get("metrics") or {}
    a = record.get("analysis")
    if a == "segmentation":
        parts = [("k", m.get("n_segments")), ("silhouette", m.get("silhouette")),
                 ("stability ARI", m.get("stability_ari")), ("truth ARI", m.get("truth_ari"))]
    elif a == "recommendation":
        best = m.get("best_model")
        models = m.get("models") or {}
        ndcg = (models.get(best) or {}).get("ndcg")
        pop = (models.get("popularity") or {}).get("ndcg")
        parts = [("best", best), (f"NDCG@{m.get('k')}", ndcg), ("popularity", pop)]
    elif a == "regression":
        parts = []
        for kind, metric in (("continuous", "r2"), ("binary", "roc_auc")):
            block = m.get(kind) or {}
            chosen = block.get("best_model")
            # the chosen model's held-out score (chosen on the training part), not the best test score
            value = ((block.get("models") or {}).get(chosen) or {}).get(metric)
            parts.append((f"{block.get('target', kind)}: {chosen} {metric.upper()}", value))
    else:
        parts = []
    return ", ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in parts if v is not None)


def write_index(reports_dir: str | Path) -> Path:
    """Write ``index.html``: every case and analysis with status, key metrics and links."""
    reports_dir = Path(reports_dir)
    records = []
    for path in sorted(reports_dir.glob("*/*.json")):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if {"case", "analysis", "status"} <= set(record):
            records.append((path, record))
    rows = []
    for path, r in records:
        folder = path.parent.relative_to(reports_dir).as_posix()
        links = []
        if (path.parent / f"{r['analysis']}.html").exists():
            links.append(f'<a href="{folder}/{r["analysis"]}.html">report</a>')
        if (path.parent / f"{r['analysis']}.ipynb").exists():
            links.append(f'<a href="{folder}/{r["analysis"]}.ipynb">notebook</a>')
        if r.get("failed_notebook"):
            links.append(f'<a href="{folder}/{r["failed_notebook"]}">failed run</a>')
        detail = r.get("reason") or (r.get("error") or {}).get("message", "") if r["status"] != "ok" else _key_metrics(r)
        rows.append(
            f"<tr class='{html.escape(r['status'])}'><td>{html.escape(r['case'])}</td>"
            f"<td>{html.escape(r['analysis'])}</td><td>{html.escape(r['status'])}</td>"
            f"<td>{html.escape(str(detail))}</td><td>{r.get('duration_s') or ''}</td>"
            f"<td>{' · '.join(links)}</td></tr>"
        )
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Marketing analytics reports</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }}
th, td {{ text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }}
tr.failed td:nth-child(3) {{ color: #b00; font-weight: bold; }}
tr.not_applicable td {{ color: #777; }}
tr.ok td:nth-child(3) {{ color: #070; }}
</style></head><body>
<h1>Marketing analytics reports</h1>
<p>{len(records)} report(s); index written {stamp}. Each report's last section and its .json record give its provenance.</p>
<table><thead><tr><th>case</th><th>analysis</th><th>status</th><th>key results</th><th>seconds</th><th>open</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
"""
    target = reports_dir / "index.html"
    reports_dir.mkdir(parents=True, exist_ok=True)
    # atomically: a full disk or a read-only folder leaves the last good index, and no partial file
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        partial.write_text(page, encoding="utf-8")
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target
