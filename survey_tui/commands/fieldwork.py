"""Telephone fieldwork commands (T1.3 P1.3.3): AAPOR rates, the call queue, calls, productivity, back-checks."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.core.problems import escape_controls


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "fieldwork", help="telephone fieldwork: AAPOR rates, call queue, calls, productivity, back-checks"
    )
    fsub = p.add_subparsers(dest="fieldwork_command", metavar="ACTION", required=True)

    q = fsub.add_parser("rates", help="AAPOR response, cooperation, refusal and contact rates with num/den")
    add_study_argument(q)
    q.add_argument("--by", choices=("overall", "interviewer", "day", "quota"), default="overall")
    q.set_defaults(handler=cmd_rates)

    q = fsub.add_parser("queue", help="how the call queue stands: due appointments, ready, waiting, leased")
    add_study_argument(q)
    q.set_defaults(handler=cmd_queue)

    q = fsub.add_parser("next", help="lease the next case to call to an interviewer and show it")
    add_study_argument(q)
    q.add_argument("--interviewer", required=True, help="who is calling (the case is leased to them)")
    q.set_defaults(handler=cmd_next)

    q = fsub.add_parser("call", help="record a call's outcome (and a callback time)")
    q.add_argument("respondent")
    q.add_argument("outcome", help="the outcome's name, e.g. no_answer, busy, callback, refusal")
    add_study_argument(q)
    q.add_argument("--interviewer", required=True, help="who made the call")
    q.add_argument("--callback", metavar="'YYYY-MM-DD HH:MM'", help="book a callback (the respondent's local time)")
    q.add_argument("--hard", action="store_true", help="the callback is a firm appointment (called at its time)")
    q.add_argument("--note")
    q.set_defaults(handler=cmd_call)

    q = fsub.add_parser("outcomes", help="the call outcomes, their keys and AAPOR codes")
    add_study_argument(q)
    q.set_defaults(handler=cmd_outcomes)

    q = fsub.add_parser("recompute", help="rebuild every final disposition from the call history")
    add_study_argument(q)
    q.set_defaults(handler=cmd_recompute)

    q = fsub.add_parser("productivity", help="calls, contacts, completes, hours per interviewer and day")
    add_study_argument(q)
    q.add_argument("-o", "--output", help="write it to a .csv or .xlsx file (in exports/)")
    q.set_defaults(handler=cmd_productivity)

    q = fsub.add_parser("backcheck", help="back-checks: draw a sample, record results, report")
    bsub = q.add_subparsers(dest="backcheck_action", metavar="STEP", required=True)
    b = bsub.add_parser("draw", help="sample each interviewer's completes (seed stored)")
    add_study_argument(b)
    b.add_argument("--share", type=float, help="share of each interviewer's completes (default: study.yaml, 0.1)")
    b.add_argument("--seed", type=int, help="random seed (default: a new one, stored with the sample)")
    b.add_argument("--actor")
    b.set_defaults(handler=cmd_backcheck_draw)
    b = bsub.add_parser("record", help="record one back-check's result")
    b.add_argument("interview", type=int, help="the sampled interview's number")
    b.add_argument("result", choices=("confirmed", "not_confirmed", "not_reached"))
    add_study_argument(b)
    b.add_argument("--checker", help="who made the back-check call")
    b.add_argument("--note")
    b.set_defaults(handler=cmd_backcheck_record)
    b = bsub.add_parser("report", help="per interviewer: sampled, results, failure rate, flags")
    add_study_argument(b)
    b.set_defaults(handler=cmd_backcheck_report)


def _settings(study):  # type: ignore[no-untyped-def]
    from survey_tui.core.fieldwork.dispositions import settings_of

    return settings_of(study.config)


def cmd_rates(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import rates

    study = resolve_study(args.study)
    settings = _settings(study)
    with study.store() as store:
        tables = (
            [rates.overall(store, settings)]
            if args.by == "overall"
            else rates.by(store, args.by, settings, study.config.quotas)
        )
    if not tables:
        print("no cases yet")
    for table in tables:
        print(escape_controls(f"== {table.label} ({table.cases} cases)"))
        for line in rates.lines(table):
            print("  " + line)
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import for_study

    study = resolve_study(args.study)
    with study.store() as store:
        board = for_study(study, store).board()
    for name, count in board.items():
        print(f"{name:<20} {count:>7}")
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import for_study
    from survey_tui.core.fieldwork.dispositions import history

    study = resolve_study(args.study)
    with study.store() as store:
        queue = for_study(study, store)
        case = queue.next_case(args.interviewer)
        if case is None:
            print("no case can be called now (outside calling hours, waiting for redial, or all done)")
            return 0
        print(f"{case.id}  {case.why}  attempts {case.attempts}  leased to {args.interviewer} until {case.lease_until}")
        if case.appointment:
            print(f"appointment {case.appointment} ({case.appointment_kind or 'soft'}, {case.timezone})")
        for at, who, outcome, code, note in history(store, case.id):
            print(escape_controls(f"  {at[:16]}  {who or '-'}  {outcome}  {code or ''}  {note or ''}"))
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import for_study

    study = resolve_study(args.study)
    with study.store() as store:
        queue = for_study(study, store)
        try:
            attempts = queue.record_call(
                args.respondent,
                args.outcome,
                interviewer=args.interviewer,
                note=args.note,
                callback=args.callback,
                hard=args.hard,
            )
        except Exception as exc:  # CallError (a StoreError): said plainly, nothing changed
            from survey_tui.core.store.sqlite import StoreError

            if not isinstance(exc, StoreError):
                raise
            print(escape_controls(f"survey-tui fieldwork call: {exc}"), file=sys.stderr)
            return 1
        code = store.query("SELECT disposition FROM respondents WHERE id = ?", (args.respondent,))[0][0]
    print(f"{args.respondent}: {args.outcome} recorded (attempt {attempts}); final disposition so far {code}")
    return 0


def cmd_outcomes(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    settings = _settings(study)
    for name, outcome in settings.all_outcomes().items():
        key = outcome.key or "-"
        what = "final" if outcome.final else f"redial {outcome.redial_minutes or 0} min"
        label = outcome.text(study.config.language, name)
        print(escape_controls(f"{key}  {name:<18} {outcome.aapor:<6} {what:<16} {label}"))
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import question_counts
    from survey_tui.core.fieldwork.dispositions import recompute

    study = resolve_study(args.study)
    with study.store() as store:
        count = recompute(store, _settings(study), question_counts(study, store))
    print(f"{count} final dispositions rebuilt from the call history and the interviews")
    return 0


def cmd_productivity(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.productivity import productivity, write

    study = resolve_study(args.study)
    with study.store() as store:
        frame = productivity(store, _settings(study))
    if args.output:
        target = study.export_target(args.output)
        write(frame, target)
        print(f"wrote {study.relative(target)} ({frame.height} rows)")
        return 0
    print("  ".join(frame.columns))
    for row in frame.iter_rows():
        print(escape_controls("  ".join("-" if v is None else str(v) for v in row)))
    return 0


def cmd_backcheck_draw(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import backchecks

    study = resolve_study(args.study)
    share = args.share if args.share is not None else _settings(study).backcheck.share
    with study.store() as store:
        sample = backchecks.draw(store, share, args.seed, actor=args.actor)
    total = sum(len(v) for v in sample.drawn.values())
    print(f"sample #{sample.id}: {total} interviews ({share:.0%} of each interviewer's completes), seed {sample.seed}")
    for who, ids in sample.drawn.items():
        print(escape_controls(f"  {who}: {', '.join(f'#{i}' for i in ids)}"))
    return 0


def cmd_backcheck_record(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import backchecks

    study = resolve_study(args.study)
    with study.store() as store:
        try:
            backchecks.record(store, args.interview, args.result, checker=args.checker, note=args.note)
        except backchecks.BackcheckError as exc:
            print(escape_controls(f"survey-tui fieldwork backcheck record: {exc}"), file=sys.stderr)
            return 1
    print(f"interview #{args.interview}: {args.result.replace('_', ' ')}")
    return 0


def cmd_backcheck_report(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import backchecks

    study = resolve_study(args.study)
    threshold = _settings(study).backcheck.failure_threshold
    with study.store() as store:
        rows = backchecks.summary(store, threshold)
    print(
        f"interviewer  completes  sampled  confirmed  not_confirmed  not_reached  pending  failure (> {threshold:.0%})"
    )
    for r in rows:
        rate = "-" if r.failure_rate is None else f"{r.failure_rate:.0%}"
        flag = "  FLAGGED" if r.flagged else ""
        print(
            escape_controls(
                f"{r.interviewer:<12} {r.completes:>9} {r.sampled:>8} {r.confirmed:>10} {r.not_confirmed:>14}"
                f" {r.not_reached:>12} {r.pending:>8}  {rate}{flag}"
            )
        )
    return 0
