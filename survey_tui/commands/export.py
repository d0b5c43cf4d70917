"""`survey-tui export`: write the study's data for SPSS, Stata, Excel and other tools to exports/."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _, shown


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("export", help=_("write the data as SPSS, Stata, CSV, Parquet, XLSX, Triple-S and codebook"))
    add_study_argument(p)
    p.add_argument(
        "--format",
        default="all",
        help=_("comma-separated: sav,dta,csv,parquet,xlsx,sss,codebook or all (default: all)"),
    )
    p.add_argument("--lang", help=_("language of labels, e.g. zh-TW or en (default: the study's)"))
    p.add_argument("--pilot", action="store_true", help=_("add pilot interviews (left out by default)"))
    p.add_argument(
        "--include-contacts",
        action="store_true",
        help=_("also write a respondent file WITH contact data (name, phone, e-mail, address)"),
    )
    p.add_argument("--keep-excluded", action="store_true", help=_("keep interviews excluded in the quality review"))
    p.add_argument("--bom", action="store_true", help=_("CSV with a byte-order mark (Excel on Chinese Windows)"))
    p.add_argument("--sss-version", choices=("3.0", "2.0"), default="3.0", help=_("Triple-S version (default 3.0)"))
    p.add_argument("--instrument", help=_("instrument id (default: the only one)"))
    p.add_argument(
        "--xlsx-stream-rows",
        type=int,
        default=50_000,
        metavar="N",
        help=_("an xlsx data file over N rows is written in constant-memory mode (default 50000)"),
    )
    p.set_defaults(handler=cmd_export, checks_behind=True)  # reads, then writes files: see check_behind


def cmd_export(args: argparse.Namespace) -> int:
    from survey_tui.io.export import ExportError, ExportOptions, run_export

    try:
        study = resolve_study(args.study)
        options = ExportOptions(
            formats=ExportOptions.parse_formats(args.format),
            language=args.lang,
            pilot=args.pilot,
            include_contacts=args.include_contacts,
            keep_excluded=args.keep_excluded,
            bom=args.bom,
            sss_version=args.sss_version,
            instrument_id=args.instrument,
            xlsx_stream_rows=args.xlsx_stream_rows,
        )
        result = run_export(study, options, progress=lambda text, fraction: print(f"[{fraction:4.0%}] {text}"))
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    except (ExportError, ValueError) as exc:
        print(f"survey-tui export: {exc}", file=sys.stderr)
        return 1
    for entry in result.entries:
        shape = _("{rows} rows").format(rows=entry.rows) if entry.rows is not None else ""
        if entry.rows is not None and entry.columns is not None:
            shape += _(" x {columns} columns").format(columns=entry.columns)
        print(f"  {entry.file}  {shape}")
    for text in result.filters:
        print(_("  filter: {text}").format(text=shown(text)))
    for warning in result.warnings:
        print(_("WARNING: {warning}").format(warning=shown(warning)), file=sys.stderr)
    print(_("Manifest: {v0}").format(v0=study.relative(result.manifest)))
    return 0
