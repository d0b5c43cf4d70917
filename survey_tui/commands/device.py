"""Offline laptops: `device checkout` / `device status`, `sync`, and the supervisor's `conflicts` list/resolve."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.core.problems import escape_controls
from survey_tui.i18n import N_, _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("device", help=_("offline laptops: check a study out for one interviewer, see what is synced"))
    actions = p.add_subparsers(dest="device_command", metavar="ACTION", required=True)

    q = actions.add_parser(
        "checkout",
        help=_(
            "make a local study in DIR with the published versions, the interviewer's respondents (and only "
            "their contacts) and the quota state"
        ),
    )
    q.add_argument("dir", help=_("the new device study folder (must not exist or be empty)"))
    q.add_argument("--server", required=True, help=_("the shared study: its folder (or, later, its database URL)"))
    q.add_argument("--interviewer", required=True, help=_("whose respondents the device takes"))
    q.set_defaults(handler=cmd_checkout)

    q = actions.add_parser("status", help=_("what this device has confirmed, waiting or in conflict"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_status)

    p = sub.add_parser(
        "sync", help=_("push this device's interviews to its server and pull versions, assignments, quotas")
    )
    add_study_argument(p)
    p.add_argument("--server", help=_("where the server is now, if it moved (default: where it was checked out)"))
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser(
        "conflicts", help=_("interviews or respondents changed on a device and on the server: list and resolve")
    )
    actions = p.add_subparsers(dest="conflicts_command", metavar="ACTION", required=True)
    q = actions.add_parser("list", help=_("the conflicts to resolve (or all with --all)"))
    q.add_argument("--study", help=_("the server study (default: the one around the current folder)"))
    q.add_argument("--all", action="store_true", help=_("include resolved conflicts"))
    q.set_defaults(handler=cmd_conflicts_list)
    q = actions.add_parser("resolve", help=_("keep the server's interview or the device's"))
    q.add_argument("id", type=int, help=_("the conflict number from 'conflicts list'"))
    q.add_argument(
        "--keep", choices=("server", "device"), required=True, help=_("which version of the interview stays")
    )
    q.add_argument("--study", help=_("the server study (default: the one around the current folder)"))
    q.add_argument("--actor", help=_("who resolved it (for the log)"))
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
            _(
                "checked out {target} for {interviewer}: {versions} published versions, {respondents} respondents"
            ).format(target=target, interviewer=args.interviewer, versions=versions, respondents=respondents)
        )
    )
    if not respondents:
        print(
            _("note: nobody is assigned to {interviewer} on the server; walk-in interviews only").format(
                interviewer=args.interviewer
            ),
            file=sys.stderr,
        )
    print(
        _("interview offline with: {command}").format(
            command=f"survey-tui interview --study {target} --interviewer {args.interviewer}"
        )
    )
    print(_("then, when online: {command}").format(command=f"survey-tui sync --study {target}"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import device_link, device_status

    study = resolve_study(args.study)
    with study.store() as store:
        link = device_link(store)
        if link is None:
            print(_("{root}: not a device copy (it is a study of its own)").format(root=study.root), file=sys.stderr)
            return 1
        counts = device_status(store)
    print(
        escape_controls(
            _("device of {server} for {interviewer}; last sync {when}").format(
                server=link.server, interviewer=link.interviewer, when=link.last_sync_at or _("never")
            )
        )
    )
    print(
        _("{total} interviews: {synced} confirmed, {waiting} waiting, {conflict} in conflict").format(
            total=counts["total"],
            synced=counts.get("synced", 0),
            waiting=counts["waiting"],
            conflict=counts.get("conflict", 0),
        )
    )
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import device_link, open_server, sync_device

    study = resolve_study(args.study)
    with study.store() as device:
        link = device_link(device)
        if link is None:
            print(
                _("{root}: not a device copy; make one with 'survey-tui device checkout'").format(root=study.root),
                file=sys.stderr,
            )
            return 1
        server = open_server(args.server or link.server)
        try:
            report = sync_device(device, server)
        finally:
            server.store.close()
    for line in report.lines():
        print(escape_controls(line))
    return 0


#: a resolution as the store keeps it, in words of the interface
SIDES = {"server": N_("server"), "device": N_("device")}


def cmd_conflicts_list(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import conflicts

    study = resolve_study(args.study)
    with study.store() as store:
        found = conflicts(store, open_only=not args.all)
    if not found:
        print(_("no conflicts to resolve") if not args.all else _("no conflicts"))
        return 0
    for c in found:
        side = _(SIDES[c.resolution]) if c.resolution in SIDES else c.resolution
        state = _("open") if c.resolution is None else _("kept {side}").format(side=side)
        differing = ", ".join(c.differing) or (_("nothing now") if c.kind == "respondent" else _("status only"))
        subject = (
            _("respondent {id}").format(id=c.respondent_id)
            if c.kind == "respondent"
            else _("interview {id} ({uuid})").format(id=c.interview_id, uuid=c.interview_uuid[:8])
        )
        print(
            escape_controls(
                _("#{id}  {subject}  {interviewer}  {at}  differs: {differing}  [{state}]").format(
                    id=c.id,
                    subject=subject,
                    interviewer=c.interviewer or "-",
                    at=c.created_at[:16],
                    differing=differing,
                    state=state,
                )
            )
        )
    print(_("resolve with: {command}").format(command="survey-tui conflicts resolve ID --keep server|device"))
    return 0


def cmd_conflicts_resolve(args: argparse.Namespace) -> int:
    from survey_tui.core.store.sync import resolve_conflict

    study = resolve_study(args.study)
    with study.store() as store:
        kind = store.query("SELECT kind FROM sync_conflicts WHERE id = ?", (args.id,))
        subject = resolve_conflict(store, args.id, args.keep, actor=args.actor)
    if kind and kind[0][0] == "respondent":
        message = (
            _("conflict #{id} resolved: respondent {subject} keeps the server's lifecycle")
            if args.keep == "server"
            else _("conflict #{id} resolved: respondent {subject} keeps the device's lifecycle")
        )
        print(message.format(id=args.id, subject=subject))
    else:
        message = (
            _("conflict #{id} resolved: interview {subject} keeps the server's version")
            if args.keep == "server"
            else _("conflict #{id} resolved: interview {subject} keeps the device's version")
        )
        print(message.format(id=args.id, subject=subject[:8]))
    return 0
