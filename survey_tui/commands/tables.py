"""`survey-tui tables`: banner tables (or frequencies) of the study's data, written to exports/."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from survey_tui.cli import add_study_argument, print_problems, resolve_study
from survey_tui.core.atomic import write_text_atomic
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "tables",
        help=_("banner tables with significance letters (or --frequencies) to exports/"),
        description=_(
            "Stubs x banner with Total, counts, column %, letters, means, top-2 box, NPS and "
            "small-base marks. Banner names are variables (s3) or plan banner ids (age)."
        ),
    )
    add_study_argument(p)
    p.add_argument("--banner", help=_("comma-separated banner variables or plan banner ids (default: plan banners)"))
    p.add_argument("--stubs", help=_("comma-separated questions/variables (default: every coded and numeric one)"))
    p.add_argument("--format", choices=("md", "csv", "xlsx"), default="md", help=_("file format (default md)"))
    p.add_argument("--filter", help=_('only interviews where this expression holds, e.g. "s4 = 1"'))
    p.add_argument("--lang", default=None, help=_("label language, e.g. zh-TW or en (default: the study's)"))
    p.add_argument("--level", type=int, choices=(90, 95, 99), default=95, help=_("confidence level of the letters"))
    p.add_argument("--bonferroni", action="store_true", help=_("shorthand for --correction bonferroni"))
    p.add_argument(
        "--correction",
        choices=("none", "bonferroni", "holm", "bh"),
        default=None,
        help=_("multiple-comparison correction over the column pairs of each banner group"),
    )
    p.add_argument("--total-asked", action="store_true", help=_("put don't know / refused inside the base"))
    p.add_argument("--min-test-base", type=int, default=None, help=_("no letters against smaller columns (30)"))
    p.add_argument("--plan", help=_("a tab plan (tabs/main.yaml): run its tables with their own options"))
    p.add_argument("--tables", help=_("with --plan: only these table ids, comma-separated"))
    p.add_argument("--weight", help=_("weight variable (default: 'weight' when the data file has one)"))
    p.add_argument("--frequencies", action="store_true", help=_("frequencies (counts, %%, valid %%) instead"))
    p.add_argument(
        "-o",
        "--output",
        dest="out",
        metavar="FILE",
        help=_("file name inside exports/ (default: tables.<format>; was --out)"),
    )
    p.set_defaults(handler=cmd_tables, checks_behind=True)  # reads, then writes files: see check_behind


def _check_filter_names(text: str, dataset: Any) -> None:
    """Every name in --filter is a variable of the data (else a located message, not a polars error)."""
    from survey_tui.core.instrument.expressions import ExpressionError, parse_expression

    columns = set(dataset.frame.columns) | set(dataset.variables)
    for ref in parse_expression(text).references:
        if ref.name not in columns and not any(c.startswith(ref.name + "_") for c in columns):
            raise ExpressionError(f"unknown name {ref.name!r}", ref.position, text)


def _names(text: str | None) -> list[str] | None:
    return [n.strip() for n in text.split(",") if n.strip()] if text else None


def cmd_tables(args: argparse.Namespace) -> int:
    from survey_tui.analysis import tables as t
    from survey_tui.analysis.dataset import load_dataset
    from survey_tui.core.instrument.expressions import ExpressionError

    try:
        study = resolve_study(args.study)
        dataset = load_dataset(study)
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
    except ValueError as exc:
        print(f"survey-tui tables: {exc}", file=sys.stderr)
        return 1
    language = args.lang or study.config.language
    weight = args.weight or dataset.weight
    if args.plan and not args.frequencies:
        return _run_plan(args, study, dataset, language)
    try:
        options = t.TableOptions(
            level=args.level / 100,
            correction=args.correction or ("bonferroni" if args.bonferroni else "none"),
            weight=weight,
            filter=args.filter,
            language=language,
            dk_in_base=args.total_asked,
            **({"min_test_base": args.min_test_base} if args.min_test_base else {}),
        )
        if weight and weight not in dataset.variables and weight not in dataset.frame.columns:
            raise KeyError(f"no weight variable {weight!r}")
        if args.filter:
            _check_filter_names(args.filter, dataset)
        stubs = _names(args.stubs)
        if args.frequencies:
            frequencies = t.frequencies(dataset, stubs, options)
            text = None if args.format == "xlsx" else _frequencies_text(frequencies, args.format, study.config.title)
            banner_names: list[str] = []
        else:
            plan = list(study.config.analysis_plan.banners)
            wanted = _names(args.banner) or [b.id for b in plan]
            if not wanted:
                raise KeyError("no banner given (--banner s3,s4) and the plan has no banners")
            banner_names = t.plan_banners(dataset, plan, wanted)
            tables = t.banner_tables(dataset, stubs, banner_names, options)
            text = None
    except ExpressionError as exc:
        print(f"survey-tui tables: --filter: {exc}", file=sys.stderr)
        return 1
    except (KeyError, ValueError) as exc:
        print(f"survey-tui tables: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    except Exception as exc:
        if not type(exc).__module__.startswith("polars") or not args.filter:
            raise
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        print(
            _("survey-tui tables: --filter {filter!r} cannot be evaluated on the data: {first}").format(
                filter=args.filter, first=first
            ),
            file=sys.stderr,
        )
        return 1
    target = _target(study, args, "frequencies" if args.frequencies else "tables")
    title = f"{study.config.title} ({dataset.n} interviews)"
    if args.frequencies:
        if args.format == "xlsx":
            from survey_tui.report.tabbook import write_frequencies_book

            write_frequencies_book(frequencies, target, title, language)
        else:
            write_text_atomic(target, text or "")
    else:
        _write(tables, args.format, target, title, language)
    what = (
        "frequency tables" if args.frequencies else f"{len(tables)} tables by {', '.join(b.id for b in banner_names)}"
    )
    print(_("{what} of {n} interviews -> {v2}").format(what=what, n=dataset.n, v2=study.relative(target)))
    return 0


def _target(study, args: argparse.Namespace, stem: str):  # type: ignore[no-untyped-def]
    """Inside exports/ unless an absolute path is named (a name climbing out with '..' is refused)."""
    study.exports_dir.mkdir(exist_ok=True)
    return study.export_target(args.out or f"{stem}.{args.format}")


def _write(tables: list, fmt: str, target, title: str, language: str) -> None:  # type: ignore[no-untyped-def,type-arg]
    from survey_tui.analysis import tables as t

    if fmt == "md":
        write_text_atomic(target, t.tables_markdown(tables, title, language))
    elif fmt == "csv":
        write_text_atomic(target, "\ufeff" + t.tables_csv(tables))  # BOM so Excel reads the CJK labels right
    else:
        t.write_xlsx(tables, target, title, language)


def _run_plan(args: argparse.Namespace, study, dataset, language: str) -> int:  # type: ignore[no-untyped-def]
    """`tables --plan tabs/main.yaml`: every planned table with the plan's own options."""
    from pathlib import Path

    from survey_tui.analysis.tabplan import run_plan
    from survey_tui.core.instrument.expressions import ExpressionError
    from survey_tui.core.plan.tabplan import check_tab_plan, load_tab_plan

    path = Path(args.plan)
    if not path.is_absolute() and not path.exists():
        path = study.root / args.plan
    if not path.is_file():
        print(_("survey-tui tables: no tab plan at {plan}").format(plan=args.plan), file=sys.stderr)
        return 1
    display = study.relative(path) if path.resolve().is_relative_to(study.root) else str(path)
    plan, doc, problems = load_tab_plan(path, display)
    if plan is not None and not any(p.severity == "error" for p in problems):
        instruments, _skip = study.load_instruments()
        weighting = getattr(study.config, "weighting", None)
        weights = [getattr(weighting, "name", "weight")] if weighting else []
        weights += [c for c in dataset.frame.columns if c == dataset.weight]
        problems += check_tab_plan(plan, instruments.values(), doc, display, weights)
    errors = [p for p in problems if p.severity == "error"]
    if plan is None or errors:
        print_problems(problems)
        return 1
    try:
        tables = run_plan(plan, dataset, language, _names(args.tables))
    except ExpressionError as exc:
        print(f"survey-tui tables: {exc}", file=sys.stderr)
        return 1
    except (KeyError, ValueError) as exc:
        print(f"survey-tui tables: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1
    target = _target(study, args, path.stem)
    title = plan.title_in(language) or study.config.title
    _write(tables, args.format, target, f"{title} ({dataset.n} interviews)", language)
    print(
        _("{v0} tables of {v1} planned of {n} interviews -> {v3}").format(
            v0=len(tables), v1=len(plan.tables), n=dataset.n, v3=study.relative(target)
        )
    )
    return 0


def _frequencies_text(frequencies: list, fmt: str, title: str) -> str:  # type: ignore[type-arg]
    from survey_tui.io.cells import csv_text

    if fmt == "csv":
        lines = ["\ufeffvariable,code,label,count,percent,valid_percent,missing"]
        for f in frequencies:
            for r in f.rows:
                label = csv_text(r.label).replace('"', '""')
                valid = "" if r.valid_percent is None else f"{r.valid_percent:.4f}"
                code = "" if r.code is None else r.code
                lines.append(f'{f.variable},{code},"{label}",{r.count:g},{r.percent:.4f},{valid},{int(r.missing)}')
        return "\n".join(lines) + "\n"
    out = [f"# {title}", ""]
    for f in frequencies:
        out += [f"### {f.title}", "", "| Code | Label | n | % | Valid % |", "|---|---|---|---|---|"]
        for r in f.rows:
            valid = "" if r.valid_percent is None else f"{r.valid_percent:.1f}"
            code = "" if r.code is None else r.code
            out.append(f"| {code} | {r.label.replace('|', '/')} | {r.count:g} | {r.percent:.1f} | {valid} |")
        out += ["", f"Base: {f.total:g} interviews, valid {f.valid:g}", ""]
    return "\n".join(out)
