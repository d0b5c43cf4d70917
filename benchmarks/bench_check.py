"""`survey-tui check`: on the demo from the shell, and on instruments just under 1 MB of every shape, each
against baselines measured in the same run.

A check of an unchanged study is answered from the user's cache (survey_tui.core.checked), as the rows "demo
without weighting" and "as built" are after the untimed first run; "just edited" appends a comment to the
instrument before each run (the questionnaire is read and validated; study.yaml's validated settings come
from the user's cache, as they do after any edit that leaves study.yaml alone),
and "empty cache" is the first check ever.

Why: `check` answers in 0.25 s on the demo and stays under 1 s on any instrument under 1 MB (the size limit
it states up front). The machine running this is often shared, so every figure is the best of a few runs,
given as wall time and as the process's own CPU time, with the load average before and after.

Part 1, the demo from the shell: `python -m survey_tui check` against `python -c pass` (the interpreter) and
`python -c "import survey_tui.cli"` (the command line's own start), the demo as built (its weighting
targets make check read the data: polars and the store) and without `weighting:` (the questionnaire, plan,
tab plans and report template only).

Part 2, one instrument of each shape just under 1 MB, against a bare `yaml.load` of the same text (PyYAML's
C loader, the cheapest full read of the file) and libyaml's compose alone (the parse no check can avoid):
- wide: the synthetic 200-question-style instrument repeated to ~5,000 questions (grids, piping, skips);
- deep: long relevance expressions (40 nested parentheses, a 30-term or-chain) on every question;
- long: a 400-term or-chain on every question (a long list of codes written out);
- nested: relevance 90 parentheses deep (the limit is 100) around arithmetic on every question;
- choices: few questions with very long choice lists;
- loops: count loops of 200 iterations (a small file that makes many questions);
- errors: every relevance expression broken at its end (lark words the first 20, the rest are counted in one
  finding, as compilers cap their errors: wording each took lark about a millisecond).

Run: PYTHONPATH=. python benchmarks/bench_check.py [--demo STUDY] [--shapes wide,deep,...] [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchmarks.synthetic_instrument import make_instrument_yaml, make_loop_instrument_yaml

LIMIT = 1_000_000  # bytes: just under 1 MB (the limit itself is 1 MiB)
HEAD = make_instrument_yaml(1).split("sections:")[0] + "sections:\n  - name: s1\n    questions:\n"


def wide() -> str:
    n, text = 200, make_instrument_yaml(200)
    while len(text.encode()) < LIMIT:
        n = int(n * LIMIT / len(text.encode())) + 1
        text = make_instrument_yaml(n)
    while len(text.encode()) >= LIMIT:
        n -= 10
        text = make_instrument_yaml(n)
    return text


def _fill(block: Callable[[int], list[str]], head: str = HEAD) -> str:
    """`head` and as many numbered blocks of lines as fit under LIMIT."""
    lines, size, index = [head.rstrip("\n")], len(head.encode()), 0
    while True:
        index += 1
        more = block(index)
        extra = sum(len(line.encode()) + 1 for line in more)
        if size + extra >= LIMIT:
            return "\n".join(lines) + "\n"
        lines += more
        size += extra


def _numeric(index: int, relevant: Callable[[str], str] | None) -> list[str]:
    block = [f"      - name: q{index:05d}", "        type: numeric", f"        label: {{en: 'Q{index}'}}"]
    block += ["        min: 0", "        max: 99"]
    if relevant is not None and index > 1:
        block.append(f"        relevant: {relevant(f'q{index - 1:05d}')}")
    return block


def deep() -> str:
    def relevant(previous: str) -> str:
        nested = "(" * 40 + f"{previous} >= 0" + ")" * 40
        chain = " or ".join(f"{previous} = {k}" for k in range(30))
        return f"{nested} and ({chain} or {previous} > 29)"

    return _fill(lambda i: _numeric(i, relevant))


def long() -> str:
    return _fill(lambda i: _numeric(i, lambda previous: " or ".join(f"{previous} = {k}" for k in range(400))))


def nested() -> str:
    return _fill(lambda i: _numeric(i, lambda previous: "(" * 90 + f"{previous} + 1" + ") * 2" * 90 + " > 0"))


def errors() -> str:
    return _fill(lambda i: _numeric(i, lambda previous: " or ".join(f"{previous} = {k}" for k in range(20)) + " or"))


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


def loops() -> str:
    """One loop of 90 questions over 97 stores (codes below the special codes 98/99): 8,730 questions."""
    return make_loop_instrument_yaml(90, 97)


SHAPES: dict[str, Callable[[], str]] = {
    "wide": wide,
    "deep": deep,
    "long": long,
    "nested": nested,
    "choices": choices,
    "loops": loops,
    "errors": errors,
}


def best(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of the fastest of `repeat` calls (CPU: this process's own user + system time)."""
    runs = []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    return min(runs)


def best_shell(argv: list[str], repeat: int, env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall, CPU) of the fastest of `repeat` runs of a command (CPU: the child's user + system time)."""
    runs = []
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(argv, check=False, capture_output=True, env={**os.environ, **(env or {})})
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        runs.append((wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)))
    return min(runs)


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def demo_part(work: Path, demo: Path | None, repeat: int) -> None:
    from ruamel.yaml import YAML

    from survey_tui.core.study import check_study

    if demo is None:
        demo = work / "demo-study"
        subprocess.run(
            [sys.executable, "-m", "survey_tui", "demo", str(demo), "--no-open"], check=True, capture_output=True
        )
    unweighted = work / "demo-unweighted"
    shutil.copytree(demo, unweighted, ignore=shutil.ignore_patterns("exports"))
    yaml = YAML()
    yaml.preserve_quotes, yaml.width = True, 4096
    config = yaml.load((unweighted / "study.yaml").read_text(encoding="utf-8"))
    config.pop("weighting", None)
    with (unweighted / "study.yaml").open("w", encoding="utf-8") as handle:
        yaml.dump(config, handle)
    for root in (demo, unweighted):
        check_study(root)  # warm the user's cache as a second check finds it (parsed study.yaml, template)
        subprocess.run([sys.executable, "-m", "survey_tui", "check", "--study", str(root)], check=False)

    print(f"\n== check on the demo from the shell (best of {repeat}; {load()}) ==")
    rows = [
        ("python -c pass", [sys.executable, "-c", "pass"]),
        ("import survey_tui.cli", [sys.executable, "-c", "import survey_tui.cli"]),
        ("check, demo without weighting", [sys.executable, "-m", "survey_tui", "check", "--study", str(unweighted)]),
        ("check, demo as built (data read)", [sys.executable, "-m", "survey_tui", "check", "--study", str(demo)]),
    ]
    print(f"{'command':<36} {'wall':>7} {'CPU':>7}")
    for label, argv in rows:
        wall, cpu = best_shell(argv, repeat)
        print(f"{label:<36} {wall:>6.3f}s {cpu:>6.3f}s")
    instrument = sorted((unweighted / "instruments").glob("*.yaml"))[0]
    edits = []
    for _ in range(repeat):  # the questionnaire edited just before: the whole check's answer is not in the cache
        with instrument.open("a", encoding="utf-8") as handle:
            handle.write(f"# edited at {time.time()}\n")
        edits.append(best_shell(rows[2][1], 1))
    wall, cpu = min(edits)
    print(f"{'check, no weighting, just edited':<36} {wall:>6.3f}s {cpu:>6.3f}s  (study.yaml validated before)")
    cold = {"SURVEY_TUI_CACHE_DIR": str(Path(tempfile.mkdtemp(dir=work)))}
    wall, cpu = best_shell(rows[2][1], 1, cold)
    print(f"{'check, no weighting, empty cache':<36} {wall:>6.3f}s {cpu:>6.3f}s  (the first check ever)")
    print(load())


def shapes_part(work: Path, names: list[str], repeat: int) -> None:
    import yaml as pyyaml

    from survey_tui.core.instrument.expressions import parse_expression
    from survey_tui.core.study import check_study, init_study

    print(f"\n== check on 1 MB instruments (best of {repeat}; {load()}) ==")
    print(
        f"{'shape':<8} {'size':>7} {'yaml.load':>10} {'compose':>8} {'check':>7} {'CPU':>7} {'/yaml.load':>11} "
        f"{'CLI':>7} {'CPU':>7}  problems"
    )
    for shape in names:
        text = SHAPES[shape]()
        root = work / shape
        init_study(root, "Bench")
        (root / "instruments" / f"{shape}.yaml").write_text(text, encoding="utf-8")
        loaded, _ = best(lambda: pyyaml.load(text, Loader=pyyaml.CSafeLoader), repeat)  # noqa: B023
        floor, _ = best(lambda: pyyaml.compose(text, Loader=pyyaml.CSafeLoader), repeat)  # noqa: B023

        def cold_check() -> list:  # type: ignore[type-arg]
            os.environ["SURVEY_TUI_CACHE_DIR"] = tempfile.mkdtemp(dir=work)  # nothing parsed before
            parse_expression.cache_clear()  # nor any expression (a second run would find them all)
            return check_study(root)  # noqa: B023

        checked, cpu = best(cold_check, repeat)
        problems = cold_check()
        wall, cli_cpu = best_shell(
            [sys.executable, "-m", "survey_tui", "check", "--study", str(root)],
            repeat,
            {"SURVEY_TUI_CACHE_DIR": tempfile.mkdtemp(dir=work)},
        )
        errors = [p for p in problems if p.severity == "error"]
        print(
            f"{shape:<8} {len(text.encode()) / 1e6:>5.2f}MB {loaded:>9.3f}s {floor:>7.3f}s {checked:>6.3f}s "
            f"{cpu:>6.3f}s {checked / loaded:>10.2f}x {wall:>6.3f}s {cli_cpu:>6.3f}s  {len(errors)} errors, "
            f"{len(problems) - len(errors)} warnings"
        )
        for problem in errors[:1]:
            print("   ", str(problem)[:160])
    print(load())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--demo", type=Path, help="an existing demo study (default: build one)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="comma-separated shapes (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-demo", action="store_true", help="the 1 MB shapes only")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-check-"))
    os.environ.setdefault("SURVEY_TUI_KEY_DIR", str(work / "keys"))
    os.environ["SURVEY_TUI_CACHE_DIR"] = str(work / "cache")  # never the user's own cache
    try:
        if not args.no_demo:
            demo_part(work, args.demo, args.repeat)
        shapes_part(work, [s for s in args.shapes.split(",") if s], args.repeat)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
