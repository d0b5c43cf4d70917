"""The codebook: every variable with its label, question text per language, type, values, missing codes,
relevance and instrument version, as Markdown (for the repository and the report appendix) and HTML
(for stakeholders who open it in a browser)."""

from __future__ import annotations

from html import escape

from survey_tui.io.meta import ExportData, ExportVariable

#: How each format carries don't know / refused / not applicable (codebook, manifest).
MISSING_CONVENTION: dict[str, str] = {
    "sav": "user-missing values: the codes listed under 'Missing codes' (text answers: the code as a string)",
    "dta": "extended missing values .a don't know, .b refused, .c not applicable, each with its value label",
    "csv": "the code itself (e.g. 98, 99, 97) in the column; an empty cell is not asked / no answer",
    "parquet": "the code itself in the column, listed per variable in the file metadata (survey_tui.variables"
    " -> missing); null is not asked / no answer",
    "sss": "the code itself, declared as a special value of the variable",
}


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _values(var: ExportVariable, languages: list[str]) -> list[tuple[int, list[str]]]:
    codes = sorted({code for vl in var.value_labels.values() for code in vl})
    return [(code, [var.values_in(lang).get(code, "") for lang in languages]) for code in codes]


def codebook_markdown(data: ExportData, report: list[dict[str, str]] | None = None) -> str:
    langs = data.languages
    lines = [
        f"# Codebook — {data.title}",
        "",
        f"- Instrument: `{data.instrument_id}` ({', '.join(data.versions) or 'unpublished'})",
        f"- Rows: {data.frame.height}, variables: {len(data.variables)}",
        f"- Languages: {', '.join(langs)}",
    ]
    lines += [f"- Filter: {f}" for f in data.filters]
    lines += ["", "## Missing values", ""]
    lines += [f"- {fmt}: {text}" for fmt, text in MISSING_CONVENTION.items()]
    if report:
        lines += ["", "## Export report (names and labels changed to fit a format; full text here)", ""]
        lines += [f"- {r['file']} `{r['variable']}`: {r['what']}; full: {_md(r['full'])}" for r in report]
    lines.append("")
    lines.append("| Variable | " + " | ".join(f"Label ({lang})" for lang in langs) + " | Type | Measure |")
    lines.append("|---|" + "---|" * len(langs) + "---|---|")
    for var in data.variables:
        labels = " | ".join(_md(var.label_in(lang)) for lang in langs)
        lines.append(f"| `{var.name}` | {labels} | {var.kind} | {var.measure} |")
    lines.append("")
    for var in data.variables:
        lines.append(f"## `{var.name}`")
        lines.append("")
        for lang in langs:
            lines.append(f"- Label ({lang}): {_md(var.label_in(lang))}")
        for lang in langs:
            if var.question_text.get(lang):
                lines.append(f"- Question ({lang}): {_md(var.question_text[lang])}")
        lines.append(f"- Type: {var.kind}; measure: {var.measure}; column type: {data.frame.schema[var.name]}")
        if var.question and var.question != var.name:
            lines.append(f"- Question: `{var.question}`")
        if var.missing:
            lines.append("- Missing codes: " + ", ".join(f"{c} = {n}" for c, n in sorted(var.missing.items())))
        if var.relevance:
            lines.append(f"- Asked when: `{var.relevance}`")
        if var.version:
            lines.append(f"- Instrument version: {var.version}")
        lines += [f"  - {_md(change)}" for change in var.history]
        values = _values(var, langs)
        if values:
            lines.append("")
            lines.append("| Code | " + " | ".join(langs) + " |")
            lines.append("|---|" + "---|" * len(langs))
            for code, texts in values:
                mark = " (missing)" if code in var.missing else ""
                lines.append(f"| {code}{mark} | " + " | ".join(_md(t) for t in texts) + " |")
        lines.append("")
    return "\n".join(lines)


def codebook_html(data: ExportData, report: list[dict[str, str]] | None = None) -> str:
    langs = data.languages
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-Hant"><head><meta charset="utf-8">',
        f"<title>Codebook — {escape(data.title)}</title>",
        "<style>body{font-family:system-ui,'Noto Sans TC','Microsoft JhengHei',sans-serif;margin:2em}"
        "table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #bbb;padding:.2em .5em;"
        "vertical-align:top}th{background:#eee}code{background:#f4f4f4}</style></head><body>",
        f"<h1>Codebook — {escape(data.title)}</h1>",
        f"<p>Instrument <code>{escape(data.instrument_id)}</code> ({escape(', '.join(data.versions) or '-')}); "
        f"{data.frame.height} rows, {len(data.variables)} variables.</p>",
    ]
    if data.filters:
        out.append("<ul>" + "".join(f"<li>{escape(f)}</li>" for f in data.filters) + "</ul>")
    out.append("<h2>Missing values</h2><ul>")
    out += [f"<li>{escape(fmt)}: {escape(text)}</li>" for fmt, text in MISSING_CONVENTION.items()]
    out.append("</ul>")
    if report:
        out.append("<h2>Export report</h2><ul>")
        out += [
            f"<li>{escape(r['file'])} <code>{escape(r['variable'])}</code>: {escape(r['what'])}; "
            f"full: {escape(r['full'])}</li>"
            for r in report
        ]
        out.append("</ul>")
    for var in data.variables:
        out.append(f'<h2 id="{escape(var.name)}"><code>{escape(var.name)}</code></h2><table>')
        for lang in langs:
            out.append(f"<tr><th>Label ({escape(lang)})</th><td>{escape(var.label_in(lang))}</td></tr>")
        for lang in langs:
            if var.question_text.get(lang):
                out.append(f"<tr><th>Question ({escape(lang)})</th><td>{escape(var.question_text[lang])}</td></tr>")
        out.append(f"<tr><th>Type</th><td>{escape(var.kind)} ({escape(var.measure)})</td></tr>")
        if var.missing:
            text = ", ".join(f"{c} = {n}" for c, n in sorted(var.missing.items()))
            out.append(f"<tr><th>Missing codes</th><td>{escape(text)}</td></tr>")
        if var.relevance:
            out.append(f"<tr><th>Asked when</th><td><code>{escape(var.relevance)}</code></td></tr>")
        if var.version:
            history = "".join(f"<br>{escape(change)}" for change in var.history)
            out.append(f"<tr><th>Instrument version</th><td>{escape(var.version)}{history}</td></tr>")
        out.append("</table>")
        values = _values(var, langs)
        if values:
            out.append("<table><tr><th>Code</th>" + "".join(f"<th>{escape(lang)}</th>" for lang in langs) + "</tr>")
            for code, texts in values:
                mark = " (missing)" if code in var.missing else ""
                out.append(f"<tr><td>{code}{mark}</td>" + "".join(f"<td>{escape(t)}</td>" for t in texts) + "</tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
