"""Telephone fieldwork commands (T1.3 P1.3.3): AAPOR rates, the call queue, calls, productivity, back-checks."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.commands import pad as _pad
from survey_tui.core.problems import escape_controls
from survey_tui.i18n import N_, _

#: the rates module's placeholders for a case without a group
NO_GROUP = {"(none)": N_("(unassigned)"), "(not called)": N_("(not called)"), "(unknown)": N_("(unknown)")}
#: the productivity frame's columns (kept as they are in the CSV/xlsx file) as the terminal shows them
PRODUCTIVITY_WORDS = {
    "interviewer": N_("interviewer"),
    "day": N_("day"),
    "calls": N_("calls"),
    "contacts": N_("contacts"),
    "completes": N_("completes"),
    "refusals": N_("refusals"),
    "hours": N_("hours"),
    "completes_per_hour": N_("completes per hour"),
    "median_minutes": N_("median minutes"),
    "speeding": N_("too fast"),
}
BACKCHECK_RESULTS = {
    "confirmed": N_("confirmed"),
    "not_confirmed": N_("not confirmed"),
    "not_reached": N_("could not reach"),
}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "fieldwork", help=_("telephone fieldwork: AAPOR rates, call queue, calls, productivity, back-checks")
    )
    fsub = p.add_subparsers(dest="fieldwork_command", metavar="ACTION", required=True)

    q = fsub.add_parser("rates", help=_("AAPOR response, cooperation, refusal and contact rates with num/den"))
    add_study_argument(q)
    q.add_argument(
        "--by",
        choices=("overall", "interviewer", "day", "quota"),
        default="overall",
        help=_("one table overall, or one per group"),
    )
    q.set_defaults(handler=cmd_rates)

    q = fsub.add_parser("queue", help=_("how the call queue stands: due appointments, ready, waiting, leased"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_queue)

    q = fsub.add_parser("next", help=_("lease the next case to call to an interviewer and show it"))
    add_study_argument(q)
    q.add_argument("--interviewer", required=True, help=_("who is calling (the case is leased to them)"))
    q.set_defaults(handler=cmd_next)

    q = fsub.add_parser("call", help=_("record a call's outcome (and a callback time)"))
    q.add_argument("respondent", help=_("the respondent's id"))
    q.add_argument("outcome", help=_("the outcome's name, e.g. no_answer, busy, callback, refusal"))
    add_study_argument(q)
    q.add_argument("--interviewer", required=True, help=_("who made the call"))
    q.add_argument("--callback", metavar="'YYYY-MM-DD HH:MM'", help=_("book a callback (the respondent's local time)"))
    q.add_argument("--hard", action="store_true", help=_("the callback is a firm appointment (called at its time)"))
    q.add_argument("--note", help=_("a note kept with the call"))
    q.set_defaults(handler=cmd_call)

    q = fsub.add_parser("outcomes", help=_("the call outcomes, their keys and AAPOR codes"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_outcomes)

    q = fsub.add_parser("recompute", help=_("rebuild every final disposition from the call history"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_recompute)

    q = fsub.add_parser("productivity", help=_("calls, contacts, completes, hours per interviewer and day"))
    add_study_argument(q)
    q.add_argument("-o", "--output", help=_("write it to a .csv or .xlsx file (in exports/)"))
    q.set_defaults(handler=cmd_productivity)

    q = fsub.add_parser("backcheck", help=_("back-checks: draw a sample, record results, report"))
    bsub = q.add_subparsers(dest="backcheck_action", metavar="STEP", required=True)
    b = bsub.add_parser("draw", help=_("sample each interviewer's completes (seed stored)"))
    add_study_argument(b)
    b.add_argument("--share", type=float, help=_("share of each interviewer's completes (default: study.yaml, 0.1)"))
    b.add_argument("--seed", type=int, help=_("random seed (default: a new one, stored with the sample)"))
    b.add_argument("--actor", help=_("who drew the sample (for the log)"))
    b.set_defaults(handler=cmd_backcheck_draw)
    b = bsub.add_parser("record", help=_("record one back-check's result"))
    b.add_argument("interview", type=int, help=_("the sampled interview's number"))
    b.add_argument("result", choices=("confirmed", "not_confirmed", "not_reached"), help=_("what the call back found"))
    add_study_argument(b)
    b.add_argument("--checker", help=_("who made the back-check call"))
    b.add_argument("--note", help=_("a note kept with the result"))
    b.set_defaults(handler=cmd_backcheck_record)
    b = bsub.add_parser("report", help=_("per interviewer: sampled, results, failure rate, flags"))
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
        print(_("no cases yet"))
    for table in tables:
        label = _(NO_GROUP[table.label]) if table.label in NO_GROUP else table.label
        if label == "overall":
            label = _("overall")
        print(escape_controls(_("== {label} ({cases} cases)").format(label=label, cases=table.cases)))
        for line in rates.lines(table):
            print("  " + line)
    return 0


def cmd_queue(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import BOARD_WORDS, for_study

    study = resolve_study(args.study)
    with study.store() as store:
        board = for_study(study, store).board()
    for name, count in board.items():
        print(_pad(_(BOARD_WORDS.get(name, name)), 20) + f" {count:>7}")
    return 0


def cmd_next(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import for_study
    from survey_tui.core.fieldwork.dispositions import history

    study = resolve_study(args.study)
    with study.store() as store:
        queue = for_study(study, store)
        case = queue.next_case(args.interviewer)
        if case is None:
            print(_("no case can be called now (outside calling hours, waiting for redial, or all done)"))
            return 0
        print(
            escape_controls(
                _("{id}  {why}  attempts {attempts}  leased to {interviewer} until {until}").format(
                    id=case.id,
                    why=case.why,
                    attempts=case.attempts,
                    interviewer=args.interviewer,
                    until=case.lease_until,
                )
            )
        )
        if case.appointment:
            kind = _("firm") if case.appointment_kind == "hard" else _("soft")
            print(_("appointment {at} ({kind}, {zone})").format(at=case.appointment, kind=kind, zone=case.timezone))
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
    print(
        escape_controls(
            _("{respondent}: {outcome} recorded (attempt {attempts}); final disposition so far {code}").format(
                respondent=args.respondent, outcome=args.outcome, attempts=attempts, code=code
            )
        )
    )
    return 0


def cmd_outcomes(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    settings = _settings(study)
    for name, outcome in settings.all_outcomes().items():
        key = outcome.key or "-"
        what = _("final") if outcome.final else _("redial {minutes} min").format(minutes=outcome.redial_minutes or 0)
        label = outcome.text(study.config.language, name)
        print(escape_controls(f"{key}  {name:<18} {outcome.aapor:<6} {_pad(what, 16)} {label}"))
    return 0


def cmd_recompute(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.call_queue import question_counts
    from survey_tui.core.fieldwork.dispositions import recompute

    study = resolve_study(args.study)
    with study.store() as store:
        count = recompute(store, _settings(study), question_counts(study, store))
    print(_("{count} final dispositions rebuilt from the call history and the interviews").format(count=count))
    return 0


def cmd_productivity(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.productivity import productivity, write

    study = resolve_study(args.study)
    with study.store() as store:
        frame = productivity(store, _settings(study))
    if args.output:
        target = study.export_target(args.output)
        write(frame, target)
        print(_("wrote {path} ({rows} rows)").format(path=study.relative(target), rows=frame.height))
        return 0
    print("  ".join(_(PRODUCTIVITY_WORDS[c]) if c in PRODUCTIVITY_WORDS else c for c in frame.columns))
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
    print(
        _("sample #{id}: {total} interviews ({share} of each interviewer's completes), seed {seed}").format(
            id=sample.id, total=total, share=f"{share:.0%}", seed=sample.seed
        )
    )
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
    print(_("interview #{number}: {result}").format(number=args.interview, result=_(BACKCHECK_RESULTS[args.result])))
    return 0


def cmd_backcheck_report(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import backchecks

    study = resolve_study(args.study)
    threshold = _settings(study).backcheck.failure_threshold
    with study.store() as store:
        rows = backchecks.summary(store, threshold)
    widths = (12, 9, 8, 10, 14, 12, 8)
    heads = (
        _("interviewer"),
        _("completes"),
        _("sampled"),
        _("confirmed"),
        _("not confirmed"),
        _("not reached"),
        _("pending"),
    )
    failure = _("failure (> {threshold})").format(threshold=f"{threshold:.0%}")
    print(
        " ".join(_pad(h, w, right=i > 0) for i, (h, w) in enumerate(zip(heads, widths, strict=True))) + "  " + failure
    )
    for r in rows:
        rate = "-" if r.failure_rate is None else f"{r.failure_rate:.0%}"
        flag = "  " + _("FLAGGED") if r.flagged else ""
        values = (r.interviewer, r.completes, r.sampled, r.confirmed, r.not_confirmed, r.not_reached, r.pending)
        cells = (_pad(str(v), w, right=i > 0) for i, (v, w) in enumerate(zip(values, widths, strict=True)))
        print(escape_controls(" ".join(cells) + f"  {rate}{flag}"))
    return 0
