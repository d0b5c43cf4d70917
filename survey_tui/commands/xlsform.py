"""`survey-tui xlsform import|export`: questionnaires to and from the XLSForm standard (ODK, Kobo, SurveyCTO)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("xlsform", help=_("import an XLSForm (.xlsx/.xls/.md) or export an instrument to one"))
    actions = p.add_subparsers(dest="xlsform_action", metavar="ACTION", required=True)

    imp = actions.add_parser("import", help=_("read an XLSForm and write an instrument YAML"))
    imp.add_argument("file", help=_("the XLSForm: .xlsx, .xls or pyxform's markdown (.md)"))
    add_study_argument(imp)
    imp.add_argument("-o", "--output", help=_("where to write the YAML (default: instruments/<id>.yaml)"))
    imp.add_argument("--strict", action="store_true", help=_("fail when anything cannot be imported"))
    imp.add_argument("--force", action="store_true", help=_("replace an existing file"))
    imp.set_defaults(handler=cmd_import)

    exp = actions.add_parser("export", help=_("write an instrument as an XLSForm (.xlsx)"))
    exp.add_argument("instrument", help=_("instrument id or YAML file"))
    add_study_argument(exp)
    exp.add_argument("-o", "--output", help=_("the .xlsx to write (default: exports/<id>.xlsx)"))
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
            _("strict mode: {v0} construct(s) could not be imported; nothing written").format(v0=len(result.problems)),
            file=sys.stderr,
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
        print(
            _("{target} exists; use --force to replace it or -o to write elsewhere").format(target=target),
            file=sys.stderr,
        )
        return 1
    result.write(target)
    print(
        _("Imported {questions} question(s) from {name} into {target}").format(
            questions=result.questions, name=source.name, target=target
        )
    )
    if result.problems:
        print(_("{v0} row(s) need attention (listed above)").format(v0=len(result.problems)))
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
        print(_("note: {note}").format(note=note), file=sys.stderr)
    print(_("XLSForm written to {target}").format(target=target))
    return 0
