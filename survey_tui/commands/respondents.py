"""Respondent commands (T1.3): import a contact list, list respondents, re-screen, quota board, withdraw."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui.cli import resolve_study
from survey_tui.core.lazy import lazy

if TYPE_CHECKING:
    from survey_tui.core import respondents as resp
else:
    resp = lazy("survey_tui.core.respondents")  # imported when a respondents command runs, not for --help


class _Statuses:
    """`resp.STATUSES` for argparse's choices, read only when a value is checked or the action's help shown."""

    def __iter__(self) -> Iterator[str]:
        return iter(resp.STATUSES)

    def __contains__(self, value: object) -> bool:
        return value in resp.STATUSES


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("respondents", help="respondents: import a contact list, list, screen, quotas, withdraw")
    rsub = p.add_subparsers(dest="respondents_command", metavar="ACTION", required=True)

    q = rsub.add_parser("import", help="import a CSV/XLSX contact list (all or nothing)")
    q.add_argument("file")
    q.add_argument("--study")
    q.add_argument("--encoding", help="e.g. utf-8, big5, cp950 (default: detect)")
    q.add_argument("--on-duplicate", choices=("merge", "skip"), default="merge")
    q.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help="override the guessed mapping")
    q.add_argument("--strict", action="store_true", help="import nothing when any row is bad")
    q.add_argument("--dry-run", action="store_true", help="show the report, write nothing")
    q.set_defaults(handler=cmd_import)

    q = rsub.add_parser("list", help="list respondents (no contact data unless --show-contacts)")
    q.add_argument("--study")
    q.add_argument("--status", choices=_Statuses(), metavar="STATUS")
    q.add_argument("--interviewer")
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--show-contacts", action="store_true")
    q.set_defaults(handler=cmd_list)

    q = rsub.add_parser("screen", help="re-screen every respondent against the study's eligibility criteria")
    q.add_argument("--study")
    q.set_defaults(handler=cmd_screen)

    q = rsub.add_parser("quotas", help="the quota board: targets and completes per cell")
    q.add_argument("--study")
    q.set_defaults(handler=cmd_quotas)

    q = rsub.add_parser("withdraw", help="a respondent withdrew consent: erase their contact data")
    q.add_argument("respondent")
    q.add_argument("--study")
    q.add_argument("--delete-answers", action="store_true", help="also delete their (anonymous) answers")
    q.add_argument("--actor")
    q.set_defaults(handler=cmd_withdraw)


def cmd_import(args: argparse.Namespace) -> int:
    from survey_tui.io.contact_import import (
        ImportFailed,
        check_mapping,
        commit_import,
        guess_mapping,
        prepare_import,
        read_contact_file,
    )

    study = resolve_study(args.study)
    try:
        raw = read_contact_file(Path(args.file), args.encoding)
        mapping = guess_mapping(raw.frame.columns)
        for item in args.map:
            column, _, target = item.partition("=")
            mapping[column.strip()] = target.strip()
        check_mapping(mapping, raw.frame.columns, raw.source)
        print("columns: " + ", ".join(f"{h} -> {t}" for h, t in mapping.items()))
        with study.store() as store:
            from survey_tui.io.contact_import import _existing_keys

            plan = prepare_import(
                raw,
                mapping,
                existing=_existing_keys(store),
                rule=args.on_duplicate,
                criteria=study.config.eligibility,
                language=study.config.language,
            )
            for line in plan.report_lines():
                print(line)
            if args.strict and plan.bad.height:
                print(f"nothing imported: {plan.bad.height} bad rows and --strict", file=sys.stderr)
                return 1
            if args.dry_run:
                print("dry run: nothing imported")
                return 0
            result = commit_import(store, plan)
    except ImportFailed as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print("nothing imported", file=sys.stderr)
        return 1
    print(f"imported {result.imported}, merged {result.merged}, skipped {result.skipped}, bad rows {result.bad}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    with study.store() as store:
        page = resp.page(store, resp.RespondentFilter(status=args.status, interviewer=args.interviewer), 0, args.limit)
    print(f"{page.total} respondents" + (f" (first {len(page.rows)})" if page.total > len(page.rows) else ""))
    for row in page.rows:
        contact = f"  {row.name or ''} {row.phone or ''} {row.email or ''}" if args.show_contacts else ""
        eligible = {True: "eligible", False: "not eligible", None: "-"}[row.eligible]
        print(f"{row.id}  {row.status:<12} {row.interviewer or '-':<6} {eligible:<12} {row.attempts}{contact}")
    if args.show_contacts:
        print(resp.CONTACT_NOTICE, file=sys.stderr)
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    with study.store() as store:
        yes, no = resp.screen_all(store, study.config.eligibility, study.config.language)
    print(f"eligible {yes}, not eligible {no}")
    return 0


def cmd_quotas(args: argparse.Namespace) -> int:
    from survey_tui.core.quotas import cell_key, quota_counts

    study = resolve_study(args.study)
    if not study.config.quotas:
        print("the study has no quotas (add quotas: to study.yaml)")
        return 0
    with study.store() as store:
        cells = quota_counts(store, study.config.quotas)
    for cell in cells:
        target = "-" if cell.target is None else str(cell.target)
        flag = "  FULL" if cell.full else ""
        print(f"{cell.quota:<14} {cell_key(cell.cell):<20} {cell.completes:>5} / {target:<5}{flag}")
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    with study.store() as store:
        erasure = resp.withdraw(store, args.respondent, delete_answers=args.delete_answers, actor=args.actor)
    kept = "deleted" if erasure.answers_deleted else "kept (anonymous)"
    print(f"{erasure.respondent_id}: contact data erased; {erasure.interviews} interviews, answers {kept}; logged")
    return 0
