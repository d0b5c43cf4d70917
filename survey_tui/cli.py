"""`survey-tui`: the command line. Each command is a thin shell over the core; the app is the default."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.study import Study, check_study, find_study_root, init_study, open_study

COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {}


def command(name: str) -> Callable[[Callable[[argparse.Namespace], int]], Callable[[argparse.Namespace], int]]:
    def register(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = func
        return func

    return register


def _print_problems(problems: Sequence[Problem], stream=sys.stderr) -> None:  # type: ignore[no-untyped-def]
    for problem in problems:
        print(problem, file=stream)


def resolve_study(given: str | None) -> Study:
    """The study named on the command line, else the one around the current directory."""
    if given:
        return open_study(Path(given))
    root = find_study_root(Path.cwd())
    if root is None:
        raise LoadError([Problem(str(Path.cwd()), "no study here or in any parent folder",
                                 hint="give the study folder, or run 'survey-tui init' / 'survey-tui demo'")])
    return open_study(root)


def has_terminal() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


# -- commands ------------------------------------------------------------------------------------
@command("open")
def cmd_open(args: argparse.Namespace) -> int:
    target = Path(args.study) if args.study else (find_study_root(Path.cwd()) or Path.cwd())
    if not (target / "study.yaml").is_file():
        print(f"{target}: this folder is not a study (no study.yaml).", file=sys.stderr)
        if not has_terminal():
            print("Run 'survey-tui init DIR' to start one, or 'survey-tui demo' for a ready demo study.",
                  file=sys.stderr)
            return 2
        import questionary

        if not questionary.confirm(f"Start a new study in {target}?", default=True).ask():
            return 2
        code = _init_interactive(target, argparse.Namespace(title=None, client=None, languages=None))
        if code:
            return code
    try:
        study = open_study(target)
    except LoadError as exc:
        _print_problems(exc.problems)
        return 1
    return run_app(study)


def run_app(study: Study) -> int:
    from survey_tui.tui.app import SurveyApp

    SurveyApp(study).run()
    return 0


@command("init")
def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir or ".")
    if (target / "study.yaml").exists():
        print(f"{target}: a study already exists here; nothing changed.", file=sys.stderr)
        return 1
    return _init_interactive(target, args)


def _init_interactive(target: Path, args: argparse.Namespace) -> int:
    title, client, languages = args.title, args.client, args.languages
    if title is None:
        if not has_terminal():
            print("survey-tui init: --title is required without a terminal "
                  "(e.g. --title 'Brand study' --client 'ACME' --languages zh-TW,en)", file=sys.stderr)
            return 2
        import questionary

        title = questionary.text("Study title:", validate=lambda t: bool(t.strip()) or "A title is needed").ask()
        if title is None:
            return 2
        client = client if client is not None else (questionary.text("Client:").ask() or "")
        if languages is None:
            languages = questionary.text("Languages (comma-separated tags):", default="zh-TW,en").ask()
    langs = [lang.strip() for lang in (languages or "zh-TW,en").split(",") if lang.strip()]
    try:
        study = init_study(target, title.strip(), (client or "").strip(), langs)
    except LoadError as exc:
        _print_problems(exc.problems)
        return 1
    print(f"Started study '{study.config.title}' in {study.root}")
    print("Next: add a questionnaire under instruments/, then 'survey-tui check' and 'survey-tui'.")
    return 0


@command("check")
def cmd_check(args: argparse.Namespace) -> int:
    root = Path(args.study) if args.study else find_study_root(Path.cwd())
    if root is None:
        print(f"{Path.cwd()}: no study here or in any parent folder", file=sys.stderr)
        return 1
    problems = check_study(root)
    errors = [p for p in problems if p.severity == "error"]
    _print_problems(problems, sys.stdout)
    warnings = len(problems) - len(errors)
    if errors:
        print(f"{len(errors)} error(s), {warnings} warning(s)")
        return 1
    print(f"ok: no errors ({warnings} warning(s))")
    return 0


@command("demo")
def cmd_demo(args: argparse.Namespace) -> int:
    from survey_tui.demo.build import DemoExistsError, build_demo

    target = Path(args.dir)
    try:
        study = build_demo(target, force=args.force, interviews=args.interviews, seed=args.seed,
                           progress=lambda text: print(text, flush=True))
    except DemoExistsError as exc:
        print(exc, file=sys.stderr)
        if args.no_open or not has_terminal():
            return 1
        study = open_study(target)
    except LoadError as exc:
        _print_problems(exc.problems)
        return 1
    if args.no_open:
        return 0
    if not has_terminal():
        print("Demo study ready; no terminal to open the app in (run 'survey-tui "
              f"{study.root}' from a terminal).")
        return 0
    return run_app(study)


@command("publish")
def cmd_publish(args: argparse.Namespace) -> int:
    try:
        study = resolve_study(args.study)
        instrument = study.load_instrument(args.instrument)
        version = study.publish(instrument.id, args.note)
    except LoadError as exc:
        _print_problems(exc.problems)
        return 1
    print(f"{version.instrument_id} v{version.version} ({version.sha256[:12]})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="survey-tui",
        description="Market research in the terminal: plan, questionnaire, respondents, fieldwork, "
        "analysis and report. With no command, opens the app on the study here (or STUDY).",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("open", help="open the app on a study (the default command)")
    p.add_argument("study", nargs="?", help="study folder (default: the one around the current folder)")

    p = sub.add_parser("init", help="start a new, empty study")
    p.add_argument("dir", nargs="?", help="folder for the study (default: here)")
    p.add_argument("--title")
    p.add_argument("--client")
    p.add_argument("--languages", help="comma-separated language tags, e.g. zh-TW,en")

    p = sub.add_parser("check", help="check study.yaml and every instrument; exit 1 on errors")
    p.add_argument("study", nargs="?")

    p = sub.add_parser("demo", help="build the bubble-tea demo study and open it")
    p.add_argument("dir", nargs="?", default="demo-study")
    p.add_argument("--no-open", action="store_true", help="build only, do not open the app")
    p.add_argument("--force", action="store_true", help="replace an existing demo study in DIR")
    p.add_argument("--interviews", type=int, default=300, help="synthetic field interviews (default 300)")
    p.add_argument("--seed", type=int, default=20261124)

    p = sub.add_parser("publish", help="freeze an instrument as its next version")
    p.add_argument("instrument", nargs="?", help="instrument id (default: the only one)")
    p.add_argument("--study")
    p.add_argument("--note")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-")):
        argv = ["open", *argv]
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("interrupted; nothing half-written (every answer is saved as it is given)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
