"""`survey-tui server`: a team's PostgreSQL server for a study: set up the schema, roles and policies, add people."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import has_terminal
from survey_tui.i18n import _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("server", help=_("a PostgreSQL server as the study's shared store: set up, add people"))
    actions = p.add_subparsers(dest="server_command", metavar="ACTION", required=True)

    q = actions.add_parser(
        "setup", help=_("create the schema, the roles (interviewer, supervisor, analyst) and policies on a database")
    )
    q.add_argument("url", help=_("the database, e.g. postgresql://owner@db.example.org/brand_study (run as its owner)"))
    q.set_defaults(handler=cmd_setup)

    q = actions.add_parser("add-user", help=_("give a person a login in one of the roles"))
    q.add_argument("url", help=_("the database, as the owner (or a role that may create roles)"))
    q.add_argument("name", help=_("their login name; for an interviewer, the name respondents are assigned to"))
    q.add_argument("role", choices=["interviewer", "supervisor", "analyst"], help=_("what they may see and do"))
    q.add_argument("--password", action="store_true", help=_("ask for their password now (else set it later)"))
    q.set_defaults(handler=cmd_add_user)

    q = actions.add_parser(
        "maintain", help=_("as the owner: vacuum away what erasures left (run nightly, e.g. from cron)")
    )
    q.add_argument("url", help=_("the database, as the owner of its tables (who ran 'server setup')"))
    q.set_defaults(handler=cmd_maintain)


def cmd_setup(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import setup_server

    report = setup_server(args.url)
    print(
        _("{where}: schema version {version}, {tables} tables").format(
            where=report.where, version=report.schema_version, tables=report.tables
        )
    )
    print(
        _(
            "roles: {roles} (row-level security keeps contact data to supervisors and the assigned interviewer); "
            "add people with 'survey-tui server add-user URL NAME ROLE'"
        ).format(roles=", ".join(report.roles))
    )
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import add_member

    password = None
    if args.password:
        if not has_terminal():
            print(
                "survey-tui server add-user: " + _("--password needs a terminal to ask on"),
                file=sys.stderr,
            )
            return 2
        import getpass

        password = getpass.getpass(_("password for {name}: ").format(name=args.name))
    add_member(args.url, args.name, args.role, password)
    role = {"interviewer": _("interviewer"), "supervisor": _("supervisor"), "analyst": _("analyst")}[args.role]
    print(
        _(
            "{name} is a survey {role} now; they connect with their own URL (user {name}) and keep "
            "their password in ~/.pgpass, never in study.yaml"
        ).format(name=args.name, role=role)
    )
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import maintain

    report = maintain(args.url)
    print(
        _("{where}: vacuumed {tables}; {requests} erasures were waiting for it").format(
            where=report.where, tables=", ".join(report.tables), requests=report.requests
        )
    )
    return 0
