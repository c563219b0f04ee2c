"""Command line: ``python -m marketing {reports,run,check,list}``.

``check`` reads a case file and its data the way the notebooks will, without starting a kernel,
so that a typo or a bad column fails in seconds; ``run`` and ``reports`` do the same first for
case files. The heavy modules (papermill, the analyses) are imported only by the commands that
need them.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from marketing.cases import ANALYSES, CaseConfigError, CaseStudy, get_case, list_cases


def _parameters(pairs: list[list[str]] | None, files: list[str] | None) -> dict:
    from marketing.reports.params import read_parameter_file

    values: dict = {}
    for file in files or []:
        values.update(read_parameter_file(file))
    for key, value in pairs or []:
        values[key] = value
    return values


def _add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"),
                   help="override a template parameter (repeatable)")
    p.add_argument("-f", "--parameters-file", action="append", metavar="YAML",
                   help="parameters from a YAML file (before -p values)")
    p.add_argument("--no-input", action="store_true", help="hide the code in the HTML (stakeholder version)")
    p.add_argument("--kernel", default="python3", help="Jupyter kernel name (default: python3 of this environment)")
    p.add_argument("--timeout", type=int, default=900, help="seconds allowed per cell (default 900)")


def check_case(case: str | CaseStudy, analyses: list[str] | None = None) -> list[str]:
    """Check a case and its data as the notebooks will read them; return the verdict, line by line.

    The case file is checked against the schema, its data loaded and cleaned by
    :func:`marketing.datasets.load_case_data`, and each analysis' own input built: the
    segmentation features (:func:`marketing.features.customer_table`) and the regression
    problem with its targets (:func:`marketing.regression.regression_problem`).

    Parameters
    ----------
    case : str or CaseStudy
        A built-in case name or a case file.
    analyses : list of str, optional
        The analyses to check; default: every analysis the case declares. One the case does not
        declare raises :class:`marketing.cases.AnalysisNotApplicable`.

    Returns
    -------
    list of str
        The tables with their rows, customers and date range, what cleaning removed, and one
        line per analysis.

    Raises
    ------
    CaseConfigError, DataValidationError
        The first problem met in the data (every problem of the case file itself at once).

    Examples
    --------
    >>> print("\\n".join(check_case("data/examples/shop/case.yml", ["segmentation"])))  # doctest: +ELLIPSIS
    case shop (...case.yml), data files:shop/case.yml
      customers  300 rows
      items      300 rows
      events     5,873 rows of 300 customers, 2025-01-01 to 2025-12-31; observation end 2026-01-01
      cleaning   removed 212 rows of transactions: 6 missing customer id, 202 returns or cancellations (negative quantity or amount), 4 item not in the items table
      segmentation    ready: 4 features for 300 customers
      recommendation  not checked
      regression      not checked
    """
    from marketing.datasets import load_case_data

    case = get_case(case)
    chosen = list(analyses or case.analyses)
    for analysis in chosen:
        case.require(analysis)
    data = load_case_data(case)
    events = data.events
    lines = [
        f"case {case.name} ({case.path or 'built-in'}), data {data.source}",
        f"  customers  {len(data.customers):,} rows",
        f"  items      {len(data.items):,} rows",
        f"  events     {len(events):,} rows of {events['customer_id'].nunique():,} customers, "
        f"{events['timestamp'].min().date()} to {events['timestamp'].max().date()}; "
        f"observation end {data.observation_end.date()}" if data.observation_end is not None
        else "  events     none: one row per person",
    ]
    steps = data.cleaning.to_frame()
    removed = steps[steps["rows_removed"] > 0]
    for table, rows in removed.groupby("table", sort=False):
        counts = ", ".join(f"{n:,} {reason}" for reason, n in zip(rows["reason"], rows["rows_removed"]))
        lines.append(f"  cleaning   removed {int(rows['rows_removed'].sum()):,} rows of {table}: {counts}")
    if "values_set_missing" in steps:
        coded = steps[steps["values_set_missing"] > 0]
        for table, rows in coded.groupby("table", sort=False):
            counts = ", ".join(f"{n:,} {reason}" for reason, n in zip(rows["reason"], rows["values_set_missing"]))
            lines.append(f"  cleaning   set missing in {table}: {counts}")
    for analysis in ANALYSES:
        if analysis not in case.analyses:
            reason = case.not_applicable.get(analysis) or "not in the case's analyses"
            lines.append(f"  {analysis:<15} does not apply: {reason}")
        elif analysis not in chosen:
            lines.append(f"  {analysis:<15} not checked")
        else:
            lines.append(f"  {analysis:<15} ready: {_check_analysis(analysis, data)}")
    return lines


def _check_analysis(analysis: str, data) -> str:
    """Build the analysis' input from the data (its own checks raise); say what it holds."""
    case = data.case
    if analysis == "segmentation":
        from marketing.features import customer_table

        table = customer_table(data, case.segmentation_features)
        return f"{table.shape[1]} features for {len(table):,} customers"
    if analysis == "regression":
        from marketing.regression.problem import regression_problem

        problem = regression_problem(data)
        targets = ", ".join(f"{problem.target_column(k)} ({k})" for k in problem.targets)
        return f"targets {targets}; {problem.features.shape[1]} features"
    from marketing.datasets.content import content_columns

    content = content_columns(data)
    pairs = data.events[["customer_id", "item_id"]].drop_duplicates()
    described = (f"; content: {len(content.customer_columns)} customer and {len(content.item_columns)} item columns"
                 + (f", text {content.text_column!r}" if content.text_column else "")
                 if content.customer_columns or content.item_columns or content.text_column else "")
    return f"{pairs['item_id'].nunique():,} {case.item_kind} with events, {len(pairs):,} customer-item pairs{described}"


def _check_case_files(cases: list[str] | None, analyses: list[str] | None, overrides: dict) -> None:
    """Before papermill starts: check each case *file* reading its own files (built-ins are valid)."""
    if overrides.get("data_path"):
        return  # the notebooks read that folder instead of the case's files
    for name in cases or []:
        case = get_case(name).for_source(overrides.get("data_source"))
        if case.source != "files":
            continue
        chosen = [a for a in (analyses or ANALYSES) if case.applies(a)]
        if chosen:
            check_case(case, chosen)
            print(f"checked {case.path}: {', '.join(chosen)} ready")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m marketing", description="Marketing analytics case studies.")
    sub = parser.add_subparsers(dest="command", required=True)

    rep = sub.add_parser("reports", help="build the report matrix (cached; failures isolated)")
    rep.add_argument("--case", action="append", help="a case name or case file (repeatable; default: all built-in)")
    rep.add_argument("--analysis", action="append", choices=ANALYSES, help="repeatable; default: all three")
    rep.add_argument("-j", "--jobs", type=int, default=None, help="worker processes (default: number of cores)")
    rep.add_argument("--force", action="store_true", help="re-run even reports whose inputs did not change")
    rep.add_argument("--data", choices=("synthetic", "public"), default="synthetic",
                     help="public: each case's public dataset, into reports/public/ (built on demand, not committed)")
    rep.add_argument("-o", "--output", default=None, help="reports folder (default: reports/, or reports/public/)")
    _add_common(rep)

    run = sub.add_parser("run", help="run one case and analysis (always executes)")
    run.add_argument("--case", required=True, help="a case name or the path of a case file (.yml)")
    run.add_argument("--analysis", required=True, choices=ANALYSES)
    run.add_argument("-o", "--output", default=None, help="reports folder (default: reports/)")
    _add_common(run)

    chk = sub.add_parser("check", help="check a case file and its data in seconds, without running a notebook")
    chk.add_argument("case", help="a case file (.yml) or a built-in case name")
    chk.add_argument("--analysis", action="append", choices=ANALYSES,
                     help="check only this analysis (repeatable; default: the case's analyses)")

    sub.add_parser("list", help="cases, analyses and each template's parameters")

    args = parser.parse_args(argv)
    if args.command == "check":
        return _check_command(args.case, args.analysis)
    from marketing.reports import ParameterError, build, plan, summary
    from marketing.reports.build import REPORTS_DIR

    if args.command == "list":
        return _list_command()
    try:
        overrides = _parameters(args.parameter, args.parameters_file)
        out = Path(args.output) if args.output else REPORTS_DIR
        _check_case_files([args.case] if args.command == "run" else args.case,
                          [args.analysis] if args.command == "run" else args.analysis, overrides)
        if args.command == "run":
            jobs = plan([args.case], [args.analysis], overrides, reports_dir=out)
            force = True
        else:
            if args.data == "public":
                overrides["data_source"] = "public"
                out = Path(args.output) if args.output else REPORTS_DIR / "public"
            jobs = plan(args.case, args.analysis, overrides, reports_dir=out)
            force = args.force
    except (ParameterError, CaseConfigError, ValueError) as exc:
        # ValueError covers marketing.validation.DataValidationError without importing pandas
        # here: a warm `reports` with nothing to do must start in well under a second
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = build(jobs, n_jobs=getattr(args, "jobs", 1), force=force, kernel=args.kernel,
                   timeout=args.timeout, no_input=args.no_input, reports_dir=out)
    print(summary(result))
    if result.interrupted:
        return 130
    return 1 if result.failed else 0


#: The CRM export each template writes next to its report, through
#: :func:`marketing.privacy.crm_export_path` (``<stem>_crm_real_ids.csv``); spelled out here so that
#: ``list`` does not import pandas (a test keeps it in step with the writers).
EXPORTS = {
    "segmentation": "segment_audience_crm_real_ids.csv",
    "recommendation": "recommendation_campaign_crm_real_ids.csv",
    "regression": "contact_list_crm_real_ids.csv",
}


def example_cases() -> list[Path]:
    """The example own-data case files shipped in ``data/examples/*/case.yml`` (none when installed)."""
    from marketing.cases import REPO_ROOT

    return sorted((REPO_ROOT / "data" / "examples").glob("*/case.yml")) if REPO_ROOT else []


def list_lines() -> list[str]:
    """What ``python -m marketing list`` prints: cases, example case files, templates, exports.

    Reads the case files and each template's ``parameters`` cell only: no data is loaded and
    neither pandas nor papermill is imported.

    Returns
    -------
    list of str

    Examples
    --------
    >>> lines = list_lines()
    >>> any("data/examples/shop/case.yml" in line for line in lines)
    True
    >>> any("segment_audience_crm_real_ids.csv" in line for line in lines)
    True
    """
    from marketing.cases import REPO_ROOT
    from marketing.reports.build import NOTEBOOKS_DIR, template_path
    from marketing.reports.params import template_parameters

    lines = ["cases:"]
    for name in list_cases():
        case = get_case(name)
        lines += [f"  {name:<10} {case.title}", f"  {'':<10} analyses: {', '.join(case.analyses)}"]
    examples = example_cases()
    if examples:
        lines += ["", "example case files (your own data: copy one, then pass its path as --case):"]
    for path in examples:
        shown = path.relative_to(REPO_ROOT).as_posix()
        try:
            case = get_case(path)
        except CaseConfigError as exc:  # one broken example must not hide the others
            lines += [f"  {shown}", f"  {'':<10} error: {str(exc).splitlines()[0]}"]
            continue
        lines += [f"  {shown}  {case.title}", f"  {'':<10} analyses: {', '.join(case.analyses)}"]
    for analysis in ANALYSES:
        template = template_path(analysis)
        if not template.exists():
            continue
        lines += ["", f"{analysis} ({template.relative_to(NOTEBOOKS_DIR.parent).as_posix()}) parameters:"]
        for name, spec in template_parameters(template).items():
            lines.append(f"  {name:<18} = {spec['default']!r:<14} {spec['help']}")
        lines.append(f"  exports: {EXPORTS[analysis]} in export_dir (real customer ids, for the CRM only)")
    return lines


def _list_command() -> int:
    print("\n".join(list_lines()))
    return 0


def _check_command(case: str, analyses: list[str] | None) -> int:
    from marketing.validation import DataValidationError

    start = time.perf_counter()
    try:
        lines = check_case(case, analyses)
    except (CaseConfigError, DataValidationError, ValueError) as exc:
        # a user's data problem: the message says what to fix, a traceback would only hide it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    print(f"ok: ready to run ({time.perf_counter() - start:.1f} s, no kernel started)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
