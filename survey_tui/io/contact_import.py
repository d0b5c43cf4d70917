"""Importing a contact list (T1.3): CSV/XLSX -> normalised, deduplicated, screened respondents.

Three steps, so the app can preview before anything is written:

1. `read_contact_file` decodes the file (UTF-8, UTF-8 with BOM, Big5/CP950 -- Excel's CSV default on
   Traditional Chinese Windows -- or what charset-normalizer finds; `encoding=` forces one) and reads
   every column as text with polars. An undecodable file is fatal.
2. `guess_mapping` maps headers (English and Chinese: 姓名, 電話, 手機, Email, 性別, 年齡, 地區/縣市 ...)
   onto respondent fields; unknown columns are kept as attributes under their header.
3. `prepare_import` normalises (Taiwan phone numbers to 09xxxxxxxx / 0xxxxxxxx, e-mails trimmed and
   lower-cased, gender to codes 1/2/3, age to whole years), lists bad rows by line number, deduplicates
   by DUPLICATE_RULE, and screens the new respondents -- all as polars expressions over the whole file.
   `commit_import` then writes everything in ONE transaction: all or nothing.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from survey_tui.core.fieldwork import respondents as resp
from survey_tui.core.fieldwork.screening import EligibilityCriterion, screen_frame
from survey_tui.core.problems import LoadError, Problem, too_large
from survey_tui.core.store.sqlite import Store, encode, now
from survey_tui.i18n import N_, _

FIELDS: tuple[str, ...] = ("name", "phone", "email", "address", "gender", "age", "region")
ATTRIBUTE = "attribute"  # keep the column as an attribute under its header (confirmed not identifying)
PERSONAL = resp.PERSONAL  # identifies a person: kept in the protected contact store, never as an attribute
IGNORE = "ignore"
OnDuplicate = Literal["merge", "skip"]

DUPLICATE_RULE = N_(
    "Duplicates are rows with the same mobile/phone number or the same e-mail after normalisation. "
    "The first row in the file (or a respondent already in the study) is kept. "
    "merge: its empty fields are filled from the duplicate, nothing is overwritten; skip: the duplicate is ignored."
)

HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "respondent", "contact", "姓名", "名字", "受訪者", "聯絡人", "中文姓名"),
    "phone": (
        "phone",
        "mobile",
        "cell",
        "cellphone",
        "tel",
        "telephone",
        "phonenumber",
        "mobilephone",
        "mobileno",
        "電話",
        "手機",
        "行動電話",
        "手機號碼",
        "聯絡電話",
        "電話號碼",
        "手機號",
        "連絡電話",
    ),
    "email": ("email", "mail", "emailaddress", "電子郵件", "電郵", "信箱", "電子信箱", "郵件"),
    "address": ("address", "addr", "地址", "住址", "通訊地址", "聯絡地址"),
    "gender": ("gender", "sex", "性別"),
    "age": ("age", "年齡", "年紀", "歲數"),
    "region": ("region", "city", "county", "area", "地區", "縣市", "居住地", "居住縣市", "區域", "居住地區"),
}

#: headers of other columns that identify a person (Taiwan's PDPA Art. 2 examples and what lists carry)
PERSONAL_SYNONYMS: tuple[str, ...] = (
    "身分證",
    "身份證",
    "身分證字號",
    "身份證字號",
    "身分證號",
    "統一證號",
    "居留證",
    "護照",
    "nationalid",
    "idnumber",
    "idno",
    "passport",
    "line",
    "lineid",
    "wechat",
    "微信",
    "telegram",
    "whatsapp",
    "facebook",
    "fb",
    "instagram",
    "ig",
    "skype",
    "生日",
    "出生",
    "出生日期",
    "出生年月日",
    "birthday",
    "birthdate",
    "dateofbirth",
    "dob",
    "備註",
    "備考",
    "附註",
    "說明",
    "note",
    "notes",
    "remark",
    "remarks",
    "comment",
    "comments",
    "memo",
    "會員編號",
    "會員卡號",
    "卡號",
    "帳號",
    "account",
    "車牌",
    "病歷",
)
#: a Taiwan national ID or resident certificate number: a letter, then 1/2 (or 8/9) and eight digits
NATIONAL_ID_PATTERN = r"^[A-Z][1289]\d{8}$"

GENDER_CODES: dict[str, int] = {
    "1": 1,
    "男": 1,
    "男性": 1,
    "男生": 1,
    "m": 1,
    "male": 1,
    "man": 1,
    "2": 2,
    "女": 2,
    "女性": 2,
    "女生": 2,
    "f": 2,
    "female": 2,
    "woman": 2,
    "3": 3,
    "其他": 3,
    "多元性別": 3,
    "other": 3,
    "x": 3,
    "non-binary": 3,
    "nonbinary": 3,
}

EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
MOBILE_PATTERN = r"^09\d{8}$"
LANDLINE_PATTERN = r"^0[2-8]\d{7,8}$"
MAX_LISTED = 200  # bad rows / duplicates listed one by one in a report; the rest are counted


class ImportFailed(LoadError):
    """A fatal problem: nothing was imported."""


# -- reading -------------------------------------------------------------------------------------------
@dataclass
class RawTable:
    frame: pl.DataFrame  # every column as text, in file order
    source: str
    encoding: str
    first_line: int = 2  # the file line (or sheet row) of the frame's first row: the header is line 1


def decode_bytes(data: bytes, source: str, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding used; raises ImportFailed naming the line that cannot be decoded."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError as exc:
            raise ImportFailed(
                [
                    Problem(
                        source,
                        _("unknown encoding {encoding!r}").format(encoding=encoding),
                        hint=_("try utf-8, big5 or cp950"),
                    )
                ]
            ) from exc
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            raise ImportFailed(
                [
                    Problem(
                        source,
                        _("the file is not valid {encoding} (byte {byte})").format(encoding=encoding, byte=exc.start),
                        line=line,
                        hint=_("leave out --encoding to let survey-tui detect it"),
                    )
                ]
            ) from exc
    if data.startswith(b"\xef\xbb\xbf"):
        return _strict(data[3:], "utf-8", source), "utf-8-sig"  # offsets (and so lines) without the BOM
    for candidate in ("utf-8", "cp950"):
        try:
            return data.decode(candidate), candidate
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(data[:1_000_000]).best()
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    raise ImportFailed(
        [
            Problem(
                source,
                _("cannot tell the file's character encoding (not UTF-8, Big5/CP950 or anything recognisable)"),
                hint=_("save it as CSV UTF-8 from Excel, or give --encoding"),
            )
        ]
    )


def _strict(data: bytes, encoding: str, source: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        message = _("the file is not valid {encoding}").format(encoding=encoding)
        raise ImportFailed([Problem(source, message, line=line)]) from exc


#: size limits, stated before anything is read: a CSV of 10 million rows is about 1 GiB; openpyxl holds a
#: whole workbook in memory, so workbooks are held to what Excel itself opens comfortably
MAX_CSV_BYTES = 1024 * 1024 * 1024
MAX_WORKBOOK_BYTES = 100 * 1024 * 1024
#: files at least this large report progress while they are read (smaller ones take well under a second)
PROGRESS_FROM_BYTES = 20 * 1024 * 1024

Progress = Callable[[str], None]


def read_contact_file(path: Path, encoding: str | None = None, progress: Progress | None = None) -> RawTable:
    """Read a CSV or XLSX contact list, every column as text.

    A file over its size limit is refused before it is read; a large one tells `progress` what it is doing."""
    path = Path(path)
    source = path.name
    if not path.is_file():
        raise ImportFailed([Problem(str(path), _("no such file"))])
    workbook = path.suffix.lower() in (".xlsx", ".xlsm")
    size = path.stat().st_size
    refused = too_large(size, MAX_WORKBOOK_BYTES if workbook else MAX_CSV_BYTES, _("a contact list"))
    if refused:
        raise ImportFailed([Problem(source, refused, hint=_("split the list into several files and import each"))])

    def say(text: str) -> None:
        if progress is not None and size >= PROGRESS_FROM_BYTES:
            progress(f"{source} ({size / 1048576:,.0f} MiB): {text}")  # a frame, no words: the step is worded

    if workbook:
        say(_("reading the workbook"))
        try:
            frame = pl.read_excel(path, engine="openpyxl", infer_schema_length=0)
        except Exception as exc:  # noqa: BLE001 - any reader failure is a fatal, reported problem
            raise ImportFailed([Problem(source, _("cannot read the workbook: {error}").format(error=exc))]) from exc
        frame = frame.select(pl.col(c).cast(pl.String) for c in frame.columns)
        return RawTable(_clean_headers(frame, source), source, "xlsx")
    say(_("reading"))
    data = path.read_bytes()
    say(_("parsing the rows"))
    if _BLANK_FILE.match(data):
        raise ImportFailed([Problem(source, _("the file is empty"))])
    if encoding is None:
        # Most lists are UTF-8: polars validates UTF-8 (and drops a BOM) while it parses, so the file is
        # not decoded twice. Anything else falls through to detection, which also locates bad bytes.
        try:
            frame = _parse_csv(data, source)
        except _NotUtf8:
            pass
        else:
            return RawTable(_clean_headers(frame, source), source, "utf-8-sig" if data[:3] == _BOM else "utf-8")
    say(_("detecting the encoding") if encoding is None else _("decoding as {encoding}").format(encoding=encoding))
    text, used = decode_bytes(data, source, encoding)
    say(_("parsing the rows"))
    payload = data[3:] if used == "utf-8-sig" else data if used == "utf-8" else text.encode("utf-8")
    if not payload.strip():
        raise ImportFailed([Problem(source, _("the file is empty"))])
    try:
        frame = _parse_csv(payload, source)
    except _NotUtf8 as exc:  # cannot happen after decoding, but never leak the private signal
        raise ImportFailed(
            [Problem(source, _("not a readable CSV file: {error}").format(error=exc.__cause__))]
        ) from exc
    return RawTable(_clean_headers(frame, source), source, used)


_BOM = b"\xef\xbb\xbf"
_BLANK_FILE = re.compile(rb"(?:\xef\xbb\xbf)?\s*\Z")  # stops at the first non-blank byte


class _NotUtf8(Exception):
    """polars met bytes that are not UTF-8: detect the encoding instead."""


def _parse_csv(payload: bytes, source: str) -> pl.DataFrame:
    if b"\r" in payload and b"\n" not in payload:  # Excel's "CSV (Macintosh)": CR-only line ends
        payload = payload.replace(b"\r", b"\n")
    try:
        return pl.read_csv(io.BytesIO(payload), infer_schema=False, truncate_ragged_lines=True)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: B036 - any parser failure (a polars panic too) is a reported problem
        if "utf-8" in str(exc).lower() or "utf8" in str(exc).lower():
            raise _NotUtf8 from exc
        raise ImportFailed([Problem(source, _("not a readable CSV file: {error}").format(error=exc))]) from exc


def _clean_headers(frame: pl.DataFrame, source: str) -> pl.DataFrame:
    renamed = {c: unicodedata.normalize("NFKC", c).strip() for c in frame.columns}
    if any(not v for v in renamed.values()):
        renamed = {c: v or f"column_{i + 1}" for i, (c, v) in enumerate(renamed.items())}
    if len(set(renamed.values())) != len(renamed):
        dupes = sorted({v for v in renamed.values() if list(renamed.values()).count(v) > 1})
        message = _("the header row repeats column names: {columns}").format(columns=", ".join(dupes))
        raise ImportFailed([Problem(source, message, line=1)])
    return frame.rename(renamed)


# -- mapping -------------------------------------------------------------------------------------------
def _header_key(header: str) -> str:
    return re.sub(r"[\s_\-./:：（）()]", "", unicodedata.normalize("NFKC", header).lower())


def guess_mapping(headers: Sequence[str]) -> dict[str, str]:
    """{header: field | 'attribute'}: each field goes to the first header that names it."""
    lookup = {_header_key(s): f for f, synonyms in HEADER_SYNONYMS.items() for s in synonyms}
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        key = _header_key(header)
        target = lookup.get(key)
        if target is None:  # 'Mobile number', '手機號碼(必填)': look for a synonym inside the header
            target = next(
                (f for s, f in sorted(lookup.items(), key=lambda kv: -len(kv[0])) if len(s) >= 2 and s in key),
                None,
            )
        if target is not None and target not in taken:
            mapping[header] = target
            taken.add(target)
        elif _is_personal_header(key):
            mapping[header] = PERSONAL
        else:
            mapping[header] = ATTRIBUTE
    return mapping


def _is_personal_header(key: str) -> bool:
    if key in PERSONAL_SYNONYMS:
        return True
    return any(len(s) >= 3 and s in key for s in PERSONAL_SYNONYMS if not s.isascii() or len(s) >= 5)


def classify_columns(
    frame: pl.DataFrame,
    mapping: Mapping[str, str],
    confirmed: Iterable[str] = (),
    unconfirmed: set[str] | None = None,
) -> dict[str, str]:
    """The mapping with every column that may identify someone protected: a column whose values look like
    national IDs, phones or e-mails is personal whatever its header, and a column left as an attribute
    without the researcher confirming it (`confirmed`) is kept personal too (and added to `unconfirmed`)."""
    confirmed = set(confirmed)
    out = dict(mapping)
    for column, target in mapping.items():
        if target != ATTRIBUTE or column in confirmed or column not in frame.columns:
            continue
        values = frame[column].drop_nulls().str.strip_chars().head(1000)
        values = values.filter(values != "")
        looks = values.str.contains(NATIONAL_ID_PATTERN) | values.str.contains(EMAIL_PATTERN)
        looks = looks | values.str.replace_all(r"[\s\-()+]", "").str.contains(r"^(886|0)9\d{8}$")
        if values.len() and looks.mean() >= 0.5:  # type: ignore[operator]
            out[column] = PERSONAL
        elif column not in FIELDS:
            out[column] = PERSONAL  # not confirmed as non-identifying: protected
            if unconfirmed is not None:
                unconfirmed.add(column)
    return out


def check_mapping(mapping: Mapping[str, str], headers: Sequence[str], source: str) -> None:
    problems = []
    for header, target in mapping.items():
        if header not in headers:
            message = _("the mapping names a column the file does not have: {column!r}").format(column=header)
            problems.append(Problem(source, message, line=1))
        elif target not in (*FIELDS, ATTRIBUTE, PERSONAL, IGNORE):
            problems.append(
                Problem(
                    source,
                    _("column {column!r} maps to unknown field {field!r}").format(column=header, field=target),
                    hint=", ".join(FIELDS),
                )
            )
    targets = [t for t in mapping.values() if t in FIELDS]
    for target in sorted({t for t in targets if targets.count(t) > 1}):
        problems.append(Problem(source, _("two columns map to {field}").format(field=target), line=1))
    if not {"phone", "email"} & set(targets):
        problems.append(
            Problem(
                source,
                _("no phone or e-mail column: a respondent needs a way to be reached"),
                line=1,
                hint=_("name a column 電話 / 手機 / Phone or Email, or map one explicitly"),
            )
        )
    if problems:
        raise ImportFailed(problems)


# -- normalising ---------------------------------------------------------------------------------------
#: what a phone number may be written with besides digits: every Unicode space (regex \s), - . ( ) / and
#: their full-width forms; full-width digits and ＋ become ASCII. One Aho-Corasick pass instead of regexes.
_SPACES = [chr(c) for c in (*range(0x09, 0x0E), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B))] + [
    "\u2028",
    "\u2029",
    "\u202f",
    "\u205f",
    "\u3000",
]
_PHONE_FROM = [chr(0xFF10 + i) for i in range(10)] + ["＋", "－", "（", "）", *_SPACES, "-", ".", "(", ")", "/"]
_PHONE_TO = [str(i) for i in range(10)] + ["+"] + [""] * (len(_PHONE_FROM) - 11)
#: +886 / 00886 / 886 (with or without the trunk 0) becomes 0; a bare 9xxxxxxxx mobile gets its 0 back
_PHONE_PREFIX = r"^(?:(?:\+|00)?8860?|(9\d{8})$)"
PHONE_PATTERN = r"^0(?:9\d{8}|[2-8]\d{7,8})$"  # MOBILE_PATTERN or LANDLINE_PATTERN, in one pass


def normalise_phone(expr: pl.Expr) -> pl.Expr:
    """Taiwan numbers to digits: '0912-345-678', '+886 912 345 678', '912345678' -> '0912345678'.

    Three vectorised passes: drop Excel's '.0' (a number stored as 912345678.0), strip separators and
    full-width forms, then fix the country prefix.
    """
    digits = expr.str.strip_suffix(".0").str.replace_many(_PHONE_FROM, _PHONE_TO)
    return digits.str.replace(_PHONE_PREFIX, "0${1}")


def normalise_email(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_many(["＠", "．"], ["@", "."]).str.strip_chars().str.to_lowercase()


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text; an empty or blank cell is missing."""
    return expr.str.strip_chars().replace("", None)


@dataclass
class ImportPlan:
    """What an import would do; nothing is written until `commit_import`."""

    source: str
    encoding: str
    mapping: dict[str, str]
    rule: OnDuplicate
    rows: int
    new: pl.DataFrame  # line, name, phone, email, address, attributes (JSON), eligible, eligibility_reason
    merges: pl.DataFrame  # respondent_id, name, phone, email, address, attributes (JSON)
    bad: pl.DataFrame  # line, reason
    duplicates: pl.DataFrame  # line, duplicate_of, action
    attribute_columns: list[str] = field(default_factory=list)

    @property
    def merged(self) -> int:
        return int((self.duplicates["action"] == "merged").sum())

    @property
    def skipped(self) -> int:
        return int((self.duplicates["action"] == "skipped").sum())

    def report_lines(self, limit: int = MAX_LISTED) -> list[str]:
        """The import preview in the interface language (the CLI and the Respondents screen show it)."""
        eligible = int(self.new["eligible"].sum()) if self.new.height else 0
        lines = [
            _("{source} ({encoding}): {rows} rows").format(source=self.source, encoding=self.encoding, rows=self.rows),
            "  "
            + _("new respondents: {new} (eligible {eligible}, not eligible {not_eligible})").format(
                new=self.new.height, eligible=eligible, not_eligible=self.new.height - eligible
            ),
            "  " + _("duplicates merged: {count}").format(count=self.merged),
            "  " + _("duplicates skipped: {count}").format(count=self.skipped),
            "  " + _("bad rows (not imported): {count}").format(count=self.bad.height),
            "  " + _("rule ({rule}): {text}").format(rule=self.rule, text=_(DUPLICATE_RULE)),
        ]
        for line, reason in self.bad.head(limit).iter_rows():
            lines.append("  " + _("line {line}: {reason}").format(line=line, reason=reason))
        if self.bad.height > limit:
            lines.append("  " + _("... and {count} more bad rows").format(count=self.bad.height - limit))
        for line, of, action in self.duplicates.head(limit).iter_rows():
            shown_action = _(DUPLICATE_ACTIONS[action]) if action in DUPLICATE_ACTIONS else action
            lines.append(
                "  "
                + _("line {line}: duplicate of {of} ({action})").format(
                    line=line, of=_duplicate_of(of), action=shown_action
                )
            )
        if self.duplicates.height > limit:
            lines.append("  " + _("... and {count} more duplicates").format(count=self.duplicates.height - limit))
        return lines


#: what happened to a duplicate row, as the plan keeps it
DUPLICATE_ACTIONS = {"merged": N_("merged"), "skipped": N_("skipped")}


def _duplicate_of(of: str) -> str:
    """'line 2' / 'existing R123' as the plan keeps them (English ids), in words of the interface."""
    kind, _sep, ref = of.partition(" ")
    if kind == "line":
        return _("line {line}").format(line=ref)
    if kind == "existing":
        return _("respondent {id} already in the study").format(id=ref)
    return of


def _existing_keys(store: Store | None) -> pl.DataFrame:
    """(respondent_id, phone, email) of the study's respondents: keyed hashes when from a store (the contact
    rows are sealed), so `prepare_import` must be given the same `lookup`."""
    schema = {"respondent_id": pl.String, "phone": pl.String, "email": pl.String}
    if store is None:
        return pl.DataFrame(schema=schema)
    return resp.existing_lookup_keys(store)


def _store_lookup(store: Store) -> Callable[[str, pl.Series], pl.Series]:
    return lambda kind, values: resp.lookup_key(store, kind, values)


def against_study(store: Store) -> dict[str, Any]:
    """`prepare_import` keywords that deduplicate against the study's respondents (hashes and their lookup)."""
    return {"existing": _existing_keys(store), "lookup": _store_lookup(store)}


def prepare_import(
    raw: RawTable,
    mapping: Mapping[str, str] | None = None,
    *,
    existing: pl.DataFrame | None = None,
    rule: OnDuplicate = "merge",
    criteria: Sequence[EligibilityCriterion] = (),
    language: str = "zh-TW",
    lookup: Callable[[str, pl.Series], pl.Series] | None = None,
) -> ImportPlan:
    """Normalise, validate, deduplicate and screen; `existing` is (respondent_id, phone, email).

    With `lookup` (kind, normalised values -> keyed hashes), `existing` holds hashes, as a study's sealed
    contact table gives them, and the file's phones and e-mails are hashed the same way to be compared.

    One lazy polars query normalises and flags every row; the per-row reasons are then written only for
    the (few) bad rows, and duplicate detection only looks at rows that share a key with another row.
    """
    frame = raw.frame
    mapping = dict(mapping or guess_mapping(frame.columns))
    for column in frame.columns:
        mapping.setdefault(column, ATTRIBUTE)
    check_mapping(mapping, frame.columns, raw.source)
    by_field = {t: h for h, t in mapping.items() if t in FIELDS}
    attribute_columns = [h for h, t in mapping.items() if t == ATTRIBUTE and h not in FIELDS]
    personal_columns = [h for h, t in mapping.items() if t == PERSONAL and h not in FIELDS]
    carried = [*attribute_columns, *personal_columns]

    def source(name: str) -> pl.Expr:
        return _blank_to_null(pl.col(by_field[name])) if name in by_field else pl.lit(None, dtype=pl.String)

    # '35 歲' -> 35, Excel's '35.0' -> 35 (plain suffix strips: the value is already trimmed)
    age_text = pl.col("_age_raw").str.strip_suffix("歲").str.strip_chars_end().str.strip_suffix(".0")
    work = (
        frame.lazy()
        .with_row_index("line", offset=raw.first_line)
        .select(
            pl.col("line").cast(pl.Int64),
            source("name").alias("name"),
            source("phone").alias("_phone_raw"),
            source("email").alias("_email_raw"),
            source("address").alias("address"),
            source("gender").alias("_gender_raw"),
            source("age").alias("_age_raw"),
            source("region").alias("region"),
            *[_blank_to_null(pl.col(h)).alias(h) for h in carried],
        )
        .with_columns(
            normalise_phone(pl.col("_phone_raw")).alias("phone"),
            normalise_email(pl.col("_email_raw")).alias("email"),
            pl.col("_gender_raw")
            .str.to_lowercase()
            .replace_strict(GENDER_CODES, default=None, return_dtype=pl.Int64)
            .alias("gender"),
            age_text.cast(pl.Int64, strict=False).alias("age"),
        )
        .with_columns(_problems().alias("_problems"))
        .collect()
    )
    ordered = ["line", "name", "phone", "email", "address", "gender", "age", "region", *carried]
    bad = work.lazy().filter(pl.col("_problems") != 0).select("line", _reasons().alias("reason")).collect()
    good = work.lazy().filter(pl.col("_problems") == 0).select(ordered).collect()  # copies only what is kept
    content = ordered[1:]

    roots = _component_roots(good)  # line, root: only rows sharing a phone or e-mail with another row
    action = "merged" if rule == "merge" else "skipped"
    dup_in_file = roots.filter(pl.col("root") != pl.col("line"))
    duplicates = dup_in_file.select(
        "line",
        pl.concat_str(pl.lit("line "), pl.col("root").cast(pl.String)).alias("duplicate_of"),
        pl.lit(action).alias("action"),
    )
    records = good.join(dup_in_file.select("line"), on="line", how="anti", maintain_order="left")
    if rule == "merge" and dup_in_file.height:
        # only the rows with duplicates pay for the aggregation; a root's empty fields take the first
        # non-empty value of its duplicates (in file order)
        merged = (
            good.join(roots, on="line", how="inner", maintain_order="left")
            .group_by("root", maintain_order=True)
            .agg([pl.col(c).drop_nulls().first().alias(c) for c in content])
            .rename({"root": "line"})
        )
        records = records.update(merged, on="line", how="left", include_nulls=False, maintain_order="left")

    # against the respondents already in the study: they always win
    existing = existing if existing is not None else _existing_keys(None)
    if existing.height:
        by_phone = existing.filter(pl.col("phone").is_not_null()).unique("phone", keep="first", maintain_order=True)
        by_email = existing.filter(pl.col("email").is_not_null()).unique("email", keep="first", maintain_order=True)
        if lookup is not None:
            keyed = records.with_columns(
                lookup("phone", records["phone"]).alias("_phone_key"),
                lookup("email", records["email"]).alias("_email_key"),
            )
            phone_on, email_on = "_phone_key", "_email_key"
        else:
            keyed, phone_on, email_on = records, "phone", "email"
        records = (
            keyed.join(
                by_phone.select(pl.col("phone").alias(phone_on), pl.col("respondent_id").alias("_by_phone")),
                on=phone_on,
                how="left",
                maintain_order="left",
            )
            .join(
                by_email.select(pl.col("email").alias(email_on), pl.col("respondent_id").alias("_by_email")),
                on=email_on,
                how="left",
                maintain_order="left",
            )
            .with_columns(pl.coalesce("_by_phone", "_by_email").alias("_existing"))
            .drop("_by_phone", "_by_email", *([phone_on, email_on] if lookup is not None else []))
        )
        matched = records.filter(pl.col("_existing").is_not_null())
        new = records.filter(pl.col("_existing").is_null()).drop("_existing")
    else:  # a first import: nothing to match, nothing to copy
        matched = records.clear().with_columns(pl.lit(None, dtype=pl.String).alias("_existing"))
        new = records
    if matched.height:
        duplicates = pl.concat(
            [
                duplicates,
                matched.select(
                    "line",
                    pl.concat_str(pl.lit("existing "), pl.col("_existing")).alias("duplicate_of"),
                    pl.lit(action).alias("action"),
                ),
            ]
        ).sort("line")
    attribute_names = ["gender", "age", "region", *attribute_columns]
    if rule == "merge" and matched.height:
        merges = (
            matched.group_by("_existing", maintain_order=True)
            .agg([pl.col(c).drop_nulls().first().alias(c) for c in content])
            .rename({"_existing": "respondent_id"})
        )
        merges = merges.select(
            "respondent_id",
            *resp.CONTACT_FIELDS,
            _personal_json(personal_columns).alias(PERSONAL),
            _attributes_json(attribute_names).alias("attributes"),
        )
    else:
        merges = pl.DataFrame(
            schema={
                "respondent_id": pl.String,
                **{f: pl.String for f in resp.CONTACT_FIELDS},
                PERSONAL: pl.String,
                "attributes": pl.String,
            }
        )

    screened = screen_frame(new, criteria, language)
    new = screened.select(
        "line",
        *resp.CONTACT_FIELDS,
        _personal_json(personal_columns).alias(PERSONAL),
        _attributes_json(attribute_names).alias("attributes"),
        "eligible",
        "eligibility_reason",
    )
    return ImportPlan(
        source=raw.source,
        encoding=raw.encoding,
        mapping=mapping,
        rule=rule,
        rows=frame.height,
        new=new,
        merges=merges,
        bad=bad,
        duplicates=duplicates,
        attribute_columns=attribute_columns,
    )


# -- bad rows ------------------------------------------------------------------------------------------
# Each check is a bit in `_problems`, so the million good rows cost one integer column; the sentences are
# only written for the rows that have a problem, in the interface language (the report is only shown).
# A check: (condition, message with one `{}` per value, the values). Contact values are never printed:
# the message gives the shape of the value, not the value.
_CHECKS: tuple[tuple[pl.Expr, str, tuple[pl.Expr, ...]], ...] = (
    (
        pl.col("_phone_raw").is_not_null() & ~pl.col("phone").str.contains(PHONE_PATTERN).fill_null(False),
        N_("phone ({} characters) is not a Taiwan mobile (09xx-xxx-xxx) or landline number"),
        (pl.col("_phone_raw").str.len_chars(),),
    ),
    (
        pl.col("_email_raw").is_not_null() & ~pl.col("email").str.contains(EMAIL_PATTERN).fill_null(False),
        N_("e-mail ({} characters) is not an address"),
        (pl.col("_email_raw").str.len_chars(),),
    ),
    (
        pl.col("_age_raw").is_not_null() & pl.col("age").is_null(),
        N_("age '{}' is not a whole number of years"),
        (pl.col("_age_raw"),),
    ),
    (
        pl.col("age").is_not_null() & ((pl.col("age") < 0) | (pl.col("age") > 120)),
        N_("age {} is out of range 0-120"),
        (pl.col("age"),),
    ),
    (
        pl.col("_gender_raw").is_not_null() & pl.col("gender").is_null(),
        N_("gender '{}' not recognised (use 男/女/其他, M/F or 1/2/3)"),
        (pl.col("_gender_raw"),),
    ),
    (
        pl.col("_phone_raw").is_null() & pl.col("_email_raw").is_null(),
        N_("no phone number or e-mail: no way to reach this respondent"),
        (),
    ),
)


def _problems() -> pl.Expr:
    """A bit mask of the failed checks (0: a good row)."""
    return pl.sum_horizontal(
        [check.fill_null(False).cast(pl.UInt8) * (1 << i) for i, (check, _text, _values) in enumerate(_CHECKS)]
    )


def _reason(text: str, values: tuple[pl.Expr, ...]) -> pl.Expr:
    worded = _(text)
    return pl.format(worded, *values) if values else pl.lit(worded)


def _reasons() -> pl.Expr:
    """Every failed check of a bad row, as one separated text, worded in the interface language."""
    return pl.concat_str(
        [
            pl.when((pl.col("_problems") & (1 << i)) != 0).then(_reason(text, values))
            for i, (_check, text, values) in enumerate(_CHECKS)
        ],
        separator=_("; "),
        ignore_nulls=True,
    )


def _personal_json(names: Sequence[str]) -> pl.Expr:
    """The personal fields as one JSON object per row for the contact store (null when there are none)."""
    if not names:
        return pl.lit(None, dtype=pl.String)
    return pl.struct([pl.col(n) for n in names]).struct.json_encode()


def _attributes_json(names: Sequence[str]) -> pl.Expr:
    """Attributes as one JSON object per row (missing ones as null)."""
    return pl.struct([pl.col(n) for n in names]).struct.json_encode()


# -- duplicates ----------------------------------------------------------------------------------------
def _component_roots(good: pl.DataFrame) -> pl.DataFrame:
    """(line, root) for every row that shares a phone or an e-mail with another row, transitively.

    `root` is the first line of the row's group: rows are linked by "same phone OR same e-mail", and
    chains (A~B by e-mail, B~C by phone) form one group -- the connected components of that graph. Found by
    min-label propagation: each pass gives every row the smallest root among the rows sharing its phone,
    then its e-mail, then follows root -> root's root (pointer jumping); it stops when nothing changes.
    Rows with a key nobody else has are singletons and never enter the loop, so a million-row list with
    a few percent duplicates propagates over a few tens of thousands of rows. `good` is in line order.
    """
    # Prefilter on 64-bit hashes (4x cheaper than hashing the strings into a table): equal keys always
    # have equal hashes, so no shared key is missed; a rare collision only lets a singleton into the loop,
    # where the exact string keys decide.
    shared = (pl.col("phone").is_not_null() & pl.col("phone").hash().is_duplicated()) | (
        pl.col("email").is_not_null() & pl.col("email").hash().is_duplicated()
    )
    frame = good.select("line", "phone", "email").filter(shared).with_columns(pl.col("line").alias("root"))
    if frame.height == 0:
        return frame.select("line", "root")
    lines = frame["line"]
    while True:
        step = frame.with_columns(
            pl.min_horizontal("root", pl.when(pl.col("phone").is_not_null()).then(pl.col("root").min().over("phone")))
        ).with_columns(
            pl.min_horizontal("root", pl.when(pl.col("email").is_not_null()).then(pl.col("root").min().over("email")))
        )
        # pointer jumping: a root's own root is at least as good (lines are sorted, so search_sorted finds it)
        roots = step["root"]
        step = step.with_columns(step["root"].gather(lines.search_sorted(roots)).alias("root"))
        if step["root"].equals(frame["root"]):
            return step.select("line", "root")
        frame = step


# -- writing -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImportResult:
    imported: int
    merged: int
    skipped: int
    bad: int
    ids: list[str]


#: page cache for a bulk import, per connection and only while it runs (KiB per imported respondent, cap)
_IMPORT_CACHE_KIB_PER_ROW = 1
_IMPORT_CACHE_MAX_KIB = 1024 * 1024


def commit_import(store: Store, plan: ImportPlan, *, actor: str | None = None) -> ImportResult:
    """Write the plan in one transaction: every new respondent, their contacts and history, every merge.

    Bulk speed (1M respondents in seconds, not minutes) comes from three things that change nothing stored:
    the fresh random ids are handed out in sorted order along the file, so every B-tree keyed by
    respondent id (respondents, their contact rows, the status history, and the foreign-key look-ups)
    grows at its right-hand end instead of splitting pages all over; the connection's page cache is
    enlarged for the duration so the phone/e-mail indexes (inherently random) stay in memory until the
    single commit; and the rows are prepared column-wise by polars, so executemany only binds them.
    """
    stamp = now()
    ids = pl.Series("id", resp.new_ids(plan.new.height, resp.existing_ids(store)), dtype=pl.String).sort()
    new = plan.new.with_columns(ids)
    note = f"imported from {plan.source}"
    respondent_rows = new.select(
        "id",
        pl.lit(stamp).alias("created_at"),
        "attributes",
        pl.col("eligible").cast(pl.Int64),
        "eligibility_reason",
        pl.lit(plan.source).alias("source"),
        pl.lit(stamp).alias("updated_at"),
    ).rows()
    history_rows = new.select("id", pl.lit(stamp).alias("at"), pl.lit(note).alias("note")).rows()
    with store.transaction() as conn:
        # SQLite only: a page cache big enough for the whole import (PostgreSQL sizes its buffers itself)
        cache = conn.execute("PRAGMA cache_size").fetchone()[0] if store.dialect == "sqlite" else None
        wanted = min(_IMPORT_CACHE_MAX_KIB, plan.new.height * _IMPORT_CACHE_KIB_PER_ROW)
        if cache is not None and wanted > _cache_kib(cache):
            conn.execute(f"PRAGMA cache_size = -{wanted}")
        try:
            conn.executemany(
                "INSERT INTO respondents (id, created_at, attributes, status, eligible, eligibility_reason, source,"
                " updated_at) VALUES (?, ?, ?, 'new', ?, ?, ?, ?)",
                respondent_rows,
            )
            resp._insert_contacts(store, conn, new.select("id", *resp.CONTACT_FIELDS, PERSONAL).rows(), personal=True)
            conn.executemany(
                "INSERT INTO respondent_status_history (respondent_id, at, old_status, new_status, note)"
                " VALUES (?, ?, NULL, 'new', ?)",
                history_rows,
            )
            if plan.merges.height:
                resp._fill_contacts(
                    store,
                    conn,
                    plan.merges.select("respondent_id", *resp.CONTACT_FIELDS, PERSONAL).rows(),
                    personal=True,
                )
                _merge_attributes(conn, plan.merges.select("respondent_id", "attributes").iter_rows())
            conn.execute(
                "INSERT INTO contact_imports (at, source, encoding, rule, rows, imported, merged, skipped, bad)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    stamp,
                    plan.source,
                    plan.encoding,
                    plan.rule,
                    plan.rows,
                    len(ids),
                    plan.merged,
                    plan.skipped,
                    plan.bad.height,
                ),
            )
        finally:
            if cache is not None:
                conn.execute(f"PRAGMA cache_size = {int(cache)}")
    return ImportResult(len(ids), plan.merged, plan.skipped, plan.bad.height, ids.to_list())


def _cache_kib(setting: int) -> int:
    """PRAGMA cache_size is pages when positive, KiB when negative; assume 4 KiB pages for the former."""
    return -setting if setting < 0 else setting * 4


def _merge_attributes(conn: Any, rows: Any) -> None:
    """Add attributes the existing respondent lacks; what is there stays."""
    from survey_tui.core.store.sqlite import decode

    for rid, attributes in rows:
        current = conn.execute("SELECT attributes FROM respondents WHERE id = ?", (rid,)).fetchone()
        if current is None:
            continue
        merged = dict(decode(attributes) or {})
        merged.update({k: v for k, v in (decode(current[0]) or {}).items() if v is not None})
        conn.execute("UPDATE respondents SET attributes = ? WHERE id = ?", (encode(merged), rid))


def import_file(
    store: Store,
    path: Path,
    *,
    encoding: str | None = None,
    mapping: Mapping[str, str] | None = None,
    rule: OnDuplicate = "merge",
    criteria: Sequence[EligibilityCriterion] = (),
    language: str = "zh-TW",
    dry_run: bool = False,
) -> tuple[ImportPlan, ImportResult | None]:
    """Read, prepare against the study's current list, and (unless `dry_run`) commit."""
    raw = read_contact_file(path, encoding)
    plan = prepare_import(
        raw,
        mapping,
        rule=rule,
        criteria=criteria,
        language=language,
        **against_study(store),
    )
    return plan, None if dry_run else commit_import(store, plan)
