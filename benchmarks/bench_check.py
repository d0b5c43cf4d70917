"""`survey-tui check` on instruments just under 1 MB, against the YAML parse alone (the same run, same text).

Why: `check` must stay under 1 s on any instrument under 1 MB (the size limit it states up front). Two
baselines on the same text: libyaml's compose alone (the parse no check can avoid: the floor), and
ruamel.yaml's round-trip load (what `check` parsed with before it read instruments through libyaml), so the
ratios say what validation, expression parsing and routing checks add, and what the faster parse saved.

Three shapes, each generated just under 1 MB:
- wide: the synthetic 200-question-style instrument repeated to ~3,000 questions (grids, piping, skips);
- deep: long relevance expressions (nested parentheses and and/or chains) on every question;
- choices: few questions with very long choice lists.

Run: PYTHONPATH=. python benchmarks/bench_check.py   (each figure is the best of 3, cold YAML cache)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.synthetic_instrument import make_instrument_yaml

LIMIT = 1_000_000  # bytes: just under 1 MB (the limit itself is 1 MiB)


def wide() -> str:
    n, text = 200, make_instrument_yaml(200)
    while len(text.encode()) < LIMIT:
        n = int(n * LIMIT / len(text.encode())) + 1
        text = make_instrument_yaml(n)
    while len(text.encode()) >= LIMIT:
        n -= 10
        text = make_instrument_yaml(n)
    return text


def deep() -> str:
    head = make_instrument_yaml(1).split("sections:")[0]
    lines = [head + "sections:", "  - name: s1", "    questions:"]
    index = 0
    while True:
        index += 1
        name = f"q{index:04d}"
        previous = f"q{index - 1:04d}" if index > 1 else None
        block = [f"      - name: {name}", "        type: numeric", f"        label: {{en: 'Q{index}'}}"]
        block += ["        min: 0", "        max: 99"]
        if previous:
            nested = "(" * 40 + f"{previous} >= 0" + ")" * 40
            chain = " or ".join(f"{previous} = {k}" for k in range(30))
            block.append(f"        relevant: {nested} and ({chain} or {previous} > 29)")
        candidate = "\n".join([*lines, *block]) + "\n"
        if len(candidate.encode()) >= LIMIT:
            return "\n".join(lines) + "\n"
        lines += block


def choices() -> str:
    head = "id: choices\ntitle: {en: Choices}\nlanguages: [zh-TW, en]\nchoice_lists:\n"
    out = [head.rstrip("\n")]
    body = ["sections:", "  - name: s1", "    questions:"]
    for q in range(1, 1000):
        out.append(f"  list{q}:")
        for code in range(1, 101):
            out.append(f"    - {{code: {code}, label: {{zh-TW: 選項{q}之{code}, en: Option {q}.{code}}}}}")
        body += [
            f"      - name: c{q}",
            "        type: single",
            f"        label: {{en: C{q}}}",
            f"        choices: list{q}",
        ]
        if len("\n".join(out + body).encode()) > LIMIT - 15_000:
            break
    return "\n".join(out + body) + "\n"


def best(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    from ruamel.yaml import YAML

    from survey_tui.core.study import check_study, init_study

    work = Path(tempfile.mkdtemp(prefix="bench-check-"))
    os.environ.setdefault("SURVEY_TUI_KEY_DIR", str(work / "keys"))
    import yaml as pyyaml

    print(
        f"{'shape':<8} {'size':>7} {'libyaml':>8} {'ruamel':>8} {'check':>7} {'/libyaml':>9} {'/ruamel':>8} "
        f"{'CLI':>7}  problems"
    )
    for shape, make in (("wide", wide), ("deep", deep), ("choices", choices)):
        text = make()
        root = work / shape
        init_study(root, "Bench")
        (root / "instruments" / f"{shape}.yaml").write_text(text, encoding="utf-8")
        floor = best(lambda: pyyaml.compose(text, Loader=pyyaml.CSafeLoader))  # noqa: B023
        ruamel = best(lambda: YAML(typ="rt").load(text), repeat=1)  # noqa: B023

        def cold_check() -> list:  # type: ignore[type-arg]
            os.environ["SURVEY_TUI_CACHE_DIR"] = tempfile.mkdtemp(dir=work)  # nothing parsed before
            return check_study(root)  # noqa: B023

        checked = best(cold_check)
        problems = cold_check()

        def cli() -> None:
            env = {**os.environ, "SURVEY_TUI_CACHE_DIR": tempfile.mkdtemp(dir=work)}
            subprocess.run(
                [sys.executable, "-m", "survey_tui", "check", str(root)],  # noqa: B023
                check=False,
                capture_output=True,
                env=env,
            )

        wall = best(cli)
        errors = [p for p in problems if p.severity == "error"]
        print(
            f"{shape:<8} {len(text.encode()) / 1e6:>5.2f}MB {floor:>7.3f}s {ruamel:>7.3f}s {checked:>6.3f}s "
            f"{checked / floor:>8.2f}x {checked / ruamel:>7.2f}x {wall:>6.3f}s  {len(errors)} errors"
        )
        for problem in errors[:2]:
            print("   ", problem)


if __name__ == "__main__":
    main()
