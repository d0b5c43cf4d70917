"""`survey-tui xlsform import|export`: questionnaires to and from the XLSForm standard (ODK, Kobo, SurveyCTO)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey_tui.cli import print_problems, resolve_study
from survey_tui.core.problems import LoadError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("xlsform", help="import an XLSForm (.xlsx/.xls/.md) or export an instrument to one")
    actions = p.add_subparsers(dest="xlsform_action", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help="read an XLSForm and write an instrument YAML")
    imp.add_argument("file", help="the XLSForm: .xlsx, .xls or pyxform's markdown (.md)")
    imp.add_argument("--study", help="study folder: the instrument goes to its instruments/")
    imp.add_argument("-o", "--output", help="where to write the YAML (default: instruments/<id>.yaml)")
    imp.add_argument("--strict", action="store_true", help="fail when anything cannot be imported")
    imp.add_argument("--force", action="store_true", help="replace an existing file")
    imp.set_defaults(handler=cmd_import)

    exp = actions.add_parser("export", help="write an instrument as an XLSForm (.xlsx)")
    exp.add_argument("instrument", help="instrument id or YAML file")
    exp.add_argument("--study")
    exp.add_argument("-o", "--output", help="the .xlsx to write (default: exports/<id>.xlsx)")
    exp.set_defaults(handler=cmd_export)


def cmd_import(args: argparse.Namespace) -> int:
    from survey_tui.io.xlsform import import_xlsform

    source = Path(args.file)
    try:
        result = import_xlsform(source)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if args.strict and result.problems:
        print(
            f"strict mode: {len(result.problems)} construct(s) could not be imported; nothing written", file=sys.stderr
        )
        return 1
    if args.output:
        target = Path(args.output)
    else:
        try:
            study = resolve_study(args.study)
        except LoadError as exc:
            if args.study:  # a folder named as the study must be one: never write somewhere else instead
                print_problems(exc.problems)
                return 1
            target = Path(f"{result.instrument_id}.yaml")
        else:
            target = study.instruments_dir / f"{result.instrument_id}.yaml"
    if target.exists() and not args.force:
        print(f"{target} exists; use --force to replace it or -o to write elsewhere", file=sys.stderr)
        return 1
    result.write(target)
    print(f"Imported {result.questions} question(s) from {source.name} into {target}")
    if result.problems:
        print(f"{len(result.problems)} row(s) need attention (listed above)")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from survey_tui.core.instrument.loader import load_instrument
    from survey_tui.io.xlsform import export_xlsform

    try:
        given = Path(args.instrument)
        study = None
        if given.suffix in (".yaml", ".yml") and given.is_file():
            instrument = load_instrument(given)
        else:
            study = resolve_study(args.study)
            instrument = study.load_instrument(args.instrument)
        if args.output:
            target = Path(args.output)
        elif study is not None:
            target = study.exports_dir / f"{instrument.id}.xlsx"
        else:
            target = Path(f"{instrument.id}.xlsx")
        notes = export_xlsform(instrument, target)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"XLSForm written to {target}")
    return 0
