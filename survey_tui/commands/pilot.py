"""Versions and pilot commands: list versions, diff two of them, write the pilot report."""

from __future__ import annotations

import argparse

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("versions", help=_("list an instrument's published versions, or diff two of them"))
    p.add_argument("instrument", nargs="?", help=_("instrument id (default: the only one)"))
    add_study_argument(p)
    p.add_argument("--diff", nargs=2, metavar=("A", "B"), help=_("versions to compare, e.g. 1 2 or 2 draft"))
    p.add_argument("--markdown", action="store_true", help=_("print the diff as Markdown"))
    p.set_defaults(handler=cmd_versions)

    p = sub.add_parser("pilot-report", help=_("write the pilot report (Markdown) to exports/"))
    p.add_argument("instrument", nargs="?")
    add_study_argument(p)
    p.add_argument("--version", type=int, help=_("piloted version (default: the latest piloted one)"))
    p.set_defaults(handler=cmd_pilot_report)


def cmd_versions(args: argparse.Namespace) -> int:
    from survey_tui.core.instrument.versions import diff_versions, draft_status, interview_counts_by_version

    try:
        study = resolve_study(args.study)
        instrument = study.load_instrument(args.instrument)
        if args.diff:
            diff = diff_versions(study, instrument.id, args.diff[0], args.diff[1])
            if args.markdown:
                print(diff.markdown(), end="")
            else:
                print(f"{instrument.id}: {diff.old_label} → {diff.new_label}")
                for line in diff.lines() or ["no changes"]:
                    print("  " + line)
            return 0
        counts = interview_counts_by_version(study, instrument.id)
        with study.store() as store:
            versions = store.versions(instrument.id)
        for v in versions:
            modes = ", ".join(f"{m} {n}" for m, n in sorted(counts.get(v.version, {}).items())) or "no interviews"
            print(f"v{v.version}  {v.published_at[:16]}  {v.sha256[:10]}  {modes}  {v.note or ''}".rstrip())
        print(_("file: {v0}").format(v0=draft_status(study, instrument.id).describe()))
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    return 0


def cmd_pilot_report(args: argparse.Namespace) -> int:
    from survey_tui.report.pilot_report import build_pilot_report

    try:
        study = resolve_study(args.study)
        path, _skip = build_pilot_report(study, args.instrument, args.version)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    print(_("Pilot report written to {v0}").format(v0=study.relative(path)))
    return 0
