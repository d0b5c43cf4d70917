"""Running a tab plan (`survey_tui.core.plan.tabplan`) through the table engine.

Each planned table becomes one `StubTable` per stub, with the plan's options resolved (table, then the
plan's defaults, then the study's: its weight when one is configured), its nets (nets of nets resolved
to codes), its summary rows kept as asked and its title in the reader's language. Banners are evaluated
once per banner and filter, so a plan of hundreds of tables costs little more than its counting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from survey_tui.analysis.banner import BannerSpec, GroupSpec
from survey_tui.analysis.dataset import Dataset
from survey_tui.analysis.tables import StubTable, TableOptions, banner_tables
from survey_tui.core.instrument.model import label_text
from survey_tui.core.plan.tabplan import TabBanner, TabPlan, TabTable

_SUMMARY_KINDS = {
    "top2": {"top2"},
    "bottom2": {"bottom2"},
    "mean": {"mean"},
    "sd": {"sd"},
    "median": {"median"},
    "nps": {"nps", "promoters", "passives", "detractors"},
}


def banner_spec(plan: TabPlan, banner: TabBanner, language: str) -> BannerSpec:
    labels = {k: v for k, v in banner.label.items()}
    label = label_text(banner.label, language, "en")
    if banner.nested:
        by_id = plan.banner_by_id()
        outer, inner = (banner_spec(plan, by_id[i], language) for i in banner.nested)
        return BannerSpec(id=banner.id, label=label, nested=(outer, inner), labels=labels)
    return BannerSpec(
        id=banner.id,
        label=label,
        variable=banner.variable,
        groups=tuple(GroupSpec(g.label, g.when) for g in banner.groups),
        labels=labels,
    )


def table_options(plan: TabPlan, table: TabTable, dataset: Dataset, language: str) -> TableOptions:
    """The table's options: its own, else the plan's defaults, else the study's weight."""
    weight = plan.option(table, "weight")
    if weight is None:
        weight = dataset.weight
    elif weight == "none":
        weight = None
    level = plan.option(table, "level") or 95
    options = TableOptions(
        level=level / 100,
        correction=plan.option(table, "correction") or "none",
        weight=weight,
        filter=table.filter,
        language=language,
        dk_in_base=plan.option(table, "base") == "total_asked",
        equal_variance=plan.option(table, "means_test") == "pooled",
        compare_total=bool(plan.option(table, "compare_total")),
        sort=plan.option(table, "sort") or "none",
        hide_below=plan.option(table, "hide_below"),
        nets={stub: _nets(table, language) for stub in table.stub} if table.nets else {},
    )
    for name in ("min_test_base", "small_base"):
        value = plan.option(table, name)
        if value is not None:
            options = replace(options, **{name: value})
    return options


def _nets(table: TabTable, language: str) -> dict[str, list[int]]:
    """Net label -> codes, a net of nets taking the union of the nets it names."""
    by_any_label: dict[str, list[int]] = {}
    result: dict[str, list[int]] = {}
    for net in table.nets:
        codes = list(net.codes)
        for other in net.nets:
            codes += [c for c in by_any_label.get(other, []) if c not in codes]
        for text in net.label.values():
            by_any_label[text] = codes
        result[label_text(net.label, language, "en")] = codes
    return result


def _keep_summaries(table: StubTable, wanted: list[str] | None) -> StubTable:
    if wanted is None:
        return table
    keep = set().union(*(_SUMMARY_KINDS[s] for s in wanted)) if wanted else set()
    drop = set().union(*_SUMMARY_KINDS.values()) - keep
    return replace(table, rows=[r for r in table.rows if r.kind not in drop])


def run_table(plan: TabPlan, table: TabTable, dataset: Dataset, language: str) -> list[StubTable]:
    """One planned table (one `StubTable` per stub)."""
    by_id = plan.banner_by_id()
    ids = table.banner or plan.banner
    specs = [banner_spec(plan, by_id[i], language) for i in ids if i in by_id]
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise KeyError(f"table {table.id}: no banner {missing[0]!r} in the tab plan")
    options = table_options(plan, table, dataset, language)
    results = banner_tables(dataset, table.stub, specs, options)
    title = label_text(table.title, language, "en")
    out = []
    for result in results:
        result = _keep_summaries(result, table.summary)
        result.id = table.id
        if title:
            result.title = f"{table.id} {title}" + (f" — {result.title}" if len(results) > 1 else "")
        else:
            result.title = f"{table.id} {result.title}"
        out.append(result)
    return out


def run_plan(
    plan: TabPlan,
    dataset: Dataset,
    language: str,
    only: list[str] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[StubTable]:
    """Every table of the plan (or those whose ids are in ``only``), in the plan's order."""
    tables = [t for t in plan.tables if only is None or t.id in only]
    out: list[StubTable] = []
    for index, table in enumerate(tables):
        out.extend(run_table(plan, table, dataset, language))
        if progress is not None:
            progress(index + 1, len(tables))
    return out
