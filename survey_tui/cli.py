"""`survey-tui`: the command line. Each command is a thin shell over the core; the app is the default.

Commands live in `survey_tui/commands/`, one module per area, each with `register(subparsers)`;
`COMMAND_MODULES` lists them in the order `--help` shows.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui import __version__
from survey_tui.core.problems import LoadError, Problem, escape_controls
from survey_tui.i18n import N_, _, choose_language, normalise, set_language

if TYPE_CHECKING:
    from survey_tui.core.study import Study

Handler = Callable[[argparse.Namespace], int]

COMMAND_MODULES: list[str] = [  # in the order of a study: set up, questionnaire, recruit, collect, analyse, report
    "survey_tui.commands.study",
    "survey_tui.commands.xlsform",
    "survey_tui.commands.pilot",
    "survey_tui.commands.respondents",
    "survey_tui.commands.interview",
    "survey_tui.commands.device",
    "survey_tui.commands.fieldwork",
    "survey_tui.commands.weighting",
    "survey_tui.commands.tables",
    "survey_tui.commands.export",
    "survey_tui.commands.report",
    "survey_tui.commands.privacy",
    "survey_tui.commands.server",
]


def print_problems(problems: Sequence[Problem], stream=None) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        print(problem, file=stream or sys.stderr)


#: argparse destinations that name the file or folder a command works on, most specific first
_PLACE_ARGS = ("file", "output", "out", "instrument", "dir", "study")


def _command_name(args: argparse.Namespace) -> str:
    words = [args.command] + [
        v for k, v in sorted(vars(args).items()) if k.endswith(("_command", "_action")) and isinstance(v, str)
    ]
    return "survey-tui " + " ".join(words)


def _place(args: argparse.Namespace, exc: BaseException) -> str:
    """The file the failure is about: the one the exception names, else the command's own file argument."""
    for candidate in (getattr(exc, "filename", None), *(getattr(args, a, None) for a in _PLACE_ARGS)):
        if isinstance(candidate, str | os.PathLike) and str(candidate):
            return str(candidate)
    return str(Path.cwd())


def _position(exc: BaseException) -> str:
    """Line and column where a parser says it stopped (lxml's XMLSyntaxError, yaml marks, csv errors)."""
    line = getattr(exc, "lineno", None)
    position = getattr(exc, "position", None)
    if isinstance(position, tuple) and len(position) == 2:
        return f":{position[0]}:{position[1]}"
    return f":{line}" if isinstance(line, int) and line > 0 else ""


#: what a file-system failure means for the user (said in the interface language through `_`)
_OS_WORDS = {
    errno.ENOSPC: N_("the disk is full; nothing was half-written, free some space and run it again"),
    errno.EDQUOT: N_("the disk quota is used up; nothing was half-written"),
    errno.EACCES: N_("permission denied (the file or its folder is read-only for you)"),
    errno.EPERM: N_("permission denied"),
    errno.EROFS: N_("the file system is read-only"),
    errno.ENOTDIR: N_("a part of this path is a file, not a folder"),
    errno.EISDIR: N_("this is a folder, where a file was expected"),
    errno.EEXIST: N_("this already exists (and is not what was expected here)"),
    errno.ENOENT: N_("no such file or folder"),
    errno.ENAMETOOLONG: N_("the name is too long for the file system"),
}


def describe_failure(args: argparse.Namespace, exc: BaseException) -> str:
    """One located line for any failure a command did not turn into a Problem itself (a third-party parser
    or writer, the file system, SQLite), so no input ever ends in a traceback."""
    from survey_tui.core.store.sqlite import StoreError  # the store module is light (stdlib only)

    command = _command_name(args)
    if isinstance(exc, StoreError):
        return escape_controls(f"{command}: {exc}")
    place = _place(args, exc)
    if isinstance(exc, OSError) and exc.errno in _OS_WORDS:
        return escape_controls(f"{command}: {place}: {_(_OS_WORDS[exc.errno])}")
    if type(exc).__module__ == "sqlite3" or type(exc).__module__.startswith("sqlite3."):
        return escape_controls(f"{command}: {place}: " + _("the study database failed: {error}").format(error=exc))
    if type(exc).__module__.startswith("psycopg"):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        said = _("the study server refused or failed: {error}; nothing was changed").format(error=first)
        return escape_controls(f"{command}: {said}")
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = detail if len(detail) <= 300 else detail[:300] + "..."
    what = type(exc).__name__ + (f": {detail}" if detail else "")
    said = _("cannot be processed ({error}); nothing was changed").format(error=what)
    return escape_controls(f"{command}: {place}{_position(exc)}: {said}")


def _silence_stdout() -> None:
    """The reader of our output went away (`| head`): stop writing to it, quietly (Python's recommended way)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


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


STUDY_HELP = N_("study folder (default: the one around the current folder)")


def add_study_argument(parser: argparse.ArgumentParser, *, positional: str = "") -> None:
    """`--study DIR`, the one spelling every command takes; `positional` keeps an older bare STUDY working
    ("open" takes it for good, others with a deprecation note: see `_study_from_positional`)."""
    parser.add_argument("--study", metavar="DIR", help=_(STUDY_HELP))
    if positional == "kept":
        parser.add_argument("study_positional", nargs="?", metavar="STUDY", help=_("the same as --study"))
    elif positional == "deprecated":
        parser.add_argument("study_positional", nargs="?", metavar="STUDY", help=argparse.SUPPRESS)


def _study_from_positional(args: argparse.Namespace, argv: list[str]) -> None:
    """A bare STUDY becomes --study; a deprecated one says so on stderr (it keeps working for now)."""
    given = getattr(args, "study_positional", None)
    if given is None:
        return
    if args.study and args.study != given:
        raise LoadError([Problem(given, _("give the study once: either --study DIR or the folder, not both"))])
    args.study = given
    if argv and argv[0] in DEPRECATED_POSITIONAL_STUDY:
        note = _(
            "note: 'survey-tui {command} STUDY' is now 'survey-tui {command} --study STUDY' "
            "(the old spelling still works for now)"
        )
        print(note.format(command=argv[0]), file=sys.stderr)


#: commands that took the study folder as a bare argument before --study was everywhere
DEPRECATED_POSITIONAL_STUDY = ("check", "weight")


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


#: argparse's own words (usage, section titles, errors), so that --help and its errors speak the interface
#: language too: argparse looks them up through its module's `_`, pointed at our catalog in build_parser
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("unrecognized arguments: %s"),
    N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("%(prog)s: error: %(message)s\n"),
)


def build_parser() -> argparse.ArgumentParser:
    argparse._ = _  # type: ignore[attr-defined]  # argparse's words in the interface language
    parser = argparse.ArgumentParser(
        prog="survey-tui",
        description=_(
            "Market research in the terminal: plan, questionnaire, respondents, fieldwork, "
            "analysis and report. With no command, opens the app on the study here (or STUDY)."
        ),
    )
    parser.add_argument(  # Python 3.11's argparse default for this help never passes through its `_`
        "--version",
        action="version",
        version=f"survey-tui {__version__}",
        help=_("show program's version number and exit"),
    )
    parser.add_argument(
        "--ui-lang",
        metavar="LANG",
        help=_(
            "language of the interface: en or zh-TW (default: ui_lang in ~/.config/survey-tui/config.yaml, "
            "else the locale); the instrument's own language is chosen separately"
        ),
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    _describe(parser, [])
    return parser


#: an example for every command's --help (real invocations on a study folder)
EXAMPLES: dict[str, str] = {
    "open": "survey-tui open brand-study",
    "init": "survey-tui init brand-study --title '品牌健康度調查' --client ACME --languages zh-TW,en",
    "check": "survey-tui check brand-study",
    "demo": "survey-tui demo /tmp/demo-study --no-open",
    "publish": "survey-tui publish --study brand-study --note 'after the pilot'",
    "xlsform": "survey-tui xlsform import form.xlsx --study brand-study",
    "xlsform import": "survey-tui xlsform import form.xlsx --study brand-study -o questionnaire.yaml",
    "xlsform export": "survey-tui xlsform export bubble_tea_brand_health --study brand-study -o form.xlsx",
    "versions": "survey-tui versions --study brand-study --diff 1 2",
    "pilot-report": "survey-tui pilot-report --study brand-study",
    "respondents": "survey-tui respondents list --study brand-study --status appointment",
    "respondents import": "survey-tui respondents import contacts.csv --study brand-study --dry-run",
    "respondents list": "survey-tui respondents list --study brand-study --interviewer 林志明 --limit 20",
    "respondents screen": "survey-tui respondents screen --study brand-study",
    "respondents quotas": "survey-tui respondents quotas --study brand-study",
    "respondents withdraw": "survey-tui respondents withdraw R7B8P0BRGAK --study brand-study --actor amy",
    "interview": "survey-tui interview --study brand-study --interviewer amy --lang zh-TW",
    "device": "survey-tui device status --study amy-laptop",
    "device checkout": "survey-tui device checkout --server /srv/brand-study --interviewer 林志明 amy-laptop",
    "device status": "survey-tui device status --study amy-laptop",
    "sync": "survey-tui sync --study amy-laptop",
    "conflicts": "survey-tui conflicts list --study brand-study",
    "conflicts list": "survey-tui conflicts list --study brand-study --all",
    "conflicts resolve": "survey-tui conflicts resolve 3 --keep device --study brand-study --actor sue",
    "fieldwork": "survey-tui fieldwork rates --study brand-study",
    "fieldwork rates": "survey-tui fieldwork rates --study brand-study --by interviewer",
    "fieldwork queue": "survey-tui fieldwork queue --study brand-study",
    "fieldwork next": "survey-tui fieldwork next --study brand-study --interviewer 林志明",
    "fieldwork call": "survey-tui fieldwork call R7B8P0BRGAK callback --study brand-study --interviewer 林志明"
    " --callback '2026-10-08 19:30'",
    "fieldwork outcomes": "survey-tui fieldwork outcomes --study brand-study",
    "fieldwork recompute": "survey-tui fieldwork recompute --study brand-study",
    "fieldwork productivity": "survey-tui fieldwork productivity --study brand-study -o productivity.xlsx",
    "fieldwork backcheck": "survey-tui fieldwork backcheck report --study brand-study",
    "fieldwork backcheck draw": "survey-tui fieldwork backcheck draw --study brand-study --share 0.1 --seed 20261006",
    "fieldwork backcheck record": "survey-tui fieldwork backcheck record 12 confirmed --study brand-study",
    "fieldwork backcheck report": "survey-tui fieldwork backcheck report --study brand-study",
    "tables": "survey-tui tables --study brand-study --plan tabs/main.yaml --format xlsx",
    "weight": "survey-tui weight --study brand-study",
    "privacy": "survey-tui privacy report --study brand-study",
    "privacy report": "survey-tui privacy report --study brand-study --lang en",
    "privacy request": "survey-tui privacy request R7B8P0BRGAK copy --study brand-study --note 'by e-mail'",
    "privacy close": "survey-tui privacy close 1 done --study brand-study",
    "privacy purge": "survey-tui privacy purge --study brand-study --actor amy",
    "privacy key": "survey-tui privacy key --study brand-study",
    "privacy rotate-key": "survey-tui privacy rotate-key --study brand-study",
    "export": "survey-tui export --study brand-study --format sav,csv --lang en",
    "report": "survey-tui report --study brand-study --format md,docx --bundle",
    "server": "survey-tui server setup postgresql://owner@db.example.org/brand_study",
    "server setup": "survey-tui server setup postgresql://owner@db.example.org/brand_study",
    "server add-user": "survey-tui server add-user postgresql://owner@db.example.org/brand_study amy interviewer",
    "server maintain": "survey-tui server maintain postgresql://owner@db.example.org/brand_study",
}

#: descriptions for options their modules left without one (an option with neither is a test failure)
OPTION_HELP: dict[str, str] = {
    "command": N_("what to do (one of the commands below; survey-tui COMMAND --help for its options)"),
    "study": N_("study folder (default: the one around the current folder)"),
    "dir": N_("folder to create (default: the current folder)"),
    "title": N_("the study's title, e.g. '品牌健康度調查' (asked when there is a terminal)"),
    "client": N_("who the study is for (asked when there is a terminal)"),
    "seed": N_("random seed, so the same demo is generated every time"),
    "note": N_("why this version is published (kept with the version)"),
    "xlsform_action": N_("import an XLSForm into an instrument, or export one"),
    "respondents_command": N_("what to do with the contact list"),
    "fieldwork_command": N_("what to do with the telephone fieldwork"),
    "backcheck_action": N_("draw a back-check sample, record a result, or report"),
    "device_command": N_("what to do with an interviewer's offline copy of the study"),
    "conflicts_command": N_("list what was changed both on a device and on the server, or resolve one"),
    "privacy_command": N_("what to do with the personal data on record"),
    "server_command": N_("set up the shared PostgreSQL study, add its users, or maintain it"),
    "instrument": N_("instrument id (default: the study's only instrument)"),
    "file": N_("the CSV or XLSX file to read"),
    "on_duplicate": N_("a row matching an existing respondent: merge into it, or skip it"),
    "status": N_("only respondents with this status"),
    "interviewer": N_("only respondents assigned to this interviewer"),
    "limit": N_("at most this many rows"),
    "search": N_("only respondents whose id starts with this text, or whose name, phone or e-mail contains it"),
    "show_contacts": N_("show names, phones and e-mail unmasked (personal data: take care)"),
    "respondent": N_("the respondent id"),
    "actor": N_("who records this, kept in the audit trail"),
}

#: old option spellings still accepted for a while, with a note: {command: {old: new}}
DEPRECATED: dict[str, dict[str, str]] = {
    "tables": {"--out": "--output"},
    "weight": {"--out": "--output"},
    "interview": {"--language": "--lang"},
}


def _describe(parser: argparse.ArgumentParser, path: list[str]) -> None:
    """Give every command an example and every option a description (recursing into sub-commands)."""
    for action in parser._actions:
        if not action.help and action.dest in OPTION_HELP:  # never a made-up one: a gap fails tests/test_cli_help
            action.help = _(OPTION_HELP[action.dest])
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                _describe(child, [*path, name])
    example = EXAMPLES.get(" ".join(path))
    if example:
        parser.epilog = _("example:") + f"\n  {example}"
        parser.formatter_class = argparse.RawDescriptionHelpFormatter


def _undeprecate(argv: list[str]) -> list[str]:
    """Old spellings of options become the new ones, with a note on stderr (they keep working for now)."""
    renames = DEPRECATED.get(argv[0], {}) if argv else {}
    out = []
    for token in argv:
        old = next((o for o in renames if token == o or token.startswith(o + "=")), None)
        if old is not None:
            print(
                _("note: '{old}' is now '{v1}' (the old spelling still works for now)").format(
                    old=old, v1=renames[old]
                ),
                file=sys.stderr,
            )
            token = renames[old] + token[len(old) :]
        out.append(token)
    return out


def _take_ui_lang(argv: list[str]) -> tuple[list[str], str | None]:
    """`--ui-lang X` may stand anywhere (before or after the command); it is taken out before parsing."""
    out: list[str] = []
    chosen: str | None = None
    tokens = iter(argv)
    for token in tokens:
        if token == "--":
            out.append(token)
            out.extend(tokens)
            break
        if token == "--ui-lang":
            chosen = next(tokens, None) or ""
        elif token.startswith("--ui-lang="):
            chosen = token.split("=", 1)[1]
        else:
            out.append(token)
    return out, chosen


def main(argv: Sequence[str] | None = None) -> int:
    argv, ui_lang = _take_ui_lang(list(sys.argv[1:] if argv is None else argv))
    if ui_lang is not None and normalise(ui_lang) is None:
        print(
            f"survey-tui: --ui-lang {ui_lang!r}: " + _("use one of: {choices}").format(choices="en, zh-TW"),
            file=sys.stderr,
        )
        return 2
    set_language(choose_language(ui_lang))
    argv = _undeprecate(argv)
    parser = build_parser()
    known = set(parser._subparsers._group_actions[0].choices) if parser._subparsers else set()  # type: ignore[union-attr]
    if argv and argv[0] not in known and not argv[0].startswith("-") and not Path(argv[0]).exists():
        return unknown_command(argv[0], sorted(known))
    if not argv or (argv[0] not in known and not argv[0].startswith("-")):
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    global _quick_exit
    _quick_exit = bool(getattr(args, "quick_exit", False))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        _study_from_positional(args, argv)
    except LoadError as exc:
        print_problems(exc.problems)
        return 2
    previous_umask = os.umask(0o077)  # every file and folder the tool writes is its owner's only
    try:
        with _checks_behind(args):
            code = int(args.handler(args))
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    except KeyboardInterrupt:
        print(_("interrupted; nothing half-written (every answer is saved as it is given)"), file=sys.stderr)
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141  # as a shell reports a command stopped by SIGPIPE
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # noqa: B036 - polars panics derive from BaseException
        if os.environ.get("SURVEY_TUI_DEBUG"):
            raise
        print(describe_failure(args, exc), file=sys.stderr)
        return 1
    finally:
        os.umask(previous_umask)


#: set by `main` for a command that may end without Python's teardown of its modules (see `run`)
_quick_exit = False


def run() -> None:
    """The console script and `python -m survey_tui`: `main`, then the process ends.

    After `check`, without Python's teardown of the few hundred modules it imported: 30-40 ms, about a
    sixth of a check just after the questionnaire was edited. Its output is flushed and the atexit
    handlers run first (the cache it writes is renamed into place whole before that), and only when no
    other thread runs; anything else, and every other command, ends the usual way.
    """
    import atexit
    import threading

    code = main()
    if _quick_exit and threading.active_count() == 1:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):
            raise SystemExit(code) from None
        atexit._run_exitfuncs()
        os._exit(code)
    raise SystemExit(code)


def _checks_behind(args: argparse.Namespace) -> contextlib.AbstractContextManager[None]:
    """Commands that only read the study and write files from it leave the database's open-time check
    behind their work (core.store.check_behind); every other command checks it at open."""
    if not getattr(args, "checks_behind", False):
        return contextlib.nullcontext()
    from survey_tui.core.store.check_behind import checks_behind

    return checks_behind()


def unknown_command(word: str, known: list[str]) -> int:
    """A first word that is neither a command nor an existing folder: say so, with the nearest command."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    hint = (
        _("did you mean 'survey-tui {command}'?").format(command=close[0])
        if close
        else _("'survey-tui --help' lists the commands")
    )
    print(
        _("survey-tui: '{word}' is not a command, nor a study folder; {hint}").format(word=word, hint=hint),
        file=sys.stderr,
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
