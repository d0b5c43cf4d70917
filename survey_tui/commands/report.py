"""`survey-tui report`: write a report to the study's `exports/` folder.

Each kind of report is a mode of the one command (`--preliminary` today); `MODES` maps the mode to its
writer, so the full report (T1.6) becomes the default mode without changing how the command is called.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _

if TYPE_CHECKING:
    from survey_tui.core.study import Study


def _preliminary(study: Study, args: argparse.Namespace) -> int:
    from survey_tui.core.plan.model import check_plan
    from survey_tui.report.preliminary import write_preliminary_report

    instruments, _skip = study.load_instruments()
    problems = check_plan(study.config, instruments.values())
    path = write_preliminary_report(study, path=Path(args.output) if args.output else None)
    print(_("Preliminary report written to {path}").format(path=path))
    if not study.config.report_format.approved:
        print(
            _("note: the report format is {status}, not approved; the report says so").format(
                status=study.config.report_format.status
            )
        )
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        print(
            _("note: the plan has {v0} problem(s); run 'survey-tui check' to see them").format(v0=len(errors)),
            file=sys.stderr,
        )
    return 0


def _full(study: Study, args: argparse.Namespace) -> int:
    from survey_tui.report.full_report import build_bundle, write_report

    formats = tuple(f.strip() for f in (getattr(args, "format", None) or "md,docx").split(",") if f.strip())
    unknown = [f for f in formats if f not in ("md", "docx", "pptx")]
    if unknown:
        print(
            _("survey-tui report: unknown format {v0!r}; use md, docx, pptx or md,docx").format(v0=unknown[0]),
            file=sys.stderr,
        )
        return 2
    lang = getattr(args, "lang", None)
    notes: list[str] = []
    for path in write_report(study, formats, lang, getattr(args, "paper", None) or "A4", notes):
        what = "List beside the report" if path.suffix == ".csv" else "Report skeleton"
        print(_("{what} written to {v1}").format(what=what, v1=study.relative(path)))
    for note in notes:
        print(_("note: {note}").format(note=note), file=sys.stderr)
    if getattr(args, "bundle", False):
        bundle = build_bundle(study, lang)
        print(
            _("Stakeholder bundle (report, tables, codebook, data without contact data): {v0}").format(
                v0=study.relative(bundle)
            )
        )
    return 0


#: mode -> writer; the mode is chosen by the flags (none = "full")
MODES: dict[str, Callable[[Study, argparse.Namespace], int]] = {"preliminary": _preliminary, "full": _full}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("report", help=_("write a report to exports/ (--preliminary: desk research and plan)"))
    p.add_argument(
        "--preliminary",
        dest="mode",
        action="store_const",
        const="preliminary",
        default="full",
        help=_("the preliminary research report (P1.1.4) from the plan in study.yaml, as Markdown"),
    )
    add_study_argument(p)
    p.add_argument("--output", "-o", help=_("write here instead of exports/"))
    p.add_argument(
        "--format",
        default="md,docx",
        help=_("full report: md, docx, pptx (the chart deck), comma-separated (default md,docx)"),
    )
    p.add_argument("--lang", help=_("full report: language of labels (default: the study's)"))
    p.add_argument("--paper", choices=("A4", "Letter"), default="A4", help=_("full report: Word page size (A4)"))
    p.add_argument("--bundle", action="store_true", help=_("full report: also zip report, codebook and data"))
    p.set_defaults(handler=cmd_report, checks_behind=True)  # reads, then writes files: see check_behind


def cmd_report(args: argparse.Namespace) -> int:
    try:
        study = resolve_study(args.study)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    return MODES[args.mode](study, args)
