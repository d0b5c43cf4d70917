"""Triple-S XML, the market-research interchange standard: a metadata file (.sss) and a fixed-width data file.

Version 3.0 (the default) is written in UTF-8 with `<text xml:lang>` labels in every language of the
study and says so on its record (`encoding="UTF-8"`; the standard's default is Windows-1252); version
2.0 has the same shape. Types: `single` (one code; grid items are singles too),
`multiple` (spread format: up to one sub-field per category, holding the chosen codes, zero-filled),
`quantity` (numbers with a `<range>`; don't know / refused as special `<value>`s), `date` (YYYYMMDD)
and `time` (HHMMSS) with their ranges (a timestamp becomes a date and a time variable), and `character`
(open ends). Positions count characters of the data line (1-based, inclusive); the data file
is UTF-8 with one record per line. Columns are built with polars string expressions, never row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import polars as pl

from survey_tui.core.atomic import atomic_path
from survey_tui.io.meta import ExportData, ExportVariable


@dataclass
class SssVariable:
    ident: int
    name: str
    type: str  # single | multiple | quantity | character
    label: dict[str, str]
    start: int
    width: int
    values: dict[int, dict[str, str]] = field(default_factory=dict)  # code -> language -> label
    range: tuple[str, str] | None = None
    subfields: int = 0  # multiple: number of sub-fields of `subwidth` characters
    subwidth: int = 0
    columns: list[str] = field(default_factory=list)  # source columns
    use: str | None = None
    part: str | None = None  # date / time: which part of a Date or Datetime column

    @property
    def finish(self) -> int:
        return self.start + self.width - 1


def _name(text: str) -> str:
    clean = re.sub(r"[^A-Za-z0-9_]", "_", text)
    return clean if clean[:1].isalpha() else f"v{clean}"


def _digits(value: float | int | None) -> int:
    return 1 if value is None else len(str(int(value)))


def _texts(var: ExportVariable, languages: list[str]) -> dict[int, dict[str, str]]:
    codes = sorted({code for vl in var.value_labels.values() for code in vl})
    return {code: {lang: var.values_in(lang).get(code, str(code)) for lang in languages} for code in codes}


def plan_layout(data: ExportData) -> list[SssVariable]:
    """Types, value codes and positions of every Triple-S variable (one per question for multis)."""
    frame, langs = data.frame, data.languages
    out: list[SssVariable] = []
    start = 1
    handled: set[str] = set()
    sets = data.multi_sets()
    flags: dict[str, list[ExportVariable]] = {}
    for var in data.variables:
        if var.kind == "multi_special":
            flags.setdefault(var.question, []).append(var)
    for var in data.variables:
        if var.name in handled:
            continue
        dtype = frame.schema[var.name]
        ident = len(out) + 1
        label = {lang: var.label_in(lang) for lang in langs}
        if var.kind == "multi" and var.choice_code is not None:
            members = sets[var.question]
            specials = flags.get(var.question, [])
            handled.update(m.name for m in (*members, *specials))
            values = {m.choice_code: {lang: _choice_text(m, lang) for lang in langs} for m in members}
            for flag in specials:
                code = int(flag.name.rsplit("_", 1)[1])
                values[code] = {lang: flag.values_in(lang).get(1, str(code)) for lang in langs}
            subwidth = max(_digits(code) for code in values)
            subfields = len(values)
            text = {lang: members[0].question_text.get(lang) or label[lang] for lang in langs}
            out.append(
                SssVariable(
                    ident,
                    _name(var.question),
                    "multiple",
                    text,
                    start,
                    subfields * subwidth,
                    values=dict(sorted(values.items())),
                    subfields=subfields,
                    subwidth=subwidth,
                    columns=[m.name for m in (*members, *specials)],
                )
            )
        elif dtype.is_integer() and var.value_labels and var.kind != "numeric":
            handled.add(var.name)
            values = _texts(var, langs)
            present = frame[var.name].drop_nulls()
            width = max([_width_of(c) for c in values] + [_width_of(present.max()), _width_of(present.min())])
            out.append(
                SssVariable(ident, _name(var.name), "single", label, start, width, values=values, columns=[var.name])
            )
        elif dtype.is_numeric():
            handled.add(var.name)
            decimals = var.decimals if dtype.is_float() else 0
            valid = (
                frame[var.name]
                .filter(~frame[var.name].cast(pl.Float64).is_in([float(c) for c in var.missing]))
                .drop_nulls()
            )
            if dtype.is_float() and not decimals and valid.len() and (valid != valid.round(0)).any():
                decimals = 2
            lo = 0 if not valid.len() else valid.min()
            hi = 0 if not valid.len() else valid.max()
            rng = (_fmt(lo, decimals), _fmt(hi, decimals))
            specials = {
                code: {lang: var.values_in(lang).get(code, name) for lang in langs}
                for code, name in var.missing.items()
            }
            width = max(len(rng[0]), len(rng[1]), *[len(str(c)) for c in specials], 1)
            use = "serial" if var.name == "interview_id" else None
            out.append(
                SssVariable(
                    ident,
                    _name(var.name),
                    "quantity",
                    label,
                    start,
                    width,
                    values=specials,
                    range=rng,
                    columns=[var.name],
                    use=use,
                )
            )
        elif dtype == pl.Date or isinstance(dtype, pl.Datetime):
            handled.add(var.name)
            column = frame[var.name].drop_nulls()
            parts = [("date", "%Y%m%d", "")] + ([("time", "%H%M%S", "_time")] if dtype != pl.Date else [])
            for kind, pattern, suffix in parts:
                texts = column.dt.strftime(pattern)  # both forms sort like the values they stand for
                empty = "19700101" if kind == "date" else "000000"
                lo = texts.min() if texts.len() else empty
                hi = texts.max() if texts.len() else empty
                text = label if kind == "date" else {lang: f"{label[lang]} (time)" for lang in langs}
                out.append(
                    SssVariable(
                        len(out) + 1,
                        _name(var.name) + suffix,
                        kind,
                        text,
                        start,
                        8 if kind == "date" else 6,
                        range=(lo, hi),
                        columns=[var.name],
                        part=pattern,
                    )
                )
                if kind == "date" and len(parts) > 1:
                    start += 8
            if len(parts) > 1:
                start += 6
                continue
        else:
            handled.add(var.name)
            longest = frame.select(_as_text(pl.col(var.name), dtype).str.len_chars().max()).item()
            width = max(1, int(longest or 0))
            out.append(SssVariable(ident, _name(var.name), "character", label, start, width, columns=[var.name]))
        start += out[-1].width
    return out


def _choice_text(member: ExportVariable, lang: str) -> str:
    label = member.label_in(lang)
    question = member.question_text.get(lang)
    if question and label.startswith(f"{question}: "):
        return label[len(question) + 2 :]
    return label.split(": ", 1)[-1]


def _width_of(value: float | int | None) -> int:
    return 1 if value is None else len(str(int(value)))


def _fmt(value: float | int, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _as_text(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        return column.dt.strftime("%Y-%m-%dT%H:%M:%S")
    return column.cast(pl.String).str.replace_all(r"[\r\n\t]+", " ")


def _field(data: ExportData, var: SssVariable) -> pl.Expr:
    """The fixed-width text of one variable for every row."""
    schema = data.frame.schema
    if var.type == "multiple":
        parts = []
        for column in var.columns:
            code = int(column.rsplit("_", 1)[1])
            parts.append(pl.when(pl.col(column) == 1).then(pl.lit(str(code).zfill(var.subwidth))))
        # chosen codes left-justified in consecutive sub-fields, unused sub-fields zero
        joined = pl.concat_str(parts, ignore_nulls=True)
        return joined.fill_null("").str.pad_end(var.width, "0")
    column = var.columns[0]
    dtype = schema[column]
    if var.type in ("date", "time"):
        return pl.col(column).dt.strftime(var.part or "%Y%m%d").fill_null(" " * var.width)
    if var.type == "single":
        return pl.col(column).cast(pl.Int64).cast(pl.String).str.pad_start(var.width, " ").fill_null(" " * var.width)
    if var.type == "quantity":
        decimals = len(var.range[1].split(".")[1]) if var.range and "." in var.range[1] else 0
        special = pl.col(column).cast(pl.Float64).is_in([float(c) for c in var.values])
        number = (
            pl.col(column).cast(pl.Float64).round(decimals).cast(pl.String)
            if decimals
            else pl.col(column).cast(pl.Float64).round(0).cast(pl.Int64).cast(pl.String)
        )
        if decimals:
            number = pl.col(column).cast(pl.Float64).map_elements(lambda x: f"{x:.{decimals}f}", return_dtype=pl.String)
        text = pl.when(special).then(pl.col(column).cast(pl.Int64).cast(pl.String)).otherwise(number)
        return text.str.pad_start(var.width, " ").fill_null(" " * var.width)
    return _as_text(pl.col(column), dtype).str.pad_end(var.width, " ").fill_null(" " * var.width)


def data_lines(data: ExportData, layout: list[SssVariable]) -> pl.DataFrame:
    return data.frame.select(pl.concat_str([_field(data, v) for v in layout]).alias("line"))


def _text_block(tag: str, texts: dict[str, str], indent: str) -> str:
    inner = "".join(f"<text xml:lang={quoteattr(lang)}>{escape(text)}</text>" for lang, text in texts.items())
    return f"{indent}<{tag}>{inner}</{tag}>"


def sss_xml(
    data: ExportData, layout: list[SssVariable], data_name: str, version: str = "3.0", now: datetime | None = None
) -> str:
    now = now or datetime.now()
    langs = " ".join(data.languages)
    title = {lang: data.instrument_title.get(lang) or data.title for lang in data.languages}
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<sss version="{version}" languages={quoteattr(langs)}>',
        f"  <date>{now:%d %B %Y}</date>",
        f"  <time>{now:%H:%M:%S}</time>",
        "  <origin>survey-tui</origin>",
        f"  <user>{escape(data.title)}</user>",
        "  <survey>",
        f"    <name>{escape(_name(data.instrument_id or 'survey'))}</name>",
        f"    <version>{escape(', '.join(data.versions) or '1')}</version>",
        _text_block("title", title, "    "),
        f'    <record ident="A" href={quoteattr(data_name)} format="fixed"'
        + (' encoding="UTF-8">' if version == "3.0" else ">"),
    ]
    for var in layout:
        use = f" use={quoteattr(var.use)}" if var.use else ""
        lines.append(f'      <variable ident="{var.ident}" type="{var.type}"{use}>')
        lines.append(f"        <name>{escape(var.name)}</name>")
        lines.append(_text_block("label", var.label, "        "))
        lines.append(f'        <position start="{var.start}" finish="{var.finish}"/>')
        if var.type == "multiple":
            lines.append(f'        <spread subfields="{var.subfields}" width="{var.subwidth}"/>')
        if var.type != "character" and (var.values or var.range):
            lines.append("        <values>")
            if var.range:
                lines.append(f'          <range from="{var.range[0]}" to="{var.range[1]}"/>')
            for code, texts in var.values.items():
                inner = "".join(f"<text xml:lang={quoteattr(k)}>{escape(v)}</text>" for k, v in texts.items())
                lines.append(f'          <value code="{code}">{inner}</value>')
            lines.append("        </values>")
        lines.append("      </variable>")
    lines += ["    </record>", "  </survey>", "</sss>"]
    return "\n".join(lines) + "\n"


def write_triple_s(data: ExportData, sss_path: Path, dat_path: Path, version: str = "3.0") -> list[SssVariable]:
    if version not in ("2.0", "3.0"):
        raise ValueError("Triple-S version must be 2.0 or 3.0")
    layout = plan_layout(data)
    lines = data_lines(data, layout)
    with atomic_path(Path(dat_path)) as tmp, open(tmp, "w", encoding="utf-8", newline="\r\n") as handle:
        for chunk in lines.iter_slices(50_000):
            handle.write("\n".join(chunk["line"].to_list()))
            handle.write("\n")
    with atomic_path(Path(sss_path)) as tmp:
        Path(tmp).write_text(sss_xml(data, layout, Path(dat_path).name, version), encoding="utf-8")
    return layout
