"""Offline laptops: `device checkout` / `device status`, `sync`, and the supervisor's `conflicts` list/resolve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.core.problems import escape_controls


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("device", help="offline laptops: check a study out for one interviewer, see what is synced")
    actions = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)

    q = actions.add_parser(
        "checkout",
        help="make a local study in DIR with the published versions, the interviewer's respondents (and only "
        "their contacts) and the quota state",
    )
    q.add_argument("dir", help="the new device study folder (must not exist or be empty)")
    q.add_argument("--server", required=True, help="the shared study: its folder (or, later, its database URL)")
    q.add_argument("--interviewer", required=True, help="whose respondents the device takes")
    q.set_defaults(handler=cmd_checkout)

    q = actions.add_parser("status", help="what this device has confirmed, waiting or in conflict")
    add_study_argument(q)
    q.set_defaults(handler=cmd_status)

    p = sub.add_parser(
        "sync", help="push this device's interviews to its server and pull versions, assignments, quotas"
    )
    add_study_argument(p)
    p.add_argument("--server", help="where the server is now, if it moved (default: where it was checked out)")
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser(
        "conflicts", help="interviews or respondents changed on a device and on the server: list and resolve"
    )
    actions = p.add_subparsers(dest="conflicts_command", metavar="ACTION", required=True)
    q = actions.add_parser("list", help="the conflicts to resolve (or all with --all)")
    q.add_argument("--study", help="the server study (default: the one around the current folder)")
    q.add_argument("--all", action="store_true", help="include resolved conflicts")
    q.set_defaults(handler=cmd_conflicts_list)
    q = actions.add_parser("resolve", help="keep the server's interview or the device's")
    q.add_argument("id", type=int, help="the conflict number from 'conflicts list'")
    q.add_argument("--keep", choices=("server", "device"), required=True, help="which version of the interview stays")
    q.add_argument("--study", help="the server study (default: the one around the current folder)")
    q.add_argument("--actor")
    q.set_defaults(handler=cmd_conflicts_resolve)


def cmd_checkout(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import checkout, open_server

    server = open_server(args.server)
    try:
        target = checkout(server, args.interviewer, Path(args.dir))
    finally:
        server.store.close()
    from survey_tui.core.store.sqlite import Store

    with Store(target / "survey.db") as store:
        respondents = int(store.query("SELECT COUNT(*) FROM respondents")[0][0])
        versions = len(store.versions())
    print(
        escape_controls(
            f"checked out {target} for {args.interviewer}: {versions} published versions, {respondents} respondents"
        )
    )
    if not respondents:
        print(f"note: nobody is assigned to {args.interviewer} on the server; walk-in interviews only", file=sys.stderr)
    print(f"interview offline with: survey-tui interview --study {target} --interviewer {args.interviewer}")
    print(f"then, when online: survey-tui sync --study {target}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import device_link, device_status

    study = resolve_study(args.study)
    with study.store() as store:
        link = device_link(store)
        if link is None:
            print(f"{study.root}: not a device copy (it is a study of its own)", file=sys.stderr)
            return 1
        counts = device_status(store)
    print(escape_controls(f"device of {link.server} for {link.interviewer}; last sync {link.last_sync_at or 'never'}"))
    print(
        f"{counts['total']} interviews: {counts.get('synced', 0)} confirmed, {counts['waiting']} waiting, "
        f"{counts.get('conflict', 0)} in conflict"
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import device_link, open_server, sync_device

    study = resolve_study(args.study)
    with study.store() as device:
        link = device_link(device)
        if link is None:
            print(f"{study.root}: not a device copy; make one with 'survey-tui device checkout'", file=sys.stderr)
            return 1
        server = open_server(args.server or link.server)
        try:
            report = sync_device(device, server)
        finally:
            server.store.close()
    for line in report.lines():
        print(escape_controls(line))
    return 0


def cmd_conflicts_list(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import conflicts

    study = resolve_study(args.study)
    with study.store() as store:
        found = conflicts(store, open_only=not args.all)
    if not found:
        print("no conflicts to resolve" if not args.all else "no conflicts")
        return 0
    for c in found:
        state = "open" if c.resolution is None else f"kept {c.resolution}"
        differing = ", ".join(c.differing) or ("nothing now" if c.kind == "respondent" else "status only")
        subject = (
            f"respondent {c.respondent_id}"
            if c.kind == "respondent"
            else f"interview {c.interview_id} ({c.interview_uuid[:8]})"
        )
        print(
            escape_controls(
                f"#{c.id}  {subject}  {c.interviewer or '-'}  {c.created_at[:16]}  differs: {differing}  [{state}]"
            )
        )
    print("resolve with: survey-tui conflicts resolve ID --keep server|device")
    return 0


def cmd_conflicts_resolve(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import resolve_conflict

    study = resolve_study(args.study)
    with study.store() as store:
        kind = store.query("SELECT kind FROM sync_conflicts WHERE id = ?", (args.id,))
        subject = resolve_conflict(store, args.id, args.keep, actor=args.actor)
    if kind and kind[0][0] == "respondent":
        print(f"conflict #{args.id} resolved: respondent {subject} keeps the {args.keep}'s lifecycle")
    else:
        print(f"conflict #{args.id} resolved: interview {subject[:8]} keeps the {args.keep}'s version")
    return 0
