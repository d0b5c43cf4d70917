"""`survey-tui`: the command line. Each command is a thin shell over the core; the app is the default.

Commands live in `survey_tui/commands/`, one module per area, each with `register(subparsers)`;
`COMMAND_MODULES` lists them in the order `--help` shows.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui.core.problems import LoadError, Problem

if TYPE_CHECKING:
    from survey_tui.core.study import Study

Handler = Callable[[argparse.Namespace], int]

COMMAND_MODULES: list[str] = [  # in the order of a study: set up, questionnaire, recruit, collect, analyse, report
    "survey_tui.commands.study",
    "survey_tui.commands.xlsform",
    "survey_tui.commands.pilot",
    "survey_tui.commands.respondents",
    "survey_tui.commands.interview",
    "survey_tui.commands.weighting",
    "survey_tui.commands.tables",
    "survey_tui.commands.export",
    "survey_tui.commands.report",
]


def print_problems(problems: Sequence[Problem], stream=None) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        print(problem, file=stream or sys.stderr)


def resolve_study(given: str | None) -> Study:
    """The study named on the command line, else the one around the current directory."""
    from survey_tui.core.study import find_study_root, open_study  # here, so --help imports no model

    if given:
        return open_study(Path(given))
    root = find_study_root(Path.cwd())
    if root is None:
        raise LoadError(
            [
                Problem(
                    str(Path.cwd()),
                    "no study here or in any parent folder",
                    hint="give the study folder (--study DIR), or run 'survey-tui init' / 'survey-tui demo'",
                )
            ]
        )
    return open_study(root)


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survey-tui",
        description="Market research in the terminal: plan, questionnaire, respondents, fieldwork, "
        "analysis and report. With no command, opens the app on the study here (or STUDY).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()  # type: ignore[union-attr]
    if not argv or (argv[0] not in known and not argv[0].startswith("-")):
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.handler(args))
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    except KeyboardInterrupt:
        print("interrupted; nothing half-written (every answer is saved as it is given)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
