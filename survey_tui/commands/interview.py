"""`survey-tui interview`: capture interviews in the form (default) or in plain prompts (--plain)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from survey_tui.cli import add_study_argument, has_terminal, print_problems, resolve_study
from survey_tui.core.problems import LoadError
from survey_tui.i18n import _

if TYPE_CHECKING:
    from survey_tui.core.interview.capture import CaptureSession


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("interview", help=_("capture interviews (the interviewer form, or --plain prompts)"))
    add_study_argument(p)
    p.add_argument("--interviewer", help=_("your name, stored with every interview"))
    p.add_argument("--respondent", help=_("respondent id to interview (default: choose, or a walk-in)"))
    p.add_argument("--pilot", action="store_true", help=_("a pilot interview (kept apart from field data)"))
    p.add_argument("--plain", action="store_true", help=_("line-by-line prompts (SSH, screen readers)"))
    p.add_argument("--resume", type=int, metavar="ID", help=_("resume a suspended or interrupted interview"))
    p.add_argument(
        "--next",
        action="store_true",
        dest="next_respondent",
        help=_("take your next respondent (your own first, then unassigned ones; never one another has taken)"),
    )
    p.add_argument("--lang", dest="language", help=_("interview language, e.g. zh-TW or en (was --language)"))
    p.set_defaults(handler=cmd_interview)


def _open(args: argparse.Namespace) -> CaptureSession:
    from survey_tui.core.interview.capture import open_for_respondent, resume_session, start_session

    study = resolve_study(args.study)
    if args.resume is not None:
        return resume_session(study, args.resume, interviewer=args.interviewer, language=args.language)
    if args.respondent is not None:  # their open interview resumes; else a new one (if they may be interviewed)
        return open_for_respondent(
            study,
            args.respondent,
            interviewer=args.interviewer,
            mode="pilot" if args.pilot else "field",
            language=args.language,
        )
    return start_session(
        study,
        mode="pilot" if args.pilot else "field",
        interviewer=args.interviewer,
        respondent_id=args.respondent,
        language=args.language,
        next_respondent=bool(getattr(args, "next_respondent", False)),
    )


def cmd_interview(args: argparse.Namespace) -> int:
    from survey_tui.core.interview.capture import CaptureError

    if not has_terminal():
        print(
            _(
                "survey-tui interview needs an interactive terminal (stdin and stdout are not one here).\n"
                "Run it in a terminal window or over 'ssh -t HOST survey-tui interview --plain'; answers cannot be "
                "piped in. Nothing was started or changed."
            ),
            file=sys.stderr,
        )
        return 2
    try:
        if args.plain:
            from survey_tui.plain.interview import ask_interviewer, questionary_ask, run_plain, stdout_say

            if not args.interviewer and args.resume is None:  # every interview is signed, as in the form
                args.interviewer = ask_interviewer(questionary_ask)

            session = _open(args)
            try:
                outcome = run_plain(session, questionary_ask, stdout_say)
            finally:
                session.close()
            return 0 if outcome else 1
        from survey_tui.tui.interview_app import InterviewApp

        study = resolve_study(args.study)
        direct = args.resume is not None or args.respondent is not None or bool(args.next_respondent)
        session = _open(args) if direct else None
        InterviewApp(
            study,
            session=session,
            interviewer=args.interviewer,
            mode="pilot" if args.pilot else "field",
            language=args.language,
            once=direct,
        ).run()
        return 0
    except CaptureError as exc:
        print(f"survey-tui interview: {exc}", file=sys.stderr)
        return 1
    except LoadError as exc:
        print_problems(exc.problems)
        return 1
