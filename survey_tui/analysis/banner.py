"""Banner columns: which respondents each column of a table holds.

A banner is a list of *parts*, each a group of columns tested against each other:

* a single-coded variable (``s3``): one column per code, every respondent in at most one;
* a multi-coded variable (a multi question, ``a2_aided``): one column per choice, respondents in several;
* groups defined by expressions (``s2 < 40``, ``s2 >= 30``), which may overlap;
* a nested part (region within gender): one column per pair, tested within each outer column.

How it stays fast: every respondent gets an integer *banner key* per packing of parts. An exclusive part
is one digit (its column, or "none"); an overlapping part is one bit per column. A stub is then counted
once per key with `numpy.bincount`, and each column's counts are a matrix product with the key's 0/1
membership matrix. Counts of the respondents two overlapping columns share come from the same product
with the two membership columns multiplied, so the overlap correction of the tests costs nothing extra.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from survey_tui.analysis.dataset import Dataset, Variable

#: combinations one key may hold before parts are packed into another key
KEY_LIMIT = 1 << 14
#: an overlapping part takes a bit per column; more columns than this must be split
MAX_OVERLAPPING_COLUMNS = 14


@dataclass(frozen=True)
class GroupSpec:
    label: str
    when: str


@dataclass(frozen=True)
class BannerSpec:
    """A banner part as written: a variable, expression groups, or a nest of two specs."""

    id: str
    label: str = ""
    variable: str | None = None
    groups: tuple[GroupSpec, ...] = ()
    nested: tuple[BannerSpec, BannerSpec] | None = None
    labels: dict[str, str] = field(default_factory=dict)  # label per language

    def label_in(self, language: str) -> str:
        return self.labels.get(language) or self.label or self.id


@dataclass
class BannerPart:
    """Columns of one part, evaluated on the data: ``masks[r, c]`` respondent r is in column c."""

    id: str
    label: str
    variable: str | None
    codes: list[int | None]
    labels: list[str]
    masks: np.ndarray | None  # bool [respondents, columns]; None when `digit` says it all
    test_groups: list[list[int]]  # local column indexes tested against each other
    exclusive: bool
    digit: np.ndarray | None = None  # exclusive parts: the column per respondent (width = in none)

    @property
    def width(self) -> int:
        return len(self.labels)

    def mask_matrix(self) -> np.ndarray:
        if self.masks is None:
            assert self.digit is not None
            self.masks = np.stack([self.digit == c for c in range(self.width)], axis=1).reshape(-1, self.width)
        return self.masks


@dataclass
class BannerKey:
    """One packing of parts: the key per respondent and which global columns each combination is in."""

    key: np.ndarray  # int32 [respondents]
    combos: int
    columns: list[int]  # global column indexes this key's membership covers
    membership: np.ndarray  # float [combos, len(columns)]


@dataclass
class Banner:
    """Total plus every part's columns, with the keys that count them."""

    parts: list[BannerPart]
    keys: list[BannerKey]
    #: (variable or part id, code, label, part index or None for Total) per global column
    meta: list[tuple[str | None, int | None, str, int | None]]
    #: global column indexes of each test group, and whether its columns can share respondents
    test_groups: list[tuple[list[int], bool]]

    @property
    def width(self) -> int:
        return len(self.meta)

    def overlap_membership(self, i: int, j: int) -> tuple[int, np.ndarray] | None:
        """(key index, combos in both columns) for two columns of one key; None if they never share."""
        for k, key in enumerate(self.keys):
            if i in key.columns and j in key.columns:
                mi, mj = key.membership[:, key.columns.index(i)], key.membership[:, key.columns.index(j)]
                both = mi * mj
                return (k, both) if both.any() else None
        return None


def _codes(frame: pl.DataFrame, variable: Variable) -> list[int]:
    outside = set(variable.missing_codes) | set(variable.na_codes)
    labelled = [c for c in variable.value_labels if c not in outside]
    present = frame.get_column(variable.name).drop_nulls().unique().to_list()
    return labelled + sorted(c for c in present if c not in labelled and c not in outside)


def _variable_part(data: Dataset, frame: pl.DataFrame, spec: BannerSpec, language: str) -> BannerPart:
    name = spec.variable or spec.id
    questions = data.questions()
    if name in questions and questions[name][0].type == "multi":
        choices = [v for v in questions[name] if v.type == "multi"]
        masks = frame.select([(pl.col(v.name) == 1).fill_null(False) for v in choices]).to_numpy().astype(bool)
        from survey_tui.analysis.tables import choice_label

        return BannerPart(
            spec.id,
            spec.label_in(language) or name,
            name,
            [v.choice_code for v in choices],
            [choice_label(v, language) for v in choices],
            masks.reshape(frame.height, len(choices)),
            [list(range(len(choices)))],
            exclusive=False,
        )
    variable = data.variable(name)
    if variable.type in ("multi", "multi_special") or not frame.schema[name].is_numeric():
        raise ValueError(f"banner {name!r} must be a coded variable (single, scale, grid item) or a multi question")
    codes = _codes(frame, variable)
    digit = (
        frame.select(
            pl.col(name).replace_strict(codes, list(range(len(codes))), default=len(codes)).fill_null(len(codes))
        )
        .to_series()
        .to_numpy()
        .astype(np.int64)
    )
    return BannerPart(
        spec.id,
        spec.label_in(language) or variable.label_in(language),
        name,
        list(codes),
        [variable.value_label(c, language) for c in codes],
        None,
        [list(range(len(codes)))],
        exclusive=True,
        digit=digit,
    )


def _group_part(data: Dataset, frame: pl.DataFrame, spec: BannerSpec, language: str) -> BannerPart:
    from survey_tui.core.instrument.expressions import parse_expression

    resolver = data.resolver()
    exprs = [
        parse_expression(g.when).to_polars_bool(resolver).fill_null(False).alias(f"g{i}")
        for i, g in enumerate(spec.groups)
    ]
    masks = frame.select(exprs).to_numpy().astype(bool).reshape(frame.height, len(spec.groups))
    exclusive = bool((masks.sum(axis=1) <= 1).all())
    return BannerPart(
        spec.id,
        spec.label_in(language),
        None,
        list(range(1, len(spec.groups) + 1)),
        [g.label for g in spec.groups],
        masks,
        [list(range(len(spec.groups)))],
        exclusive,
    )


def evaluate_part(data: Dataset, frame: pl.DataFrame, spec: BannerSpec, language: str) -> BannerPart:
    if spec.nested is not None:
        outer = evaluate_part(data, frame, spec.nested[0], language)
        inner = evaluate_part(data, frame, spec.nested[1], language)
        masks, codes, labels, groups = [], [], [], []
        for o in range(outer.width):
            group = []
            for i in range(inner.width):
                masks.append(outer.mask_matrix()[:, o] & inner.mask_matrix()[:, i])
                codes.append(None)
                labels.append(f"{outer.labels[o]} / {inner.labels[i]}")
                group.append(len(labels) - 1)
            groups.append(group)
        stacked = np.stack(masks, axis=1) if masks else np.zeros((frame.height, 0), bool)
        return BannerPart(
            spec.id,
            spec.label_in(language) or f"{outer.label} / {inner.label}",
            None,
            codes,
            labels,
            stacked,
            groups,
            outer.exclusive and inner.exclusive,
        )
    if spec.groups:
        return _group_part(data, frame, spec, language)
    return _variable_part(data, frame, spec, language)


def _digits(part: BannerPart) -> tuple[np.ndarray, int]:
    """(digit per respondent, radix) of a part inside a key."""
    if part.exclusive:
        if part.digit is not None:
            return part.digit, part.width + 1
        masks = part.mask_matrix()
        hit = masks.any(axis=1)
        digit = np.where(hit, masks.argmax(axis=1), part.width) if part.width else np.zeros(len(hit), int)
        return digit.astype(np.int64), part.width + 1
    if part.width > MAX_OVERLAPPING_COLUMNS:
        raise ValueError(
            f"banner {part.id!r}: {part.width} overlapping columns; at most {MAX_OVERLAPPING_COLUMNS} in one "
            "banner part (split it into two)"
        )
    bits = (part.mask_matrix().astype(np.int64) << np.arange(part.width, dtype=np.int64)).sum(axis=1)
    return bits, 1 << part.width


def _part_membership(part: BannerPart, digit_of_combo: np.ndarray) -> np.ndarray:
    if part.exclusive:
        return np.stack([(digit_of_combo == c) for c in range(part.width)], axis=1).astype(np.float64)
    return np.stack([((digit_of_combo >> c) & 1) == 1 for c in range(part.width)], axis=1).astype(np.float64)


def build_banner(
    data: Dataset, frame: pl.DataFrame, specs: Sequence[BannerSpec], language: str, total_label: str
) -> Banner:
    """Evaluate every part on the (filtered) frame and pack the parts into as few keys as fit."""
    parts = [evaluate_part(data, frame, spec, language) for spec in specs]
    meta: list[tuple[str | None, int | None, str, int | None]] = [(None, None, total_label, None)]
    starts = []
    for p, part in enumerate(parts):
        starts.append(len(meta))
        meta += [(part.variable or part.id, part.codes[c], part.labels[c], p) for c in range(part.width)]
    test_groups = [
        ([starts[p] + c for c in group], not part.exclusive)
        for p, part in enumerate(parts)
        for group in part.test_groups
    ]
    digits = [_digits(part) for part in parts]
    # pack parts into keys
    packs: list[list[int]] = [[]]
    combos = 1
    for p, (_, radix) in enumerate(digits):
        if packs[-1] and combos * radix > KEY_LIMIT:
            packs.append([])
            combos = 1
        packs[-1].append(p)
        combos *= radix
    keys: list[BannerKey] = []
    n = frame.height
    for k, pack in enumerate(packs):
        key = np.zeros(n, dtype=np.int64)
        stride = 1
        strides = []
        for p in pack:
            digit, radix = digits[p]
            key += digit * stride
            strides.append(stride)
            stride *= radix
        combos = stride
        ids = np.arange(combos)
        columns = [0] if k == 0 else []
        blocks = [np.ones((combos, 1))] if k == 0 else []
        for p, s in zip(pack, strides, strict=True):
            radix = digits[p][1]
            blocks.append(_part_membership(parts[p], (ids // s) % radix))
            columns += [starts[p] + c for c in range(parts[p].width)]
        membership = np.concatenate(blocks, axis=1) if blocks else np.zeros((combos, 0))
        keys.append(BannerKey(key.astype(np.int32), combos, columns, membership))
    return Banner(parts, keys, meta, test_groups)
