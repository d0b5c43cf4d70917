"""The interface language: gettext catalogs (managed with Babel) for the app's own words.

This module imports no UI library, so the core may mark messages with `N_` (a no-op that only tells
`pybabel extract` to collect them) and the UI layer translates them with `_` where they are shown.
The instrument's own texts never pass through here: they carry their own languages.

Catalogs: `survey_tui/locale/<lang>/LC_MESSAGES/survey_tui.po` is kept in the repository; the `.mo`
that gettext reads is compiled from it on first use (and again whenever the `.po` is newer), next to
the `.po` when the package folder is writable (`pip install -e .`), else in the user's cache folder.
So a fresh clone, an editable install and a wheel all work without a separate build step.
"""

from __future__ import annotations

import gettext
import os
from collections.abc import Mapping
from pathlib import Path

DOMAIN = "survey_tui"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
#: interface languages: tag as the user writes it -> gettext catalog name
LANGUAGES: dict[str, str] = {"en": "en", "zh-TW": "zh_TW"}
DEFAULT = "en"

_translations: gettext.NullTranslations = gettext.NullTranslations()
_current = DEFAULT


def _(message: str) -> str:
    """The message in the interface language (the English source when it has no translation)."""
    return _translations.gettext(message) if message else message  # gettext("") is the catalog header


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark a message for extraction without translating it now (class attributes, core messages)."""
    return message


def worded(words: Mapping[str, str], key: str) -> str:
    """A stored key (a status, an outcome, a test) in the interface language, from its table of marked words;
    a key the table does not know, as plain words ('quota_full' -> 'quota full')."""
    return _(words[key]) if key in words else key.replace("_", " ")


class Phrase(str):
    """English text that keeps the messages it was made of, for text that goes both into a file and onto
    the screen: files (reports, manifests) take the English `str` as it is, and `shown()` says it again
    in the interface language. Phrases join with `+` and keep every part."""

    parts: tuple[tuple[str, dict[str, object]], ...]

    def __new__(cls, message: str, /, **values: object) -> Phrase:
        made = super().__new__(cls, message.format(**values) if values else message)
        made.parts = ((message, values),)
        return made

    def __add__(self, other: str) -> Phrase:  # type: ignore[override]
        joined = str.__new__(Phrase, str.__add__(self, other))
        joined.parts = self.parts + (other.parts if isinstance(other, Phrase) else ((other, {}),))
        return joined

    def __radd__(self, other: str) -> Phrase:
        joined = str.__new__(Phrase, other + str(self))
        joined.parts = ((other, {}), *self.parts)
        return joined

    def translated(self) -> str:
        return "".join(
            _(message).format(**{k: shown(v) if isinstance(v, str) else v for k, v in values.items()})
            if values
            else _(message)
            for message, values in self.parts
        )


def shown(text: str) -> str:
    """A text as the interface shows it: a Phrase in the interface language, any other text as it is."""
    return text.translated() if isinstance(text, Phrase) else text


def current_language() -> str:
    return _current


def study_language(languages: list[str]) -> str:
    """Which of the study's own languages to show its texts in (quota and banner labels, question text):
    the interface language when the study has it, else the study's first language."""
    return _current if _current in languages else (languages[0] if languages else "en")


def normalise(tag: str | None) -> str | None:
    """'zh-TW', 'zh_TW.UTF-8', 'zh_Hant' -> 'zh-TW'; 'en_US' -> 'en'; anything else -> None."""
    if not tag:
        return None
    base = tag.split(".")[0].split("@")[0].replace("_", "-").lower()
    if base in ("zh-tw", "zh-hant", "zh-hant-tw", "zh-hk", "zh-hant-hk", "zh-mo"):
        return "zh-TW"
    if base == "en" or base.startswith("en-") or base in ("c", "posix"):
        return "en"
    return None


def config_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "survey-tui" / "config.yaml"


def configured_language(path: Path | None = None) -> str | None:
    """`ui_lang: zh-TW` in ~/.config/survey-tui/config.yaml (a line-based read: no YAML library at start)."""
    path = path or config_file()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        key, sep, value = line.partition(":")
        if sep and key.strip() == "ui_lang":
            return normalise(value.split("#")[0].strip().strip("'\""))
    return None


def choose_language(given: str | None = None, env: dict[str, str] | None = None) -> str:
    """--ui-lang, else the config setting, else the locale (LC_ALL, LC_MESSAGES, LANG), else English."""
    env = os.environ if env is None else env
    for candidate in (given, env.get("SURVEY_TUI_UI_LANG")):
        chosen = normalise(candidate)
        if chosen:
            return chosen
    chosen = configured_language()
    if chosen:
        return chosen
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if env.get(var):
            return normalise(env[var]) or DEFAULT
    return DEFAULT


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "survey-tui" / "locale"


def _compile(po: Path, mo: Path) -> None:
    """Write the .mo from the .po with Babel, atomically (a half-written catalog is never read)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    mo.parent.mkdir(parents=True, exist_ok=True)
    tmp = mo.with_name(f".{mo.name}.{os.getpid()}.tmp")
    with tmp.open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)
    os.replace(tmp, mo)


def compiled_catalog_dir(catalog: str) -> Path | None:
    """The localedir holding an up-to-date .mo for this catalog, compiling it if missing or stale."""
    po = LOCALE_DIR / catalog / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po.is_file():
        return None
    for localedir in (LOCALE_DIR, cache_dir()):
        mo = localedir / catalog / "LC_MESSAGES" / f"{DOMAIN}.mo"
        try:
            if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
                return localedir
            _compile(po, mo)
            return localedir
        except OSError:
            continue  # a read-only install: try the cache folder
    return None


def set_language(tag: str | None) -> str:
    """Switch the interface language for the whole process; returns the tag in force."""
    global _translations, _current
    chosen = normalise(tag) or DEFAULT
    catalog = LANGUAGES[chosen]
    localedir = compiled_catalog_dir(catalog) if chosen != DEFAULT else None
    if localedir is None:  # English, or a catalog that cannot be read: the English source texts
        _translations, _current = gettext.NullTranslations(), DEFAULT
        return _current
    mo = localedir / catalog / "LC_MESSAGES" / f"{DOMAIN}.mo"
    with mo.open("rb") as f:  # read afresh: gettext.translation() would keep a stale catalog cached
        _translations = gettext.GNUTranslations(f)
    _current = chosen
    return _current
