"""`survey-tui weight`: rake the data to the study's targets and write the weighting report to exports/."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import print_problems, resolve_study
from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.problems import LoadError

REPORT_FILE = "weighting.md"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "weight",
        help="RIM weighting to the targets in study.yaml: report of targets vs achieved to exports/",
        description="Rakes the field interviews (completed, exclusions removed) to the weighting: targets of "
        "study.yaml and prints targets vs achieved per cell, efficiency, effective base, min/max weight and "
        "iterations. Bad targets are reported with their line and nothing is written. The weight itself "
        "joins the data file (tables, every export) whenever targets are configured.",
    )
    p.add_argument("study_dir", nargs="?", metavar="STUDY", help="study folder (default: the one around here)")
    p.add_argument("--study", help="study folder (same as STUDY)")
    p.add_argument("--lang", help="language of the value labels, e.g. zh-TW or en (default: the study's)")
    p.add_argument("--out", default=REPORT_FILE, help=f"file name inside exports/ (default: {REPORT_FILE})")
    p.set_defaults(handler=cmd_weight)


def cmd_weight(args: argparse.Namespace) -> int:
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.analysis.weighting import NO_TARGETS, weigh_dataset

    try:
        study = resolve_study(args.study or args.study_dir)
        if study.config.weighting is None:
            raise LoadError([NO_TARGETS])
        if args.lang and args.lang not in study.config.languages:
            print(f"survey-tui weight: --lang {args.lang!r} is not one of {', '.join(study.config.languages)}")
            return 2
        dataset = load_dataset(study, include_coded=False, weighting=False)
        result = weigh_dataset(study, dataset, args.lang)
    except LoadError as exc:
        print_problems(exc.problems)
        print("nothing written", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"survey-tui weight: {exc}", file=sys.stderr)
        return 1
    text = result.report.markdown(study.config.title)
    print(text)
    study.exports_dir.mkdir(exist_ok=True)
    target = study.exports_dir / args.out
    write_text_atomic(target, text)
    if not result.report.converged:
        print(
            f"WARNING: the targets were not reached within {result.report.tolerance:g} points "
            f"(largest gap {result.report.max_gap:.3g}); raise max_iterations or loosen the caps",
            file=sys.stderr,
        )
    print(f"Weighting report -> {study.relative(target)}")
    return 0
