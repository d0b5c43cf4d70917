"""Open-end coding (T1.5 classification, P1.5.5): code frames and the codes given to each verbatim.

Where things live, and why:
* A code frame is a plain YAML file, ``codeframes/<question>.yaml`` in the study folder, next to the
  questionnaires: researchers review, diff and reuse code frames like any other study text, and the
  same frame can be copied into the next wave. Written atomically.
* The codes given to each verbatim are data, so they go to the store (`open_end_codes`, one row per
  interview and question, a JSON list of codes), one transaction per verbatim like answers: a coder's
  work survives a crash, and nothing is half-written.

The coded result joins the `Dataset` as a multi variable ``<question>_coded`` with 0/1 columns
``<question>_coded_<code>`` (null when the verbatim is not coded yet), and the frame's nets travel in
`Dataset.nets`, so tables and exports treat it like any multi question.

Example ``codeframes/a5_why.yaml``::

    question: a5_why
    codes:
      - {code: 1, label: {zh-TW: 離家或公司近, en: Close to home or work}}
      - {code: 2, label: {zh-TW: 好喝, en: Tastes good}}
    nets:
      - {label: {zh-TW: 便利, en: Convenience}, codes: [1]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from survey_tui.analysis.dataset import Dataset, Variable
from survey_tui.core.instrument.model import Labels, label_text
from survey_tui.core.problems import Problem
from survey_tui.core.store.sqlite import Store, now
from survey_tui.core.study import Study
from survey_tui.core.yamlfile import read_yaml, validate_document, write_yaml_atomic

CODEFRAME_DIR = "codeframes"
SUFFIX = "_coded"


class FrameCode(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    code: int
    label: Labels


class FrameNet(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    label: Labels
    codes: list[int] = Field(min_length=1)


class CodeFrame(BaseModel):
    """The codes (and nets of codes) an open question's answers are classified into."""

    model_config = ConfigDict(extra="forbid", defer_build=True)
    question: str
    label: Labels | None = None
    codes: list[FrameCode] = Field(default_factory=list)
    nets: list[FrameNet] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CodeFrame:
        seen: set[int] = set()
        for code in self.codes:
            if code.code in seen:
                raise ValueError(f"code {code.code} is used twice")
            seen.add(code.code)
        for net in self.nets:
            unknown = [c for c in net.codes if c not in seen]
            if unknown:
                raise ValueError(f"net {label_text(net.label, 'en')!r} uses unknown code(s) {unknown}")
        return self

    def net_map(self, language: str) -> dict[str, list[int]]:
        return {label_text(n.label, language, "en"): list(n.codes) for n in self.nets}


def frames_dir(study: Study) -> Path:
    return study.root / CODEFRAME_DIR


def frame_path(study: Study, question: str) -> Path:
    return frames_dir(study) / f"{question}.yaml"


def load_code_frames(study: Study) -> tuple[dict[str, CodeFrame], list[Problem]]:
    """Every code frame that loads, and located problems for those that do not."""
    frames: dict[str, CodeFrame] = {}
    problems: list[Problem] = []
    folder = frames_dir(study)
    if not folder.is_dir():
        return frames, problems
    for path in sorted(folder.glob("*.yaml")):
        relative = study.relative(path)
        doc, found = read_yaml(path, relative)
        problems.extend(found)
        if doc is None:
            continue
        frame, found = validate_document(CodeFrame, doc)
        problems.extend(found)
        if frame is not None:
            frames[frame.question] = frame
    return frames, problems


def save_code_frame(study: Study, frame: CodeFrame) -> Path:
    """Write (or replace) a question's code frame atomically."""
    path = frame_path(study, frame.question)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_yaml_atomic(path, frame.model_dump(mode="json", exclude_none=True))
    return path


def record_codes(store: Store, frame: CodeFrame, interview_id: int, codes: list[int], coder: str | None = None) -> None:
    """Give a verbatim its codes (replacing earlier ones); an empty list removes the coding."""
    known = {c.code for c in frame.codes}
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValueError(f"code(s) {unknown} are not in the code frame of {frame.question}")
    with store.transaction() as conn:
        if not codes:
            conn.execute(
                "DELETE FROM open_end_codes WHERE interview_id = ? AND question = ?", (interview_id, frame.question)
            )
            return
        conn.execute(
            "INSERT INTO open_end_codes (interview_id, question, codes, coder, coded_at) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (interview_id, question) DO UPDATE SET codes = excluded.codes, coder = excluded.coder,"
            " coded_at = excluded.coded_at",
            (interview_id, frame.question, json.dumps(sorted(set(codes))), coder, now()),
        )


def coded(store: Store, question: str) -> dict[int, list[int]]:
    rows = store.query("SELECT interview_id, codes FROM open_end_codes WHERE question = ?", (question,))
    return {int(r[0]): list(json.loads(r[1])) for r in rows}


@dataclass(frozen=True)
class Verbatim:
    interview_id: int
    text: str
    codes: tuple[int, ...]


def verbatims(dataset: Dataset, store: Store, question: str) -> list[Verbatim]:
    """The substantive answers to an open question (don't know / refused left out), with their codes."""
    variable = dataset.variable(question)
    if variable.type != "text":
        raise ValueError(f"{question} is not an open (text) question")
    missing = [str(c) for c in variable.missing_codes]
    rows = dataset.frame.filter(pl.col(question).is_not_null() & ~pl.col(question).is_in(missing)).select(
        "interview_id", question
    )
    given = coded(store, question)
    return [
        Verbatim(int(iid), str(text), tuple(given.get(int(iid), ())))
        for iid, text in rows.iter_rows()
        if str(text).strip()
    ]


def coded_variables(frame: CodeFrame, question_label: dict[str, str]) -> list[Variable]:
    name = frame.question + SUFFIX
    label = frame.label or question_label
    return [
        Variable(
            name=f"{name}_{code.code}",
            question=name,
            type="multi",
            measure="nominal",
            label={lang: f"{text}: {label_text(code.label, lang)}" for lang, text in label.items()},
            value_labels={1: {"zh-TW": "有提及", "en": "Mentioned"}, 0: {"zh-TW": "未提及", "en": "Not mentioned"}},
            choice_code=code.code,
            question_label=dict(label),
        )
        for code in frame.codes
    ]


def add_coded_variables(study: Study, store: Store, dataset: Dataset) -> Dataset:
    """Join every coded open end as a multi variable (see the module docstring)."""
    frames, _ = load_code_frames(study)
    for question, frame in frames.items():
        if question not in dataset.variables or not frame.codes:
            continue
        # in bulk, not a Python object per verbatim; each code is looked up in the stored JSON list (written by
        # `record_codes` as json.dumps of ints) as text, as the data set does for a multi: polars' JSON decoder
        # would need several times the column's size of scratch
        given = store.read_frame(
            "SELECT interview_id, codes FROM open_end_codes WHERE question = ?",
            (question,),
            {"interview_id": pl.Int64, "codes": pl.String},
        )
        columns = given.select(
            "interview_id",
            *[
                pl.col("codes")
                .str.contains(rf"[\[,]\s*{code.code}\s*[,\]]")
                .cast(pl.Int8)
                .alias(f"{question}{SUFFIX}_{code.code}")
                for code in frame.codes
            ],
        )
        del given
        variables = coded_variables(frame, dataset.variables[question].label)
        dataset = dataset.with_columns(columns, variables)
        dataset.nets = {**dataset.nets, question + SUFFIX: frame.net_map(dataset.language)}
    return dataset
