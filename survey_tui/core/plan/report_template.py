"""The client's Word template (`report.template` in study.yaml): its contract, and its mistakes located.

A client template is a .docx with docxtpl (Jinja2) tags. docxtpl joins the template's XML into one
string with every paragraph on a line of its own (`<w:p` starts a line), so the line number Jinja gives
for a mistake is the paragraph's place in the document, counted with the paragraphs inside tables. This
module names that place (paragraph N, or table T row R), quotes the paragraph's text and names the tag,
so a researcher can find it in Word; `check` runs it before any report is written.

The variables a template may use (`CONTEXT`; the README lists their fields) are checked by name:
a misspelt variable is an error here, and at rendering (StrictUndefined) a misspelt field too.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from survey_tui.core.problems import LoadError, Problem
from survey_tui.i18n import _

#: top-level variables of the template context, and what each holds (README: "Client Word templates")
CONTEXT: dict[str, str] = {
    "study": "title, client, researcher, date, language, description",
    "background": "context, decision",
    "method": "approach, modes, target_population, sampling, sample_size, interviews",
    "objectives": "list of: id, text, tables (as in `tables`), hypotheses (as in `hypotheses`)",
    "hypotheses": "list of: id, objective, statement, test, expected, statistic, p_value, effect, base, verdict, "
    "explanation",
    "tables": "list of: id, title, objective, base, footnote (list of lines), chart (picture or None), "
    "table (the formatted table: {{p t.table }})",
    "key_frequencies": "list of: name, title, base, chart (picture or None), table ({{p f.table }})",
    "body": "the whole built-in report, every section ({{p body }})",
    "placeholder": "the 'to write' marker text",
}


class TemplateError(LoadError):
    """A template that cannot be filled; the message names the file, the place and the tag (a LoadError,
    so the command line and the app show it as they show any file's problems)."""

    def __init__(self, problem: Problem) -> None:
        super().__init__([problem])
        self.problem = problem


@dataclass(frozen=True)
class Place:
    """Where a line of docxtpl's joined XML is in the document."""

    line: int
    paragraph: int  # 1-based, body paragraphs in order (those in tables too); 0 = before the first
    table: int = 0  # 1-based table number, 0 = not in a table
    row: int = 0
    text: str = ""  # the paragraph's text, tags stripped

    def describe(self, part: str = "document") -> str:
        where = (
            _("paragraph {number}").format(number=self.paragraph) if self.paragraph else _("the start of the document")
        )
        if self.table:
            where = _("table {table}, row {row}, {where}").format(table=self.table, row=self.row, where=where)
        if part != "document":
            where = f"{part}, {where}"
        return _("{where} (line {line} of the template XML)").format(where=where, line=self.line)


def paragraphs_of(root: Any) -> list[Place]:
    """Every paragraph of a part as Word counts them (those in tables too), with its table and row."""
    w = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
    tables = list(root.iter(w + "tbl"))  # held, so lxml hands back these very proxies below
    found: list[Place] = []
    for n, p in enumerate(root.iter(w + "p"), 1):
        table = row = 0
        tr = next((a for a in p.iterancestors(w + "tr")), None)
        if tr is not None:
            tbl = tr.getparent()
            table = next((i for i, t in enumerate(tables, 1) if t is tbl), 0)
            row = [c for c in tbl if c.tag == w + "tr"].index(tr) + 1
        text = "".join(t.text or "" for t in p.iter(w + "t"))
        found.append(Place(0, n, table, row, text.strip()))
    return found


def place_of(xml: str, line: int, paragraphs: list[Place]) -> Place:
    """The place of `line` (1-based) of docxtpl's joined XML in the document as Word shows it.

    docxtpl drops the paragraphs and rows that hold only a {%p %} / {%tr %} tag, so the line's paragraph
    count is a lower bound; the paragraph is the first from there whose text holds the line's text."""
    lines = xml.splitlines()
    line = max(1, min(line, len(lines)))
    at_least = sum(1 for x in lines[:line] if x.startswith("<w:p"))
    text = _text(lines[line - 1])
    wanted = re.sub(r"\s+", "", text)
    for p in paragraphs[max(at_least - 1, 0) :]:
        own = re.sub(r"\s+", "", p.text)
        # a tag left open swallows the XML up to the next "}}", so the line may run on past its paragraph
        if wanted and (wanted in own or (own and wanted.startswith(own))):
            return Place(line, p.paragraph, p.table, p.row, p.text)
    return Place(line, at_least, 0, 0, text)


def _text(xml_line: str) -> str:
    """The visible text of one XML line: the runs' text without tags."""
    text = re.sub(r"<[^>]+>", "", xml_line)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&").strip()


def tag_in(text: str, name: str | None = None) -> str:
    """The Jinja tag of a paragraph's text that mentions `name` (else its first tag, else the text)."""
    tags = re.findall(r"\{[{%#].*?(?:[}%#]\}|$)", text)
    for tag in tags:
        if name and re.search(rf"\b{re.escape(name)}\b", tag):
            return tag
    return tags[0] if tags else text[:80]


def _root(tpl: Any, part: Any = None) -> Any:
    from lxml import etree

    return tpl.docx.element.body if part is None else etree.fromstring(part.blob)


def joined_xml(tpl: Any, part: Any = None) -> str:
    """The XML docxtpl renders for `part` (default: the body), with its paragraphs on lines of their own."""
    xml = tpl.get_xml() if part is None else tpl.get_part_xml(part)
    return re.sub(r"<w:p([ >])", r"\n<w:p\1", tpl.patch_xml(xml))


def _unreadable(exc: BaseException) -> str:
    return _("the report template is not a readable Word document ({error})").format(
        error=f"{type(exc).__name__}: {exc}"
    )


def open_template(path: Path, display: str) -> Any:
    """The docxtpl template at `path`, or a TemplateError saying why it is not one."""
    from docxtpl import DocxTemplate

    if not path.is_file():
        raise TemplateError(
            Problem(
                display, _("the report template does not exist"), hint=_("report.template is relative to the study")
            )
        )
    if path.suffix.lower() != ".docx":
        message = _("the report template must be a Word .docx file, not {suffix!r}").format(suffix=path.suffix)
        raise TemplateError(Problem(display, message))
    try:
        with zipfile.ZipFile(path) as archive:
            archive.getinfo("word/document.xml")
        tpl = DocxTemplate(str(path))
        tpl.init_docx()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise TemplateError(Problem(display, _unreadable(exc))) from exc
    except Exception as exc:  # noqa: BLE001 - python-docx raises many kinds for a damaged package
        raise TemplateError(Problem(display, _unreadable(exc))) from exc
    return tpl


def environment() -> Any:
    """The Jinja environment templates are filled with: a misspelt name or field is an error, not blank."""
    from jinja2 import Environment, StrictUndefined

    return Environment(undefined=StrictUndefined, autoescape=True)


def _parts(tpl: Any) -> list[tuple[str, Any]]:
    """(name, part) of the body, headers and footers: the parts docxtpl fills."""
    parts: list[tuple[str, Any]] = [("document", None)]
    for rel in tpl.docx.part.rels.values():
        kind = rel.reltype.rsplit("/", 1)[-1]
        if kind in ("header", "footer"):
            parts.append((kind, rel.target_part))
    return parts


def template_problems(path: Path, display: str) -> list[Problem]:
    """Everything wrong with the template that can be told without the data: not a .docx, a Jinja
    syntax mistake, or a variable the contract does not have; each located."""
    from jinja2 import TemplateSyntaxError, meta

    try:
        tpl = open_template(path, display)
    except TemplateError as exc:
        return [exc.problem]
    env = environment()
    known = set(CONTEXT) | set(env.globals)
    problems: list[Problem] = []
    for name, part in _parts(tpl):
        try:
            xml = joined_xml(tpl, part)
            paragraphs = paragraphs_of(_root(tpl, part))
        except Exception:  # noqa: BLE001 - a header docxtpl cannot read is not the body's problem
            continue
        try:
            ast = env.parse(xml)
        except TemplateSyntaxError as exc:
            place = place_of(xml, exc.lineno or 1, paragraphs)
            problems.append(
                Problem(
                    display,
                    _("bad template tag {tag!r} at {where}: {error}").format(
                        tag=tag_in(place.text), where=place.describe(name), error=exc.message
                    ),
                    hint=_("docxtpl tags: {example}").format(
                        example="{{ name }}, {%p for x in list %} ... {%p endfor %}, {{p subdocument }}"
                    ),
                )
            )
            continue
        for unknown in sorted(meta.find_undeclared_variables(ast) - known):
            line = _line_naming(xml, unknown)
            place = place_of(xml, line, paragraphs)
            problems.append(
                Problem(
                    display,
                    _("unknown variable {name!r} in {tag!r} at {where}").format(
                        name=unknown, tag=tag_in(place.text, unknown), where=place.describe(name)
                    ),
                    hint=_("a template may use: {names}").format(names=", ".join(CONTEXT)),
                )
            )
    return problems


def _line_naming(xml: str, name: str) -> int:
    """The first line whose Jinja tags mention `name`."""
    pattern = re.compile(r"\{[{%][^}%]*\b" + re.escape(name) + r"\b")
    for i, line in enumerate(xml.splitlines(), 1):
        if pattern.search(_text(line)):
            return i
    return 1


def render_error(tpl: Any, exc: BaseException, display: str) -> Problem:
    """A located problem for an error raised while filling the template (e.g. a misspelt field)."""
    line = getattr(exc, "lineno", None)
    tb = exc.__traceback__
    while tb is not None:  # Jinja rewrites tracebacks so template lines show as frames of "<template>"
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    part = getattr(tpl, "current_rendering_part", None)
    name = "document"
    for part_name, candidate in _parts(tpl):
        if candidate is not None and candidate is part:
            name = part_name
    message = getattr(exc, "message", None) or str(exc)
    if line is None:
        return Problem(display, _("the template could not be filled: {error}").format(error=message))
    part = None if name == "document" else part
    place = place_of(joined_xml(tpl, part), line, paragraphs_of(_root(tpl, part)))
    missing = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    name_hint = next((g for g in missing.groups() if g), None) if missing else None
    return Problem(
        display,
        _("template tag {tag!r} at {where}: {error}").format(
            tag=tag_in(place.text, name_hint), where=place.describe(name), error=message
        ),
        hint=_("the README's 'Client Word templates' lists each variable's fields"),
    )
