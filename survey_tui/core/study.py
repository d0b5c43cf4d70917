"""A study is a folder: `study.yaml`, `instruments/*.yaml`, `survey.db`, `exports/`.

Plain text where people review and diff (the plan and the questionnaires), SQLite where answers
must survive a crash. This module finds, creates, opens and checks such folders.
"""

from __future__ import annotations

import contextlib
import dataclasses
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from survey_tui.core.collector import collector_paused
from survey_tui.core.fieldwork.dispositions import CallSettings
from survey_tui.core.fieldwork.privacy import PrivacyNotice
from survey_tui.core.fieldwork.quotas import Quota
from survey_tui.core.fieldwork.screening import EligibilityCriterion
from survey_tui.core.instrument.loader import load_instrument_file, load_instrument_text
from survey_tui.core.instrument.model import Instrument, Labels, SpecialCode, SpecialName
from survey_tui.core.plan.model import PlanFields, check_plan
from survey_tui.core.plan.weighting import WeightingConfig, check_weighting
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.store.base import InstrumentVersion, StoreBase, server_url, validate_store_setting
from survey_tui.core.yamlfile import (
    YamlDocument,
    parse_yaml_bytes,
    read_yaml,
    validate_document,
    write_yaml_atomic,
)
from survey_tui.i18n import _, current_language

STUDY_FILE = "study.yaml"
DB_FILE = "survey.db"


class StudySettings(BaseModel):
    """Who the study is for, how it speaks, and how respondents are recruited."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    title: str = Field(min_length=1)
    client: str = ""
    #: who wrote the study's report (the Word document's author; the client when empty)
    researcher: str = ""
    languages: list[str] = Field(default_factory=lambda: ["zh-TW", "en"], min_length=1)
    default_language: str | None = None
    created: date | None = None
    description: str = ""
    #: study-wide missing-value codes; instruments and questions may override them
    special_codes: dict[SpecialName, SpecialCode] | None = None
    #: consent is asked before an interview starts when a wording is given
    consent: Labels | None = None
    #: T1.3: which consent wording respondents heard (default: a fingerprint of `consent`)
    consent_version: str | None = None
    #: T1.3: conditions every respondent must meet (expressions over respondent attributes)
    eligibility: list[EligibilityCriterion] = Field(default_factory=list)
    #: T1.3: quota cells with targets (expressions over screener answers and attributes)
    quotas: list[Quota] = Field(default_factory=list)
    #: T1.5: RIM weighting targets (see core/plan/weighting.py); the weight joins the data file
    weighting: WeightingConfig | None = None
    #: how each imported contact-list column was classified (name, phone, email, address, personal: kept in
    #: the protected contact store; gender, age, region, attribute: respondent attributes; ignore), written by
    #: `respondents import` so the record shows which columns were treated as personal data
    contact_fields: dict[str, str] = Field(default_factory=dict)
    #: PDPA Art. 8: what respondents are told before they consent (shown on the consent screen)
    privacy_notice: PrivacyNotice | None = None
    #: contact data is purged after this date (`survey-tui privacy purge`), and the purge logged
    retention_until: date | None = None
    #: who may read contact data (named in the privacy report)
    contact_readers: list[str] = Field(default_factory=list)
    #: T1.3 telephone fieldwork: call outcomes and their AAPOR codes, rate settings, the call queue's rules
    #: and back-checks (see core/fieldwork/dispositions.py); every part has a default
    calls: CallSettings | None = None
    #: issue 13: the team's PostgreSQL server (postgresql://user@host/db or postgresql:///db?service=NAME);
    #: never a password (libpq's password or service file holds it). Empty: the embedded survey.db.
    #: The environment variable SURVEY_TUI_DATABASE_URL wins over it, except over `embedded` (a laptop's
    #: checkout: always its own survey.db).
    store: str | None = None

    @field_validator("store")
    @classmethod
    def _store_url(cls, value: str | None) -> str | None:
        return validate_store_setting(value)


class StudyConfig(PlanFields, StudySettings):
    """All of `study.yaml`: the settings above, then the plan (T1.1–T1.2, see core/plan/model.py).

    The plan's fields come after the settings (pydantic orders inherited fields from the last base
    first), so `init` writes the title at the top; every plan part is optional.
    """

    model_config = ConfigDict(extra="forbid", defer_build=True)

    @property
    def language(self) -> str:
        return self.default_language or self.languages[0]


@dataclass
class Study:
    root: Path
    config: StudyConfig
    problems: list[Problem] = field(default_factory=list)  # warnings found while opening
    #: published versions parsed so far: (instrument id, version, sha256) -> Instrument
    _published: dict[tuple[str, int, str], Instrument] = field(default_factory=dict, repr=False, compare=False)

    # -- paths -----------------------------------------------------------------------------------
    @property
    def study_file(self) -> Path:
        return self.root / STUDY_FILE

    @property
    def instruments_dir(self) -> Path:
        return self.root / "instruments"

    @property
    def exports_dir(self) -> Path:
        return self.root / "exports"

    @property
    def db_path(self) -> Path:
        return self.root / DB_FILE

    @property
    def server_url(self) -> str | None:
        """The PostgreSQL server holding this study's data, or None for the embedded survey.db."""
        return server_url(self.config.store)

    def store(self) -> StoreBase:
        """The study's store (the embedded survey.db, or the server `store:` names); contact rows an older
        version left in plaintext are sealed on the way in (the data step of the encryption migration).
        Without the key that is left for later: answers still open."""
        from survey_tui.core.fieldwork.respondents import ContactKeyMissing, seal_plaintext

        url = self.server_url
        if url is None:
            from survey_tui.core.store.sqlite import Store  # sqlite3 and the store's code: only when data is read

            store: StoreBase = Store(self.db_path)
        else:
            from survey_tui.core.store.postgres import PostgresStore  # psycopg only when a server is used

            store = PostgresStore(url)
        try:
            seal_plaintext(store)
        except ContactKeyMissing:
            pass
        except BaseException:
            store.close()
            raise
        return store

    def instrument_files(self) -> list[Path]:
        if not self.instruments_dir.is_dir():
            return []
        return sorted(p for p in self.instruments_dir.iterdir() if p.suffix in (".yaml", ".yml"))

    def export_target(self, name: str) -> Path:
        """Where an output named on the command line goes: inside exports/ (a relative name that climbs out
        of it with '..' is refused), or exactly there when the user gives an absolute path."""
        given = Path(name)
        if given.is_absolute():
            return given
        target = (self.exports_dir / given).resolve()
        if not target.is_relative_to(self.exports_dir.resolve()):
            raise LoadError(
                [
                    Problem(
                        name,
                        _("this output name leads outside the study's exports/ folder"),
                        hint=_("give a file name inside exports/, or an absolute path to write elsewhere on purpose"),
                    )
                ]
            )
        return target

    def relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # -- instruments -----------------------------------------------------------------------------
    def load_instruments(self) -> tuple[dict[str, Instrument], list[Problem]]:
        """Every instrument file that loads cleanly, and every problem of those that do not."""
        instruments: dict[str, Instrument] = {}
        problems: list[Problem] = []
        for path in self.instrument_files():
            instrument, found = load_instrument_file(path, self.relative(path), self.config.special_codes)
            problems.extend(found)
            if instrument is None:
                continue
            if instrument.id in instruments:
                problems.append(
                    Problem(
                        self.relative(path),
                        _("instrument id '{id}' is used by another file too").format(id=instrument.id),
                        where="id",
                    )
                )
                continue
            instruments[instrument.id] = instrument
        return instruments, problems

    def load_instrument(self, instrument_id: str | None = None) -> Instrument:
        instruments, problems = self.load_instruments()
        errors = [p for p in problems if p.severity == "error"]
        if instrument_id is None:
            if len(instruments) == 1 and not errors:
                return next(iter(instruments.values()))
            if not instruments:
                raise LoadError(errors or [Problem(self.relative(self.instruments_dir), _("no instrument found"))])
            raise LoadError(
                errors or [Problem(self.relative(self.instruments_dir), _("several instruments: say which one"))]
            )
        if instrument_id not in instruments:
            missing = _("no instrument with id '{id}'").format(id=instrument_id)
            raise LoadError(errors or [Problem(self.relative(self.instruments_dir), missing)])
        return instruments[instrument_id]

    def instrument_source(self, instrument_id: str) -> str:
        for path in self.instrument_files():
            instrument, _found = load_instrument_file(path, self.relative(path), self.config.special_codes)
            if instrument is not None and instrument.id == instrument_id:
                return path.read_bytes().decode("utf-8")
        missing = _("no instrument '{id}'").format(id=instrument_id)
        raise LoadError([Problem(self.relative(self.instruments_dir), missing)])

    def publish(self, instrument_id: str, note: str | None = None) -> InstrumentVersion:
        """Freeze the instrument's current text as a numbered version in the store."""
        source = self.instrument_source(instrument_id)
        with self.store() as store:
            return store.publish_instrument(instrument_id, source, note)

    def instrument_for_version(self, version: InstrumentVersion) -> Instrument:
        """The instrument exactly as it was published (not as the file reads today).

        Parsed once per study object: a published version never changes (its sha256 is its identity), and one
        command asks for it several times (variables, union of versions, exports, report), at 0.1 s a parse.
        Treat the result as read-only; it is shared.
        """
        key = (version.instrument_id, version.version, version.sha256)
        cached = self._published.get(key)
        if cached is None:
            instrument, problems = load_instrument_text(
                version.source, f"{version.instrument_id} v{version.version}", self.config.special_codes, cache=True
            )
            if instrument is None:
                raise LoadError(problems)
            cached = self._published[key] = instrument
        return cached


def find_study_root(start: Path) -> Path | None:
    """The study folder at or above `start` (so commands work from any subfolder)."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / STUDY_FILE).is_file():
            return folder
    return None


#: the user's cache of validated study.yaml files (see load_study_config); bump when an entry's shape changes
_VALIDATED = "validated-study"
_VALIDATED_FORMAT = "1"


def load_study_config(root: Path) -> tuple[StudyConfig | None, list[Problem]]:
    """study.yaml read and validated: the settings (None when unusable) and the problems found.

    The answer is kept in the user's cache under the file's bytes, the code that validates (every file of
    this package and of the parsing libraries, pydantic's included, and the time-zone data a calling-hours
    zone is looked up in) and the interface language the problems are worded in. study.yaml changes far
    less often than the questionnaire, and building the validators of its thirty-odd models took a
    twentieth of a `check` just after an instrument was edited. Apart from the time-zone data, none of its
    validators reads anything but the file (no clock, no environment, no other file). The bytes hashed
    are the bytes validated."""
    from survey_tui.core.cache import memo_key, read_blob, write_blob
    from survey_tui.core.checked import code_stamp
    from survey_tui.core.yamlfile import MAX_YAML_BYTES

    path = root / STUDY_FILE
    try:
        usable = path.is_file() and path.stat().st_size <= MAX_YAML_BYTES
        raw = path.read_bytes() if usable else None
    except OSError:
        raw = None
    if raw is None or len(raw) > MAX_YAML_BYTES:  # unreadable, or too large: said afresh, never kept
        return _validate_study_yaml(*read_yaml(path, STUDY_FILE))
    key = memo_key(_VALIDATED_FORMAT, code_stamp(), current_language(), raw)
    blob = read_blob(_VALIDATED, key)
    if blob is not None:
        try:
            config, problems = pickle.loads(blob)  # noqa: S301 - written by this program, in the user's cache
        except Exception:  # noqa: BLE001 - another version's entry, or a damaged one: validate instead
            pass
        else:
            if (config is None or isinstance(config, StudyConfig)) and isinstance(problems, list):
                return config, problems
    found = _validate_study_yaml(*parse_yaml_bytes(raw, STUDY_FILE))
    with contextlib.suppress(Exception):  # a value that cannot be pickled costs time only
        write_blob(_VALIDATED, key, pickle.dumps(found, protocol=pickle.HIGHEST_PROTOCOL))
    return found


def _validate_study_yaml(doc: YamlDocument | None, problems: list[Problem]) -> tuple[StudyConfig | None, list[Problem]]:
    if doc is None:
        return None, problems
    if not isinstance(doc.root, dict):
        return None, [Problem(STUDY_FILE, _("study.yaml must be a mapping with title:, client:, languages:"))]
    return validate_document(StudyConfig, doc)


def open_study(root: Path) -> Study:
    """Open a study folder or raise LoadError saying why it is not one."""
    root = Path(root)
    if not (root / STUDY_FILE).is_file():
        raise LoadError(
            [
                Problem(
                    str(root),
                    _("this folder is not a study (no study.yaml)"),
                    hint=_("run 'survey-tui init' here to start one, or 'survey-tui demo'"),
                )
            ]
        )
    config, problems = load_study_config(root)
    if config is None:
        raise LoadError(problems)
    return Study(root.resolve(), config, problems)


def init_study(
    root: Path, title: str, client: str = "", languages: list[str] | None = None, store: str | None = None
) -> Study:
    """Start an empty study; refuses to overwrite an existing one. With `store` (a PostgreSQL URL) the study's
    data lives on that server: it is checked (and set up when empty) before anything is written here."""
    root = Path(root)
    if (root / STUDY_FILE).exists():
        raise LoadError([Problem(str(root / STUDY_FILE), _("a study already exists here"))])
    try:
        validate_store_setting(store)
    except ValueError as exc:
        raise LoadError([Problem("--store", str(exc))]) from None
    config = StudyConfig(
        title=title, client=client, languages=languages or ["zh-TW", "en"], created=date.today(), store=store
    )
    study = Study(root.resolve(), config)
    if study.server_url is not None:
        study.store().close()  # unreachable, refused or of a newer schema: said before any file is made
    for sub in ("instruments", "exports"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(root / STUDY_FILE, config.model_dump(mode="json", exclude_none=True, exclude_defaults=False))
    study = Study(root.resolve(), config)
    from survey_tui.core.fieldwork.respondents import ensure_key

    with study.store() as store:
        ensure_key(store)  # the contact key exists (outside the folder) before any contact does
    return study


def check_study(root: Path) -> list[Problem]:
    """Every problem of the study's files at once (what `survey-tui check` prints)."""
    return check_study_files(root)[1]


def check_study_files(root: Path) -> tuple[Study | None, list[Problem]]:
    """The study as opened (None when study.yaml is missing or unreadable) and every problem of its files:
    `check` goes on to what only the opened study can tell (the template, the weighting against the data)."""
    with collector_paused():
        try:
            study = open_study(root)
        except LoadError as exc:
            return None, exc.problems
        return study, _check_study(study)


def _check_study(study: Study) -> list[Problem]:
    instruments, problems = study.load_instruments()
    if not study.instrument_files():
        problems.append(Problem("instruments/", _("the study has no instrument yet"), severity="warning"))
    for lang in study.config.languages:
        if not lang.strip():
            problems.append(Problem(STUDY_FILE, _("empty language tag"), where="languages"))
    doc, _found = read_yaml(study.study_file, STUDY_FILE)  # again, for the lines of the plan's cross-checks
    problems.extend(check_plan(study.config, instruments.values(), doc, STUDY_FILE))
    problems.extend(check_weighting(study.config.weighting, instruments.values(), doc, STUDY_FILE))
    problems.extend(check_tab_plans(study, instruments.values()))
    if study.config.report.template:  # the client's Word template: readable, its tags and names known
        problems.extend(_template_problems(study.root / study.config.report.template, study.config.report.template))
    return study.problems + problems


def _template_problems(path: Path, display: str) -> list[Problem]:
    """The report template's problems, from the user's cache when the same file was checked before.

    Reading a .docx takes python-docx, docxtpl and Jinja (a third of `check` on the demo), and a template
    changes far less often than the questionnaire: the answer is kept under the file's bytes, its name, the
    names a template may use and the code that checks it (this module's and the libraries' files)."""
    from survey_tui.core.cache import memo_key, module_stamp, read_memo, write_memo
    from survey_tui.core.plan.report_template import CONTEXT, template_problems

    try:
        content = path.read_bytes() if path.is_file() else None
    except OSError:
        content = None
    if content is None:  # missing or unreadable: said at once, nothing worth keeping
        return template_problems(path, display)
    code = module_stamp("survey_tui.core.plan.report_template", "docxtpl", "docx", "jinja2")
    # the problems are worded in the interface language: one answer per language, never the other's words
    key = memo_key("template-problems 1", display, ",".join(CONTEXT), code, current_language(), content)
    kept = read_memo("checked-templates", key)
    if isinstance(kept, list):
        try:
            return [Problem(**item) for item in kept]
        except TypeError:
            pass  # another shape (an older entry): check again
    found = template_problems(path, display)
    write_memo("checked-templates", key, [dataclasses.asdict(p) for p in found])
    return found


def check_tab_plans(study: Study, instruments: Iterable[Instrument]) -> list[Problem]:
    """Every tab plan in tabs/: its schema, then its names and expressions against the instruments."""
    from survey_tui.core.plan.tabplan import check_tab_plan, load_tab_plan, tab_plan_files

    problems: list[Problem] = []
    instruments = list(instruments)
    weighting = getattr(study.config, "weighting", None)
    weights = [getattr(weighting, "name", "weight")] if weighting else []
    for path in tab_plan_files(study.root):
        display = study.relative(path)
        plan, doc, found = load_tab_plan(path, display)
        problems.extend(found)
        if plan is not None and not any(p.severity == "error" for p in found):
            problems.extend(check_tab_plan(plan, instruments, doc, display, weights))
    return problems
