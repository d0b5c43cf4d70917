"""`survey-tui privacy`: PDPA on record: log and close data-subject requests, purge after retention, and
write the evidence report (notice versions, consents, requests, erasures, purges, who reads contact data)."""

from __future__ import annotations

import argparse
from datetime import date

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.i18n import N_, _


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from survey_tui.core.lazy import LazyChoices

    p = sub.add_parser("privacy", help=_("personal data on record (PDPA): requests, retention purge, report"))
    actions = p.add_subparsers(dest="privacy_command", metavar="ACTION", required=True)

    q = actions.add_parser("report", help=_("write exports/privacy_report.md: the evidence of how data was handled"))
    add_study_argument(q)
    q.add_argument("--lang", help=_("language of the notice items (default: the study's)"))
    q.set_defaults(handler=cmd_report)

    q = actions.add_parser("request", help=_("log a data-subject request (due date by PDPA Art. 13)"))
    q.add_argument("respondent")
    q.add_argument(
        "kind",
        choices=LazyChoices("survey_tui.core.fieldwork.privacy", "REQUEST_KINDS"),
        metavar="KIND",
        help=_("what the person asks for: inquiry, copy (15 days), correction, stop or deletion (30 days)"),
    )
    q.add_argument("--received", type=date.fromisoformat, help=_("the day it was received (default: today)"))
    q.add_argument("--note", help=_("how the request came in or what it says, kept with the request"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_request)

    q = actions.add_parser("close", help=_("record the outcome of a data-subject request"))
    q.add_argument("id", type=int, help=_("the request's number, as `privacy report` lists it"))
    q.add_argument(
        "outcome",
        choices=LazyChoices("survey_tui.core.fieldwork.privacy", "OUTCOMES"),
        metavar="OUTCOME",
        help=_("done, refused or extended (the deadline, by law once)"),
    )
    q.add_argument("--note", help=_("what was done or why, kept with the request"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_close)

    q = actions.add_parser("purge", help=_("after the retention date: erase all contact data and log it"))
    add_study_argument(q)
    q.add_argument("--actor")
    q.set_defaults(handler=cmd_purge)

    q = actions.add_parser("key", help=_("where the study's contact key is, and how to back it up"))
    add_study_argument(q)
    q.add_argument(
        "--store",
        choices=("keyring", "file"),
        help=_("keep the key in the OS keyring or in its owner-only key file (moved, never copied)"),
    )
    q.set_defaults(handler=cmd_key)

    q = actions.add_parser("rotate-key", help=_("re-encrypt the contact data under a new key (old key retired)"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_rotate_key)


def cmd_report(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.privacy import report_markdown
    from survey_tui.core.yamlfile import write_text_atomic

    study = resolve_study(args.study)
    config = study.config
    with study.store() as store:
        text = report_markdown(
            store,
            title=config.title,
            notice=config.privacy_notice,
            language=args.lang or config.language,
            retention_until=config.retention_until,
            contact_readers=config.contact_readers,
            contact_fields=config.contact_fields,
        )
    target = study.exports_dir / "privacy_report.md"
    write_text_atomic(target, text)
    print(_("Privacy report written to {v0}").format(v0=study.relative(target)))
    return 0


def cmd_request(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import respondents as resp
    from survey_tui.core.fieldwork.privacy import log_request

    study = resolve_study(args.study)
    with study.store() as store:
        resp.get(store, args.respondent)  # an unknown id is refused with its name
        logged = log_request(store, args.respondent, args.kind, received_on=args.received, note=args.note)
    print(
        _("request #{id}: {kind} from {respondent_id}, received {received_on}, due {due_on}").format(
            id=logged.id,
            kind=logged.kind,
            respondent_id=logged.respondent_id,
            received_on=logged.received_on,
            due_on=logged.due_on,
        )
    )
    return 0


def cmd_close(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.privacy import close_request

    study = resolve_study(args.study)
    with study.store() as store:
        closed = close_request(store, args.id, args.outcome, args.note)
    print(_("request #{id}: {outcome}").format(id=closed.id, outcome=closed.outcome))
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork.privacy import purge_expired

    study = resolve_study(args.study)
    until = study.config.retention_until
    if until is None:
        print(_("the study has no retention_until date in study.yaml; nothing purged"))
        return 0
    with study.store() as store:
        count = purge_expired(store, until, actor=args.actor)
    if date.today() <= until:
        print(_("contact data is kept until {v0}; nothing purged yet").format(v0=until.isoformat()))
    else:
        print(
            _("purged {count} contact records (retention date {v1}); logged").format(count=count, v1=until.isoformat())
        )
    return 0


KEY_BACKUP = N_(
    "Back the key file up apart from the study (an encrypted USB stick or the firm's password manager), never "
    "inside the study folder or beside its backups: a backup of the study is readable only with this key."
)


def cmd_key(args: argparse.Namespace) -> int:
    import sys

    from survey_tui.core.fieldwork import contact_crypto as crypto
    from survey_tui.core.fieldwork import respondents as resp

    study = resolve_study(args.study)
    with study.store() as store:
        info = resp.contact_key_info(store)
        if info is None and not store.readonly:
            info = resp.ensure_key(store)
    if info is None:
        print(_("this study has no contact key yet (it is made with the first contact data)"))
        return 0
    study_key, fingerprint = info
    try:
        if args.store:
            before, after = crypto.move_key(study_key, fingerprint, args.store)
            found = crypto.locate_key(study_key, fingerprint)
        else:
            found = crypto.locate_key(study_key, fingerprint)
    except crypto.KeyringUnavailable as exc:
        try:
            where = crypto.locate_key(study_key, fingerprint).where
        except crypto.ContactKeyError as missing:
            print(f"privacy key: {missing}", file=sys.stderr)
            return 1
        print(
            _("privacy key: {reason}; the key stays in {where}, which is used as before").format(
                reason=exc, where=where
            ),
            file=sys.stderr,
        )
        return 1
    except crypto.ContactKeyError as exc:
        print(f"privacy key: {exc}", file=sys.stderr)
        return 1
    print(_("contact key {key} (fingerprint {fingerprint})").format(key=study_key, fingerprint=fingerprint))
    if args.store and before != after:
        print(_("moved from {before} to {after}").format(before=before, after=after))
    print(_("read from: {where}").format(where=found.where))
    if found.place is not None and found.place.kind == "file":
        _backend, why = crypto.keyring_backend()
        if why:
            print(_("OS keyring: not used ({why}); the key file is used").format(why=why))
    backup = KEY_BACKUP if found.place is None or found.place.kind == "file" else KEYRING_BACKUP
    print(_(backup))
    return 0


KEYRING_BACKUP = N_(
    "The key is now only in this machine's keyring: keep a copy of it apart from the study (the firm's password "
    "manager, or 'privacy key --store file' and back the file up): a backup of the study is readable only with it."
)


def cmd_rotate_key(args: argparse.Namespace) -> int:
    from survey_tui.core.fieldwork import respondents as resp

    study = resolve_study(args.study)
    with study.store() as store:
        count = resp.contact_count(store)
        where, fingerprint = resp.rotate_key(store)
    print(
        _(
            "{count} contact records re-encrypted under a new key (fingerprint {fingerprint}), written to {where}"
        ).format(count=count, fingerprint=fingerprint, where=where)
    )
    print(
        _(
            "the previous key is kept beside it as .retired-<time> so backups of survey.db made before now "
            "stay readable; delete it when those backups are gone"
        )
    )
    print(_(KEY_BACKUP))
    return 0
