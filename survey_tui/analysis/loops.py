"""Loop questions stacked across their iterations: one row per iteration asked, for tables whose base counts
iterations ("every brand rated") rather than respondents.

The wide data file holds a loop question once per item (``l1_fam_2`` is brand 2's familiarity; see
`core.instrument.model.Loop`). `stack_loop` turns that into the long shape a stacked table needs: for each
item, the respondents who were asked that iteration, with the loop's columns renamed to the question as
written (``l1_fam``, a multi's ``l2_image_<code>``), a column named after the loop holding the item's code
(value labels: the items' labels, so it can be a banner: one column per brand), and every other variable
(demographics, the weight) repeated, so the usual banners still work. The per-item tables need nothing of
this: ``l1_fam_2`` is an ordinary variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import polars as pl

from survey_tui.analysis.dataset import INTERVIEW_COLUMNS, Dataset, Variable
from survey_tui.core.instrument.model import PIPE_PATTERN, label_text


def loop_of_stubs(dataset: Dataset, stubs: Sequence[str]) -> str | None:
    """The loop whose questions (as written) the stubs name, or None; mixing loops, or loop and plain stubs,
    is refused."""
    instrument = dataset.instrument
    if not dataset.loops:
        return None
    loops = {stub: instrument.loops.get(stub) or instrument.loop_of_template(stub) for stub in stubs}
    named = {plan.name for plan in loops.values() if plan is not None}
    if not named:
        return None
    if len(named) > 1 or any(plan is None for plan in loops.values()):
        plain = [stub for stub, plan in loops.items() if plan is None]
        raise KeyError(
            "a stacked table takes the questions of one loop only"
            + (f"; '{plain[0]}' is not in a loop" if plain else f" (it names {', '.join(sorted(named))})")
        )
    return named.pop()


def stack_loop(dataset: Dataset, loop: str) -> Dataset:
    """One row per (interview, item) whose iteration has an answer in the loop; see the module docstring."""
    plan = dataset.loops.get(loop)
    if plan is None:
        raise KeyError(f"no loop '{loop}' in the instrument")
    by_template = {
        template: items
        for template, items in dataset.loop_questions().items()
        if any(v.loop == loop for vs in items.values() for v in vs)
    }
    plain = [v for v in dataset.variables.values() if v.loop is None]
    base_columns = [c for c in dataset.frame.columns if c in INTERVIEW_COLUMNS] + [v.name for v in plain]
    stacked_vars: dict[str, Variable] = {}
    parts: list[pl.DataFrame] = []
    for key in plan.keys:
        renamed: list[pl.Expr] = []
        for template, items in by_template.items():
            for variable in items.get(key, []):
                name = template + variable.name[len(f"{template}_{key}") :]
                renamed.append(pl.col(variable.name).alias(name))
                if name not in stacked_vars:
                    stacked_vars[name] = _stacked_variable(dataset, variable, name, template, plan.label)
        if not renamed:
            continue
        asked = pl.any_horizontal([e.is_not_null() for e in renamed])
        part = dataset.frame.filter(asked).select(
            *[pl.col(c) for c in base_columns], *renamed, pl.lit(key, dtype=pl.Int32).alias(loop)
        )
        parts.append(part)
    if not parts:
        raise KeyError(f"loop '{loop}' has no variables in the data file")
    frame = pl.concat(parts, how="diagonal_relaxed")
    item = Variable(
        name=loop,
        question=loop,
        type="single",
        measure="nominal",
        label=dict(plan.label) or {"*": loop},
        value_labels={key: dict(labels) for key, labels in plan.item_labels.items()},
    )
    variables = {v.name: v for v in plain} | {loop: item} | stacked_vars
    order = [*base_columns, loop, *stacked_vars]
    return replace(dataset, frame=frame.select(order), variables=variables)


def _stacked_variable(dataset: Dataset, variable: Variable, name: str, template: str, item: dict[str, str]) -> Variable:
    """The iteration's variable under the question's own name, its label with the loop's word for the item."""
    written = _template_question_label(dataset, template)

    def relabel(labels: dict[str, str]) -> dict[str, str]:
        out = {}
        for lang, text in labels.items():
            word = f"[{label_text(item, lang, dataset.language) or variable.loop}]"
            out[lang] = PIPE_PATTERN.sub(lambda m, w=word: w if m.group(1) == variable.loop else m.group(0), text)
        return out

    question_label = relabel(written) if written else dict(variable.question_label)
    label = question_label
    if variable.choice_code is not None or variable.item is not None:  # a multi's choice, a grid's row
        suffix = {lang: text.split(": ", 1)[1] for lang, text in variable.label.items() if ": " in text}
        label = {lang: f"{text}: {suffix[lang]}" if lang in suffix else text for lang, text in question_label.items()}
    return replace(
        variable,
        name=name,
        question=template,
        label=label,
        question_label=question_label,
        relevance=None,
        loop_item=None,
    )


def _template_question_label(dataset: Dataset, template: str) -> dict[str, str]:
    for section in dataset.instrument.sections:
        if section.loop is not None:
            for question in section.questions:
                if question.name == template:
                    return dict(question.label)
    return {}


def stacked_base_note(dataset: Dataset, loop: str, language: str) -> str:
    """What a stacked table's base counts, in the reader's language."""
    plan = dataset.instrument.loops[loop]
    word = label_text(plan.label, language, dataset.language) or loop
    if language.startswith("zh"):
        return f"堆疊：每位受訪者每個被問到的{word}各一列（樣本數為{word}次數，不是人數）"
    return f"stacked: one row per {word} asked of each respondent (the base counts {word} iterations, not people)"
