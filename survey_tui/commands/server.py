"""`survey-tui server`: a team's PostgreSQL server for a study: set up the schema, roles and policies, add people."""

from __future__ import annotations

import argparse
import sys

from survey_tui.cli import has_terminal


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("server", help="a PostgreSQL server as the study's shared store: set up, add people")
    actions = p.add_subparsers(dest="server_command", metavar="ACTION", required=True)

    q = actions.add_parser(
        "setup", help="create the schema, the roles (interviewer, supervisor, analyst) and policies on a database"
    )
    q.add_argument("url", help="the database, e.g. postgresql://owner@db.example.org/brand_study (run as its owner)")
    q.set_defaults(handler=cmd_setup)

    q = actions.add_parser("add-user", help="give a person a login in one of the roles")
    q.add_argument("url", help="the database, as the owner (or a role that may create roles)")
    q.add_argument("name", help="their login name; for an interviewer, the name respondents are assigned to")
    q.add_argument("role", choices=["interviewer", "supervisor", "analyst"])
    q.add_argument("--password", action="store_true", help="ask for their password now (else set it later)")
    q.set_defaults(handler=cmd_add_user)

    q = actions.add_parser(
        "maintain", help="as the owner: vacuum away what erasures left (run nightly, e.g. from cron)"
    )
    q.add_argument("url", help="the database, as the owner of its tables (who ran 'server setup')")
    q.set_defaults(handler=cmd_maintain)


def cmd_setup(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import setup_server

    report = setup_server(args.url)
    print(f"{report.where}: schema version {report.schema_version}, {report.tables} tables")
    print(f"roles: {', '.join(report.roles)} (row-level security keeps contact data to supervisors and the")
    print("assigned interviewer); add people with 'survey-tui server add-user URL NAME ROLE'")
    return 0


def cmd_add_user(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import add_member

    password = None
    if args.password:
        if not has_terminal():
            print("survey-tui server add-user: --password needs a terminal to ask on", file=sys.stderr)
            return 2
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
    add_member(args.url, args.name, args.role, password)
    print(f"{args.name} is a survey {args.role} now; they connect with their own URL (user {args.name}) and keep")
    print("their password in ~/.pgpass, never in study.yaml")
    return 0


def cmd_maintain(args: argparse.Namespace) -> int:
    from survey_tui.core.store.roles import maintain

    report = maintain(args.url)
    print(f"{report.where}: vacuumed {', '.join(report.tables)}; {report.requests} erasures were waiting for it")
    return 0
