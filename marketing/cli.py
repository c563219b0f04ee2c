"""Command line: ``python -m marketing {reports,run,list}``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from marketing.cases import ANALYSES, CaseConfigError, get_case, list_cases


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

    sub.add_parser("list", help="cases, analyses and each template's parameters")

    args = parser.parse_args(argv)
    from marketing.reports import ParameterError, build, plan, summary, template_parameters
    from marketing.reports.build import NOTEBOOKS_DIR, REPORTS_DIR, template_path

    if args.command == "list":
        print("cases:")
        for name in list_cases():
            case = get_case(name)
            print(f"  {name:<10} {case.title}\n  {'':<10} analyses: {', '.join(case.analyses)}")
        for analysis in ANALYSES:
            template = template_path(analysis)
            if not template.exists():
                continue
            print(f"\n{analysis} ({template.relative_to(NOTEBOOKS_DIR.parent)}) parameters:")
            for name, spec in template_parameters(template).items():
                print(f"  {name:<18} = {spec['default']!r:<14} {spec['help']}")
        return 0

    try:
        overrides = _parameters(args.parameter, args.parameters_file)
        out = Path(args.output) if args.output else REPORTS_DIR
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
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = build(jobs, n_jobs=getattr(args, "jobs", 1), force=force, kernel=args.kernel,
                   timeout=args.timeout, no_input=args.no_input, reports_dir=out)
    print(summary(result))
    if result.interrupted:
        return 130
    return 1 if result.failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
