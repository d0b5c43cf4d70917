"""A synthetic bilingual instrument of any length, for capture / engine / commit-latency benchmarks.

Why: the demo instrument has 40 questions; the performance targets are stated for a 200-question
instrument, with the usual mix of question types a market-research questionnaire has (screeners,
single and multi choice, 0-10 scales, grids, numbers, open ends, dates), a little skip logic that is
always satisfied by the scripted answers in `scripted_answer`, and piping. The same `n_questions`
always gives the same text, so benchmark runs compare like with like.
"""

from __future__ import annotations

from typing import Any

#: The cycle of question types; 10 questions per cycle.
TYPE_CYCLE: tuple[str, ...] = (
    "single",
    "multi",
    "scale",
    "numeric",
    "grid",
    "single",
    "text",
    "scale",
    "date",
    "single",
)

QUESTIONS_PER_SECTION = 20


def _q(index: int, kind: str) -> list[str]:
    """YAML lines (indented for a section's question list) for question number `index` (1-based)."""
    name = f"q{index:03d}"
    lines = [
        f"      - name: {name}",
        f"        type: {kind}",
        f"        label: {{zh-TW: 第{index}題：您的看法？, en: 'Question {index}: your view?'}}",
    ]
    if kind in ("single", "multi"):
        lines.append("        choices: brands" if kind == "multi" else "        choices: agree5")
    elif kind == "scale":
        lines.append("        choices: nps11")
    elif kind == "numeric":
        lines += ["        min: 0", "        max: 999", "        special_codes: {dont_know: -8, refused: -9}"]
    elif kind == "grid":
        lines += [
            "        choices: agree5",
            "        items:",
            "          - {name: taste, label: {zh-TW: 口味, en: Taste}}",
            "          - {name: price, label: {zh-TW: 價格, en: Price}}",
            "          - {name: service, label: {zh-TW: 服務, en: Service}}",
        ]
    elif kind == "text":
        lines.append("        required: false")
    elif kind == "date":
        lines.append("        constraint: . >= '2000-01-01'")
    # A little skip logic and piping on every 7th question, always satisfied by the scripted answers.
    if index > 1 and index % 7 == 0:
        prev = f"q{index - 1:03d}"
        lines.append(f"        relevant: {prev} != 999 or {prev} = 999")
        lines.append(f"        hint: {{zh-TW: '上一題：{{{prev}}}', en: 'Previous answer: {{{prev}}}'}}")
    return lines


def make_instrument_yaml(n_questions: int = 200) -> str:
    """The YAML text of a synthetic instrument with `n_questions` answerable questions."""
    if n_questions < 1:
        raise ValueError("n_questions must be at least 1")
    out = [
        f"id: synthetic_{n_questions}",
        "title: {zh-TW: 合成問卷, en: Synthetic instrument}",
        "languages: [zh-TW, en]",
        "default_language: zh-TW",
        "choice_lists:",
        "  agree5:",
    ]
    agree = ["非常不同意", "不同意", "普通", "同意", "非常同意"]
    agree_en = ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"]
    for code, (zh, en) in enumerate(zip(agree, agree_en, strict=True), start=1):
        out.append(f"    - {{code: {code}, label: {{zh-TW: {zh}, en: {en}}}}}")
    out.append("  nps11:")
    for code in range(11):
        out.append(f"    - {{code: {code}, label: '{code}'}}")
    out.append("  brands:")
    for code in range(1, 9):
        out.append(f"    - {{code: {code}, label: {{zh-TW: 品牌{code}, en: Brand {code}}}}}")
    out.append("    - {code: 97, label: {zh-TW: 都沒有, en: None of these}, exclusive: true, fixed: true}")
    out.append("sections:")
    for index in range(1, n_questions + 1):
        if (index - 1) % QUESTIONS_PER_SECTION == 0:
            number = (index - 1) // QUESTIONS_PER_SECTION + 1
            out += [
                f"  - name: s{number:02d}",
                f"    label: {{zh-TW: 第{number}部分, en: Part {number}}}",
                "    questions:",
            ]
        out += _q(index, TYPE_CYCLE[(index - 1) % len(TYPE_CYCLE)])
    return "\n".join(out) + "\n"


def make_loop_instrument_yaml(n_questions: int = 30, n_items: int = 20, over: bool = False) -> str:
    """A screener multi `q000` and one loop section of `n_questions` (the same mix of types) over `n_items` stores.

    `over=False` loops over a fixed list of `n_items` stores (every iteration asked: n_questions x n_items
    screens); `over=True` loops over the stores chosen at q000 (loop and merge), so the scripted answers ask
    two of them. Question names are q001 .. q<n>; each iteration's is `q001_<store code>`.
    """
    if n_questions < 1 or n_items < 1:
        raise ValueError("a loop needs at least one question and one item")
    out = make_instrument_yaml(1).split("sections:")[0].splitlines()
    out[0] = f"id: synthetic_loop_{n_questions}x{n_items}"
    out.append("  stores:")  # the loop's items (the questions in it keep their own lists)
    out += [f"    - {{code: {code}, label: {{zh-TW: 門市{code}, en: Store {code}}}}}" for code in range(1, n_items + 1)]
    out += [
        "sections:",
        "  - name: screener",
        "    label: {zh-TW: 過濾, en: Screener}",
        "    questions:",
        "      - name: q000",
        "        type: multi",
        "        label: {zh-TW: 您去過哪些門市？, en: Which stores have you been to?}",
        "        choices: stores",
        "  - name: store_loop",
        "    label: {zh-TW: 門市評價, en: Store ratings}",
        "    loop:",
        "      over: q000" if over else "      choices: stores",
        "      label: {zh-TW: 門市, en: Store}",
        "    questions:",
    ]
    for index in range(1, n_questions + 1):
        lines = _q(index, TYPE_CYCLE[(index - 1) % len(TYPE_CYCLE)])
        zh, en = f"關於「${{store_loop}}」第{index}題", f"About ${{store_loop}}: question {index}"
        lines[2] = f"        label: {{zh-TW: '{zh}', en: '{en}'}}"
        out += lines
    return "\n".join(out) + "\n"


def scripted_answer(kind: str, index: int) -> Any:
    """A valid answer value for a question of `kind` (what `InterviewEngine.submit` accepts)."""
    if kind == "single":
        return 1 + index % 5
    if kind == "multi":
        return sorted({1 + index % 8, 1 + (index + 3) % 8})
    if kind == "scale":
        return index % 11
    if kind == "numeric":
        return index % 1000
    if kind == "grid":
        return {"taste": 1 + index % 5, "price": 2, "service": 3}
    if kind == "text":
        return f"答案 answer {index}"
    if kind == "date":
        return "2024-05-17"
    raise ValueError(f"no scripted answer for {kind!r}")


if __name__ == "__main__":
    print(make_instrument_yaml())
