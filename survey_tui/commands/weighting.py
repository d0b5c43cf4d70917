"""`survey-tui weight`: rake the data to the study's targets and write the weighting report to exports/."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _

REPORT_FILE = "weighting.md"


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "weight",
        help=_("RIM weighting to the targets in study.yaml: report of targets vs achieved to exports/"),
        description=_(
            "Rakes the field interviews (completed, exclusions removed) to the weighting: targets of "
            "study.yaml and prints targets vs achieved per cell, efficiency, effective base, min/max weight and "
            "iterations. Bad targets are reported with their line and nothing is written. The weight itself "
            "joins the data file (tables, every export) whenever targets are configured."
        ),
    )
    add_study_argument(p, positional="deprecated")
    p.add_argument("--lang", help=_("language of the value labels, e.g. zh-TW or en (default: the study's)"))
    p.add_argument(
        "-o",
        "--output",
        default=REPORT_FILE,
        help=_("file name inside exports/ (default: {file}; was --out)").format(file=REPORT_FILE),
    )
    p.set_defaults(handler=cmd_weight)


def cmd_weight(args: argparse.Namespace) -> int:
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.analysis.weighting import NO_TARGETS, weigh_dataset

    try:
        study = resolve_study(args.study)
        if study.config.weighting is None:
            raise LoadError([NO_TARGETS])
        if args.lang and args.lang not in study.config.languages:
            print(
                _("survey-tui weight: --lang {lang!r} is not one of {v1}").format(
                    lang=args.lang, v1=", ".join(study.config.languages)
                )
            )
            return 2
        dataset = load_dataset(study, include_coded=False, weighting=False)
        result = weigh_dataset(study, dataset, args.lang)
    except LoadError as exc:
        print_problems(exc.problems)
        print(_("nothing written"), file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"survey-tui weight: {exc}", file=sys.stderr)
        return 1
    text = result.report.markdown(study.config.title)
    print(text)
    study.exports_dir.mkdir(exist_ok=True)
    target = study.exports_dir / args.output
    write_text_atomic(target, text)
    if not result.report.converged:
        print(
            _(
                "WARNING: the targets were not reached within {tolerance:g} points (largest gap {max_gap:.3g}); "
                "raise max_iterations or loosen the caps"
            ).format(tolerance=result.report.tolerance, max_gap=result.report.max_gap),
            file=sys.stderr,
        )
    print(_("Weighting report -> {v0}").format(v0=study.relative(target)))
    return 0
