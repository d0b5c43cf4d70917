"""Study commands: open the app, start a study, check its files, build the demo, publish an instrument."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui.cli import add_study_argument, has_terminal, print_problems, resolve_study
from survey_tui.core.problems import LoadError, Problem
from survey_tui.i18n import _

if TYPE_CHECKING:
    from survey_tui.core.study import Study


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("open", help=_("open the app on a study (the default command)"))
    add_study_argument(p, positional="kept")
    p.set_defaults(handler=cmd_open)

    p = sub.add_parser("init", help=_("start a new, empty study"))
    p.add_argument("dir", nargs="?", help=_("folder for the study (default: here)"))
    p.add_argument("--title")
    p.add_argument("--client")
    p.add_argument("--languages", help=_("comma-separated language tags, e.g. zh-TW,en"))
    p.add_argument(
        "--store",
        help=_(
            "keep the study's data on a PostgreSQL server, e.g. postgresql://amy@db.example.org/brand "
            "(no password: libpq's ~/.pgpass holds it; default: the embedded survey.db)"
        ),
    )
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser(
        "check", help=_("check study.yaml and every instrument (YAML files up to 1 MiB); exit 1 on errors")
    )
    add_study_argument(p, positional="deprecated")
    p.set_defaults(handler=cmd_check, quick_exit=True)  # nothing to tear down after it: see cli.run

    p = sub.add_parser("demo", help=_("build the bubble-tea demo study and open it"))
    p.add_argument("dir", nargs="?", default="demo-study")
    p.add_argument("--no-open", action="store_true", help=_("build only, do not open the app"))
    p.add_argument("--force", action="store_true", help=_("replace an existing demo study in DIR"))
    p.add_argument("--interviews", type=int, default=300, help=_("synthetic field interviews (default 300)"))
    p.add_argument("--seed", type=int, default=20261124)
    p.set_defaults(handler=cmd_demo)

    p = sub.add_parser("publish", help=_("freeze an instrument as its next version"))
    p.add_argument("instrument", nargs="?", help=_("instrument id (default: the only one)"))
    add_study_argument(p)
    p.add_argument("--note")
    p.add_argument("--allow-code-reuse", action="store_true", help=_("publish even if a choice code changed meaning"))
    p.set_defaults(handler=cmd_publish)


def cmd_open(args: argparse.Namespace) -> int:
    target = Path(args.study) if args.study else (_find_root(Path.cwd()) or Path.cwd())
    if not (target / "study.yaml").is_file():
        print(_("{target}: this folder is not a study (no study.yaml).").format(target=target), file=sys.stderr)
        if not has_terminal():
            print(
                _("Run 'survey-tui init DIR' to start one, or 'survey-tui demo' for a ready demo study."),
                file=sys.stderr,
            )
            return 2
        import questionary

        if not questionary.confirm(f"Start a new study in {target}?", default=True).ask():
            return 2
        code = _init_interactive(target, argparse.Namespace(title=None, client=None, languages=None))
        if code:
            return code
    from survey_tui.core.summary import kept_facts

    facts = kept_facts(target)
    if facts is not None:  # these very files were read before without a fatal problem: the home screen's
        from survey_tui.tui.app import SurveyApp  # figures are in the cache, the study is opened behind it

        SurveyApp.on_folder(target, facts["title"]).run()
        return 0
    from survey_tui.core.study import open_study

    try:
        study = open_study(target)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    return run_app(study)


def run_app(study: Study) -> int:
    from survey_tui.tui.app import SurveyApp

    SurveyApp(study).run()
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.dir or ".")
    if (target / "study.yaml").exists():
        print(_("{target}: a study already exists here; nothing changed.").format(target=target), file=sys.stderr)
        return 1
    return _init_interactive(target, args)


def _init_interactive(target: Path, args: argparse.Namespace) -> int:
    from survey_tui.core.study import init_study

    title, client, languages = args.title, args.client, args.languages
    if title is None:
        if not has_terminal():
            print(
                _(
                    "survey-tui init: --title is required without a terminal "
                    "(e.g. --title 'Brand study' --client 'ACME' --languages zh-TW,en)"
                ),
                file=sys.stderr,
            )
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
        study = init_study(target, title.strip(), (client or "").strip(), langs, store=getattr(args, "store", None))
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    print(_("Started study '{title}' in {root}").format(title=study.config.title, root=study.root))
    print(_("Next: add a questionnaire under instruments/, then 'survey-tui check' and 'survey-tui'."))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from survey_tui.core import checked
    from survey_tui.i18n import current_language

    root = Path(args.study) if args.study else _find_root(Path.cwd())
    if root is None:
        print(_("{v0}: no study here or in any parent folder").format(v0=Path.cwd()), file=sys.stderr)
        return 1
    # an unchanged study is answered from the user's cache (see survey_tui.core.checked), without pydantic
    key = checked.study_key(root, current_language())
    kept = checked.kept(key)
    if kept is not None:
        try:
            problems = [Problem(**item) for item in kept]
        except TypeError:  # another shape (an older entry): check again
            kept = None
            key = None
    if kept is None:
        problems = _check(root, key)
    errors = [p for p in problems if p.severity == "error"]
    print_problems(problems, sys.stdout)
    warnings = len(problems) - len(errors)
    # the parsed expressions kept for reuse are dropped now, freed one by one: left alive to the end (a million
    # objects on a 1 MB instrument), the cycle collector's last pass over them at exit took longer than the check
    checked.clear_expression_cache()
    if errors:
        print(_("{v0} error(s), {warnings} warning(s)").format(v0=len(errors), warnings=warnings))
        return 1
    print(_("ok: no errors ({warnings} warning(s))").format(warnings=warnings))
    return 0


def _find_root(start: Path) -> Path | None:
    """The study folder at or above `start` (core.study's, without importing the study's models)."""
    start = start.resolve()
    return next((folder for folder in (start, *start.parents) if (folder / "study.yaml").is_file()), None)


def _check(root: Path, key: str | None) -> list[Problem]:
    """Every problem of the study (its files, and the weighting targets against the data), kept under `key`."""
    import dataclasses

    from survey_tui.core import checked
    from survey_tui.core.collector import collector_paused
    from survey_tui.i18n import current_language

    with collector_paused():  # the models' classes: long-lived objects, no cycles to collect
        from survey_tui.core.study import check_study_files
    study, problems = check_study_files(root)  # study: None when there is no readable study.yaml
    depends: list[list[str] | None] = []
    if study is not None and study.config.report.template:
        depends.append(checked.dependency("content", study.root / study.config.report.template))
    if study is not None and study.config.weighting is not None and not any(p.severity == "error" for p in problems):
        # only then does check read the data (polars, the store): the database's state is taken before the read
        depends.append(None if study.server_url else checked.dependency("stamp", study.db_path))
        problems += _weighting_problems(study)
    storable = key is not None and None not in depends
    if storable:
        kept = [d for d in depends if d is not None]
        checked.keep(key, root, current_language(), [dataclasses.asdict(p) for p in problems], kept)
    return problems


def _weighting_problems(study: Study) -> list[Problem]:
    """What only the data can tell about the weighting targets, from the user's cache when neither the data nor
    study.yaml changed since the last check.

    Reading the data takes polars and the whole data set (twice the rest of `check` on the demo). The answer is
    kept under the database's fingerprint (its file and WAL: device, inode, size, modification time, as the
    store's clean-check marker), study.yaml's bytes and the checking code; the fingerprint is taken before and
    after the read, and a read the data changed under is not kept. A study on a server is always read."""
    import dataclasses

    from survey_tui.core.cache import file_stamp, memo_key, module_stamp, read_memo, write_memo
    from survey_tui.core.problems import Problem
    from survey_tui.i18n import current_language

    def compute() -> list[Problem]:
        from survey_tui.analysis.weighting import weighting_problems

        return weighting_problems(study)

    if study.server_url is not None:
        return compute()
    database = (study.db_path, Path(f"{study.db_path}-wal"))
    before = file_stamp(*database)
    try:
        settings = study.study_file.read_bytes()
    except OSError:
        return compute()
    modules = ("analysis.weighting", "analysis.dataset", "analysis.quality", "core.plan.weighting", "core.study")
    code = module_stamp(*(f"survey_tui.{name}" for name in modules), "polars")
    # the problems are worded in the interface language: one answer per language, never the other's words
    key = memo_key("weighting-problems 1", str(study.root), before, settings, code, current_language())
    kept = read_memo("checked-weighting", key)
    if isinstance(kept, list):
        try:
            return [Problem(**item) for item in kept]
        except TypeError:
            pass  # another shape (an older entry): read the data again
    found = compute()
    if file_stamp(*database) == before:
        write_memo("checked-weighting", key, [dataclasses.asdict(p) for p in found])
    return found


def cmd_demo(args: argparse.Namespace) -> int:
    from survey_tui.core.study import open_study
    from survey_tui.demo.build import DemoExistsError, build_demo

    target = Path(args.dir)
    try:
        study = build_demo(
            target,
            force=args.force,
            interviews=args.interviews,
            seed=args.seed,
            progress=lambda text: print(text, flush=True),
        )
    except DemoExistsError as exc:
        print(exc, file=sys.stderr)
        if args.no_open or not has_terminal():
            return 1
        study = open_study(target)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    if args.no_open:
        return 0
    if not has_terminal():
        print(
            _("Demo study ready; no terminal to open the app in (run 'survey-tui {root}' from a terminal).").format(
                root=study.root
            )
        )
        return 0
    return run_app(study)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publishing refuses a choice code that changed meaning since an earlier version (unless allowed)."""
    from survey_tui.core.instrument.versions import publish

    try:
        study = resolve_study(args.study)
        instrument = study.load_instrument(args.instrument)
        result = publish(study, instrument.id, args.note, allow_code_reuse=args.allow_code_reuse)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    for reuse in result.reuses:
        print(_("warning: {v0}").format(v0=reuse.message()), file=sys.stderr)
    v = result.version
    state = "published" if result.new else "unchanged since"
    print(f"{v.instrument_id} v{v.version} {state} ({v.sha256[:12]})")
    return 0
