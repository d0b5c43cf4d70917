"""`survey-tui export`: the study's data in every format analysts ask for, with a manifest.

One call reads the data set once (`analysis.dataset.load_dataset`: completed interviews, field only
unless pilot is asked for, exclusions applied unless kept) and hands the same `ExportData` to every
writer, so every file of an export agrees. Each file is written to a temporary name and renamed, and
the manifest (every file, its rows, columns and sha256) is written last: a manifest that exists
describes files that are complete. Contact data is never in the data files; with `include_contacts`
it goes to a separate respondent file read through `respondents.respondents_for_export`, and the
manifest carries a warning.

Progress and errors are worded in the interface language; the manifest is a file for analysts' scripts and
keeps English (its warnings are Phrases, shown translated on screen and by the command).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from survey_tui.core.atomic import atomic_path
from survey_tui.core.store.check_behind import confirm_clean
from survey_tui.core.study import Study
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.i18n import N_, Phrase, _
from survey_tui.io import codebook, flat, spss, stata, triple_s
from survey_tui.io.cells import csv_frame
from survey_tui.io.meta import ExportData, from_dataset

FORMATS: tuple[str, ...] = ("sav", "dta", "csv", "parquet", "xlsx", "sss", "codebook")
FORMAT_HELP = {  # marked for the interface's catalog; the screens translate them where shown
    "sav": N_("SPSS .sav + .sps syntax (MRSETS)"),
    "dta": N_("Stata .dta + .do (missing codes)"),
    "csv": N_("CSV of codes and CSV of labels"),
    "parquet": N_("Parquet with metadata"),
    "xlsx": N_("Excel: data, variables, tables"),
    "sss": N_("Triple-S XML + fixed-width data"),
    "codebook": N_("Codebook (Markdown and HTML)"),
}


class ExportError(Exception):
    """An export that cannot be done, said so the researcher can act on it."""


@dataclass
class ExportOptions:
    formats: tuple[str, ...] = FORMATS
    language: str | None = None  # labels in this language (default: the study's)
    pilot: bool = False  # add pilot interviews (marked in the `mode` column)
    include_contacts: bool = False
    keep_excluded: bool = False
    bom: bool = False  # CSV with a byte-order mark (Excel on Traditional Chinese Windows)
    sss_version: str = "3.0"
    instrument_id: str | None = None
    #: an xlsx data file over this many rows is streamed in constant-memory mode (and says so)
    xlsx_stream_rows: int = 50_000

    @staticmethod
    def parse_formats(text: str | None) -> tuple[str, ...]:
        if not text or text.strip() == "all":
            return FORMATS
        wanted = tuple(dict.fromkeys(part.strip().lower() for part in text.split(",") if part.strip()))
        unknown = [f for f in wanted if f not in (*FORMATS, "all")]
        if unknown:
            raise ExportError(
                _("unknown format {format!r}; choose from {formats} or all").format(
                    format=unknown[0], formats=", ".join(FORMATS)
                )
            )
        return FORMATS if "all" in wanted else wanted


@dataclass
class ManifestEntry:
    file: str
    format: str
    rows: int | None
    columns: int | None
    bytes: int
    sha256: str


@dataclass
class ExportResult:
    folder: Path
    manifest: Path
    entries: list[ManifestEntry]
    warnings: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)
    rows: int = 0


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_export_data(study: Study, options: ExportOptions) -> tuple[ExportData, Any]:
    """The data set to export, with the filters that made it written down."""
    from survey_tui.analysis.dataset import load_dataset

    filters: list[str] = [Phrase(N_("completed interviews only"))]  # Phrases: English in the files
    kwargs: dict[str, Any] = {"mode": None if options.pilot else "field", "apply_exclusions": not options.keep_excluded}
    try:
        dataset = load_dataset(study, options.instrument_id, **kwargs)
    except ModuleNotFoundError as exc:  # an optional analysis module (coding) is not installed yet
        if "coding" not in str(exc):
            raise
        dataset = load_dataset(study, options.instrument_id, include_coded=False, **kwargs)
    if options.pilot:
        dataset.frame = dataset.frame.filter(pl.col("mode").is_in(["field", "pilot"]))
        filters.append(Phrase(N_("field and pilot interviews (column mode tells them apart)")))
    else:
        filters.append(Phrase(N_("field interviews only (pilot left out)")))
    if options.keep_excluded:
        filters.append(Phrase(N_("interviews excluded in the quality review are kept (asked for)")))
    else:
        count = len(dataset.excluded)
        filters.append(
            Phrase(N_("{count} interview(s) excluded in the quality review left out"), count=count)
            if count
            else Phrase(N_("no interview excluded in the quality review"))
        )
    return from_dataset(dataset, study.config.title, filters), dataset


def run_export(
    study: Study, options: ExportOptions, progress: Callable[[str, float], None] | None = None
) -> ExportResult:
    """Write the chosen formats to `exports/`; returns what was written (see the manifest).

    All or nothing: the set is written to a temporary folder inside exports/ and moved into place, with its
    manifest last, only when every format succeeded; if one fails, the earlier files stay as they were."""
    import shutil
    import tempfile

    study.exports_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".export-", dir=study.exports_dir))
    try:
        return _run_export(study, options, progress, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _move_into_place(written: list[tuple[Path, str, int | None, int | None]], folder: Path) -> list[Any]:
    """Every staged file renamed into `folder` (the same file system: each rename is atomic)."""
    confirm_clean()  # each was, through atomic_path; said here too, since these renames are the publishing
    moved = []
    for path, fmt, rows, cols in written:
        target = folder / path.name
        path.replace(target)
        moved.append((target, fmt, rows, cols))
    return moved


def _run_export(
    study: Study, options: ExportOptions, progress: Callable[[str, float], None] | None, staging: Path
) -> ExportResult:
    say = progress or (lambda text, fraction: None)
    language = options.language or study.config.language
    if language not in study.config.languages:
        raise ExportError(
            _("language {language!r} is not one of the study's ({languages})").format(
                language=language, languages=", ".join(study.config.languages)
            )
        )
    if options.sss_version not in ("2.0", "3.0"):
        raise ExportError(_("Triple-S version must be 2.0 or 3.0"))
    say(_("Reading the data set"), 0.0)
    data, dataset = load_export_data(study, options)
    folder = staging
    base = data.instrument_id + ("_with_pilot" if options.pilot else "") + ("_all" if options.keep_excluded else "")
    exported_at = datetime.now(UTC).isoformat(timespec="seconds")
    written: list[tuple[Path, str, int | None, int | None]] = []
    rows, cols = data.frame.height, data.frame.width
    steps = [f for f in FORMATS if f in options.formats]
    warnings: list[str] = []
    report: list[dict[str, str]] = []  # every renaming or shortening a format forced (full text kept)
    for index, fmt in enumerate(steps):
        say(_("Writing {format}").format(format=_(FORMAT_HELP[fmt])), index / max(len(steps), 1))
        if fmt == "sav":
            path = folder / f"{base}.sav"
            meta = spss.write_sav(data, path, language, exported_at=exported_at)
            report += [{"file": path.name, **change} for change in meta.changes]
            sps = folder / f"{base}.sps"
            spss.write_sps(data, meta, sps, language, path.name)
            written += [(path, "sav", rows, cols), (sps, "sps", None, None)]
        elif fmt == "dta":
            path = folder / f"{base}.dta"
            smeta = stata.write_dta(data, path, language)
            report += [{"file": path.name, **change} for change in smeta.changes]
            do = folder / f"{base}.do"
            stata.write_do(smeta, do, path.name)
            written += [(path, "dta", rows, cols), (do, "do", None, None)]
        elif fmt == "csv":
            codes = folder / f"{base}_codes.csv"
            labels = folder / f"{base}_labels_{language}.csv"
            flat.write_csv_codes(data, codes, bom=options.bom)
            flat.write_csv_labels(data, labels, language, bom=options.bom)
            written += [(codes, "csv", rows, cols), (labels, "csv", rows, cols)]
        elif fmt == "parquet":
            path = folder / f"{base}.parquet"
            flat.write_parquet(data, path, language)
            written.append((path, "parquet", rows, cols))
        elif fmt == "xlsx":
            path = folder / f"{base}.xlsx"
            warnings += flat.write_xlsx(data, path, language, options.xlsx_stream_rows)
            written.append((path, "xlsx", min(rows, flat.EXCEL_MAX_ROWS), cols))
        elif fmt == "sss":
            sss = folder / f"{base}.sss"
            dat = folder / f"{base}.dat"
            layout = triple_s.write_triple_s(data, sss, dat, options.sss_version)
            written += [(sss, "sss", None, len(layout)), (dat, "sss-data", rows, len(layout))]
        elif fmt == "codebook":
            md = folder / f"{base}_codebook.md"
            html = folder / f"{base}_codebook.html"
            write_text_atomic(md, codebook.codebook_markdown(data, report))
            write_text_atomic(html, codebook.codebook_html(data, report))
            written += [(md, "codebook", None, len(data.variables)), (html, "codebook", None, len(data.variables))]
    if options.include_contacts:
        say(_("Writing the respondent file with contact data"), 0.95)
        path, count, notice = _write_contacts(study, dataset, folder / f"{base}_respondents_CONTACTS.csv", options)
        written.append((path, "contacts", count, None))
        warnings.append(Phrase(N_("CONTACT DATA INCLUDED in {file}: {notice}"), file=path.name, notice=notice))
    say(_("Checksums and manifest"), 0.97)
    folder = study.exports_dir
    written = _move_into_place(written, folder)
    entries = [ManifestEntry(study.relative(p), fmt, r, c, p.stat().st_size, sha256_of(p)) for p, fmt, r, c in written]
    manifest = folder / f"{base}_manifest.json"
    document = {
        "study": study.config.title,
        "instrument": data.instrument_id,
        "versions": data.versions,
        "exported_at": exported_at,
        "language": language,
        "rows": rows,
        "columns": cols,
        "filters": data.filters,
        "contains_contact_data": options.include_contacts,
        "warnings": warnings,
        "missing_values": codebook.MISSING_CONVENTION,
        "export_report": report,
        "files": [asdict(e) for e in entries],
    }
    write_text_atomic(manifest, json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    say(_("Done"), 1.0)
    return ExportResult(folder, manifest, entries, warnings, data.filters, rows)


def _write_contacts(study: Study, dataset: Any, path: Path, options: ExportOptions) -> tuple[Path, int, str]:
    """Respondents of the exported interviews with their contact data, via the respondents module only."""
    from survey_tui.core.fieldwork.respondents import respondents_for_export

    ids = dataset.frame["interview_id"].to_list()
    with study.store() as store:
        links = (
            store.query(
                f"SELECT id, respondent_id FROM interviews WHERE id IN ({','.join('?' * len(ids))})", tuple(ids)
            )
            if ids
            else []
        )
        export = respondents_for_export(store, include_contacts=True)
    link = pl.DataFrame([tuple(r) for r in links], schema={"interview_id": pl.Int64, "id": pl.String}, orient="row")
    frame = link.join(export.frame, on="id", how="inner").rename({"id": "respondent_id"})
    with atomic_path(path) as tmp:
        csv_frame(frame).write_csv(tmp, include_bom=options.bom)
    return path, frame.height, export.notice or ""
