"""Respondent commands (T1.3): import a contact list, list respondents, re-screen, quota board, withdraw."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from survey_tui.cli import add_study_argument, resolve_study
from survey_tui.commands import pad as _pad
from survey_tui.core.lazy import LazyChoices, lazy
from survey_tui.core.problems import escape_controls
from survey_tui.i18n import _, current_language

if TYPE_CHECKING:
    from survey_tui.core.fieldwork import respondents as resp
    from survey_tui.core.study import Study
else:
    resp = lazy("survey_tui.core.fieldwork.respondents")  # imported when a respondents command runs, not for --help


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("respondents", help=_("respondents: import a contact list, list, screen, quotas, withdraw"))
    rsub = p.add_subparsers(dest="respondents_command", metavar="ACTION", required=True)

    q = rsub.add_parser(
        "import", help=_("import a CSV/XLSX contact list (all or nothing; CSV up to 1 GiB, XLSX up to 100 MiB)")
    )
    q.add_argument("file")
    add_study_argument(q)
    q.add_argument("--encoding", help=_("e.g. utf-8, big5, cp950 (default: detect)"))
    q.add_argument("--on-duplicate", choices=("merge", "skip"), default="merge")
    q.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="COLUMN=FIELD",
        help=_(
            "override the guessed mapping; COLUMN=attribute confirms a column identifies no one (else it is "
            "kept as personal data in the protected contact store)"
        ),
    )
    q.add_argument("--strict", action="store_true", help=_("import nothing when any row is bad"))
    q.add_argument("--dry-run", action="store_true", help=_("show the report, write nothing"))
    q.set_defaults(handler=cmd_import)

    q = rsub.add_parser("list", help=_("list respondents (no contact data unless --show-contacts)"))
    add_study_argument(q)
    q.add_argument(
        "--status", choices=LazyChoices("survey_tui.core.fieldwork.respondents", "STATUSES"), metavar="STATUS"
    )
    q.add_argument("--interviewer")
    q.add_argument("--search", default="")
    q.add_argument("--limit", type=int, default=50)
    q.add_argument("--show-contacts", action="store_true")
    q.set_defaults(handler=cmd_list)

    q = rsub.add_parser("screen", help=_("re-screen every respondent against the study's eligibility criteria"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_screen)

    q = rsub.add_parser("quotas", help=_("the quota board: targets and completes per cell"))
    add_study_argument(q)
    q.set_defaults(handler=cmd_quotas)

    q = rsub.add_parser("withdraw", help=_("a respondent withdrew consent: erase their contact data"))
    q.add_argument("respondent")
    add_study_argument(q)
    q.add_argument("--delete-answers", action="store_true", help=_("also delete their (anonymous) answers"))
    q.add_argument("--actor")
    q.set_defaults(handler=cmd_withdraw)


def cmd_import(args: argparse.Namespace) -> int:
    from survey_tui.io.contact_import import (
        ATTRIBUTE,
        ImportFailed,
        check_mapping,
        classify_columns,
        commit_import,
        guess_mapping,
        prepare_import,
        read_contact_file,
    )

    study = resolve_study(args.study)
    try:
        raw = read_contact_file(Path(args.file), args.encoding, progress=lambda text: print(text, file=sys.stderr))
        mapping = guess_mapping(raw.frame.columns)
        confirmed: set[str] = set()
        for item in args.map:
            column, _skip, target = item.partition("=")
            mapping[column.strip()] = target.strip()
            if target.strip() == ATTRIBUTE:
                confirmed.add(column.strip())
        check_mapping(mapping, raw.frame.columns, raw.source)
        unconfirmed: set[str] = set()
        mapping = classify_columns(raw.frame, mapping, confirmed, unconfirmed)
        for line in _classification_lines(mapping, unconfirmed):
            print(escape_controls(line))
        with study.store() as store:
            from survey_tui.io.contact_import import against_study

            plan = prepare_import(
                raw,
                mapping,
                **against_study(store),
                rule=args.on_duplicate,
                criteria=study.config.eligibility,
                language=study.config.language,
            )
            for line in plan.report_lines():
                print(escape_controls(line))
            if args.strict and plan.bad.height:
                print(
                    _("nothing imported: {height} bad rows and --strict").format(height=plan.bad.height),
                    file=sys.stderr,
                )
                return 1
            if args.dry_run:
                print(_("dry run: nothing imported"))
                return 0
            result = commit_import(store, plan)
        _record_classification(study, mapping)
        _notice_gaps(study, mapping)
    except ImportFailed as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        print(_("nothing imported"), file=sys.stderr)
        return 1
    print(
        _("imported {imported}, merged {merged}, skipped {skipped}, bad rows {bad}").format(
            imported=result.imported, merged=result.merged, skipped=result.skipped, bad=result.bad
        )
    )
    return 0


_PROTECTED = {"name", "phone", "email", "address", "personal"}


def _classification_lines(mapping: dict[str, str], unconfirmed: set[str]) -> list[str]:
    """The import preview: where each column goes, and which ones are personal data."""
    lines = [_("columns:")]
    for column, target in mapping.items():
        if target in _PROTECTED:
            where = _("personal data, protected contact store")
            if column in unconfirmed:
                where += _("; not confirmed as non-identifying: --map {column}=attribute makes it an attribute").format(
                    column=column
                )
        elif target == "ignore":
            where = _("not imported")
        else:
            where = _("respondent attribute")
        lines.append(f"  {column} -> {target} ({where})")
    return lines


def _notice_gaps(study: Study, mapping: dict[str, str]) -> None:
    """Say when the list brought personal fields the privacy notice's categories do not name (PDPA Art. 8)."""
    from survey_tui.core.fieldwork.privacy import unnamed_fields

    if study.config.privacy_notice is None:
        return
    missing = unnamed_fields(mapping, study.config.privacy_notice)
    if missing:
        print(
            _(
                "note: the privacy notice's categories (privacy_notice.categories in study.yaml) do not seem to name "
                "{columns}; respondents must be told every category kept: add them with a new notice version"
            ).format(columns=", ".join(escape_controls(c) for c in missing)),
            file=sys.stderr,
        )


def _record_classification(study: Study, mapping: dict[str, str]) -> None:
    """study.yaml keeps how every imported column was classified (contact_fields), comments kept."""
    from survey_tui.core.yamlfile import read_yaml, write_yaml_atomic

    doc, _skip = read_yaml(study.study_file)
    if doc is None or not isinstance(doc.root, dict):
        return
    fields = doc.root.get("contact_fields") or {}
    fields.update(mapping)
    doc.root["contact_fields"] = fields
    write_yaml_atomic(study.study_file, doc.root)


def cmd_list(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    flt = resp.RespondentFilter(status=args.status, interviewer=args.interviewer, search=args.search)
    with study.store() as store:
        if flt.search.strip() and not resp.search_ready(store):  # a new process opens the sealed rows once
            count = resp.contact_count(store)
            print(
                _(
                    "preparing the search: opening {count:,} sealed contact records in memory (nothing is written)…"
                ).format(count=count),
                file=sys.stderr,
            )
        page = resp.page(store, flt, 0, args.limit)
    if args.show_contacts and page.locked:
        print(f"respondents list: {page.locked}", file=sys.stderr)
        return 1
    if page.total > len(page.rows):
        print(_("{total} respondents (first {shown})").format(total=page.total, shown=len(page.rows)))
    else:
        print(_("{total} respondents").format(total=page.total))
    chinese = current_language() == "zh-TW"
    for row in page.rows:
        contact = f"  {row.name or ''} {row.phone or ''} {row.email or ''}" if args.show_contacts else ""
        eligible = {True: _("eligible"), False: _("not eligible"), None: "-"}[row.eligible]
        # the status id in English (as `--status` takes it), the field's word in Chinese
        status = resp.STATUS_LABELS.get(row.status, (row.status,))[0] if chinese else row.status
        print(
            escape_controls(
                f"{row.id}  {_pad(status, 12)} {_pad(row.interviewer or '-', 6)} {_pad(eligible, 12)} "
                f"{row.attempts}{contact}"
            )
        )
    if args.show_contacts:
        print(resp.CONTACT_NOTICE, file=sys.stderr)
    return 0


def cmd_screen(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    with study.store() as store:
        yes, no = resp.screen_all(store, study.config.eligibility, study.config.language)
    print(_("eligible {yes}, not eligible {no}").format(yes=yes, no=no))
    return 0


def cmd_quotas(args: argparse.Namespace) -> int:
    from rich.cells import cell_len

    from survey_tui.core.fieldwork.quotas import cell_key, quota_counts, quota_titles

    study = resolve_study(args.study)
    if not study.config.quotas:
        print(_("the study has no quotas (add quotas: to study.yaml)"))
        return 0
    with study.store() as store:
        cells = quota_counts(store, study.config.quotas)
    titles = quota_titles(study)
    # the quota's label in the interface language; its name stays as the id column (as --status takes ids)
    rows = [
        (
            escape_controls(cell.quota),
            escape_controls(titles.get(cell.quota, cell.quota)),
            escape_controls(cell_key(cell.cell)),
            cell,
        )
        for cell in cells
    ]
    widths = [max((cell_len(row[i]) for row in rows), default=0) for i in range(3)]
    for quota, title, key, cell in rows:
        target = "-" if cell.target is None else str(cell.target)
        flag = "  " + _("FULL") if cell.full else ""
        print(
            f"{_pad(quota, widths[0])}  {_pad(title, widths[1])}  {_pad(key, widths[2])} "
            f"{cell.completes:>5} / {target:<5}{flag}".rstrip()
        )
    return 0


def cmd_withdraw(args: argparse.Namespace) -> int:
    study = resolve_study(args.study)
    with study.store() as store:
        erasure = resp.withdraw(store, args.respondent, delete_answers=args.delete_answers, actor=args.actor)
    kept = _("deleted") if erasure.answers_deleted else _("kept (anonymous)")
    print(
        _("{respondent_id}: contact data erased; {interviews} interviews, answers {kept}; logged").format(
            respondent_id=erasure.respondent_id, interviews=erasure.interviews, kept=kept
        )
    )
    if not erasure.traces_cleared and store.dialect == "postgresql":
        print(
            _(
                "note: the erased rows are gone for every reader; their old versions stay in the server's table "
                "files until the database owner runs 'survey-tui server maintain' (requested)"
            ),
            file=sys.stderr,
        )
    elif not erasure.traces_cleared:
        print(
            _(
                "warning: another program has the study open, so the database's write-ahead log (survey.db-wal) may "
                "still hold the erased values until it closes; run the withdrawal again afterwards to clear it"
            ),
            file=sys.stderr,
        )
    holding = resp.files_holding(study.exports_dir, erasure.erased_values)
    if holding:
        print(
            _("{v0} earlier export(s) still hold this respondent's data; delete or re-export them:").format(
                v0=len(holding)
            ),
            file=sys.stderr,
        )
        for path in holding:
            print(f"  {study.relative(path)}", file=sys.stderr)
    return 0
