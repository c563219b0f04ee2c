"""The report pipeline: the run matrix, papermill execution, HTML, records and the index page."""

from marketing.reports.build import BuildResult, Job, build, plan, summary
from marketing.reports.params import ParameterError, template_parameters, validate_parameters
from marketing.reports.publish import export_html, write_index

__all__ = [
    "BuildResult",
    "Job",
    "ParameterError",
    "build",
    "export_html",
    "plan",
    "summary",
    "template_parameters",
    "validate_parameters",
    "write_index",
]
