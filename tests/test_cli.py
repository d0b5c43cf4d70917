"""The command line as a user runs it: init without a terminal, check on clean and broken studies, demo."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from survey_tui.cli import main
from survey_tui.core.study import open_study


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "survey_tui", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )


def test_init_with_flags_creates_an_empty_study(tmp_path: Path) -> None:
    target = tmp_path / "new-study"
    assert main(["init", str(target), "--title", "品牌研究", "--client", "ACME", "--languages", "zh-TW,en,ja"]) == 0
    study = open_study(target)
    assert study.config.title == "品牌研究" and study.config.languages == ["zh-TW", "en", "ja"]
    assert (target / "instruments").is_dir() and (target / "exports").is_dir() and (target / "survey.db").is_file()
    assert main(["init", str(target), "--title", "again"]) == 1  # never overwrites a study


def test_init_without_a_terminal_and_without_title_says_what_to_do(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "s"))
    assert result.returncode == 2 and "--title is required without a terminal" in result.stderr
    assert not (tmp_path / "s" / "study.yaml").exists()


def test_opening_a_folder_that_is_no_study_without_a_terminal(tmp_path: Path) -> None:
    result = run(str(tmp_path))
    assert result.returncode == 2
    assert "not a study" in result.stderr and "survey-tui init" in result.stderr


def test_check_on_the_demo_is_clean(demo_study_dir: Path) -> None:
    result = run("check", str(demo_study_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: no errors" in result.stdout


_ENDING = """
import atexit, sys, threading
class Module:  # stands for the state Python's teardown would free, one module at a time
    def __del__(self):
        print("torn down", file=sys.stderr)
kept = Module()
atexit.register(lambda: print("atexit ran", file=sys.stderr))
if sys.argv[1] == "thread":
    threading.Thread(target=threading.Event().wait, args=(0.5,)).start()
sys.argv = ["survey-tui", "check", "--study", sys.argv[2]]
from survey_tui.cli import run
run()
"""


def test_check_ends_without_tearing_python_down_but_with_its_output_and_atexit(demo_study_dir: Path) -> None:
    """`check` skips Python's teardown of its modules (a sixth of a check after an edit), never its output,
    its exit code or the atexit handlers; with another thread running it ends the usual way."""
    ended = {}
    for case in ("alone", "thread"):
        ended[case] = subprocess.run(
            [sys.executable, "-c", _ENDING, case, str(demo_study_dir)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=120,
        )
    for result in ended.values():
        assert result.returncode == 0 and "ok: no errors" in result.stdout, result.stderr
        assert "atexit ran" in result.stderr
    assert "torn down" not in ended["alone"].stderr
    assert "torn down" in ended["thread"].stderr


def test_check_on_a_broken_copy_prints_located_errors(demo_study_dir: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(demo_study_dir, broken)
    path = broken / "instruments" / "bubble_tea_brand_health.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("relevant: b5_nps >= 9", "relevant: b5_nsp >= 9", 1)
    text = text.replace("type: scale", "type: scael", 1)
    path.write_text(text, encoding="utf-8")
    result = run("check", str(broken))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert any(
        "[b6_promoter_why]" in line
        and "unknown name 'b5_nsp'" in line
        and "did you mean 'b5_nps'" in line
        and line.startswith("instruments/bubble_tea_brand_health.yaml:")
        for line in lines
    ), lines
    assert any("scael" in line for line in lines), lines
    assert "Traceback" not in result.stdout + result.stderr


def test_check_locates_loop_errors_at_the_loop_and_at_the_question_as_written(
    demo_study_dir: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(demo_study_dir, broken)
    path = broken / "instruments" / "bubble_tea_brand_health.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("exclude: [96]", "exclude: [95]", 1).replace("relevant: l1_fam >= 2", "relevant: l1_fm >= 2")
    path.write_text(text, encoding="utf-8")
    result = run("check", str(broken))
    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if ": error:" in line]
    source = text.splitlines()
    exclude = next(line for line in lines if "[loop brand_loop]" in line and "exclude: 95" in line)
    assert "exclude: [95]" in source[int(exclude.split(":")[1]) - 1]
    unknown = [line for line in lines if "unknown name 'l1_fm'" in line]
    assert len(unknown) == 1 and "[l2_image]" in unknown[0] and "in loop 'brand_loop'" in unknown[0], lines
    assert "l1_fm" in source[int(unknown[0].split(":")[1]) - 1]


def test_check_reports_a_broken_study_yaml(tmp_path: Path) -> None:
    main(["init", str(tmp_path / "s"), "--title", "T"])
    (tmp_path / "s" / "study.yaml").write_text("title: T\nlanguages: zh-TW, en\nclinet: X\n", encoding="utf-8")
    result = run("check", str(tmp_path / "s"))
    assert result.returncode == 1
    assert "study.yaml:3" in result.stdout and "unknown field 'clinet'" in result.stdout
    assert "did you mean 'client'" in result.stdout


def test_demo_refuses_to_overwrite_without_force(demo_study_dir: Path) -> None:
    result = run("demo", str(demo_study_dir), "--no-open")
    assert result.returncode == 1 and "--force" in result.stderr


def test_demo_study_has_real_interviews_that_obey_the_logic(demo_study_dir: Path) -> None:
    study = open_study(demo_study_dir)
    instrument = study.load_instrument()
    assert len(instrument.questions) >= 25 and instrument.languages == ["zh-TW", "en"]
    with study.store() as store:
        completes = store.interviews(mode="field", status="completed")
        assert len(completes) > 50
        for row in completes[:20]:
            answers = store.answers(row.id)
            assert (answers["s2"].value >= 15) and answers["s5"].value == 1
            if "b5_nps" in answers:  # NPS only asked of those who bought the client brand
                assert 1 in answers["a3_ever"].value
            assert ("b6_promoter_why" in answers) == (
                answers.get("b5_nps") is not None
                and answers["b5_nps"].value is not None
                and answers["b5_nps"].value >= 9
            )
        outcomes = {r.outcome for r in store.interviews()}
        assert {"complete", "screened_out"} <= outcomes


def test_publish_refuses_a_choice_code_that_changed_meaning(tmp_path: Path) -> None:
    from tests.conftest import SMALL

    target = tmp_path / "s"
    assert main(["init", str(target), "--title", "T"]) == 0
    path = target / "instruments" / "small.yaml"
    path.write_text(SMALL, encoding="utf-8")
    first = run("publish", "--study", str(target))
    assert first.returncode == 0 and "small v1 published" in first.stdout
    path.write_text(
        SMALL.replace("{code: 2, label: {zh-TW: 乙牌, en: Brand B}}", "{code: 2, label: {zh-TW: 丁牌, en: Brand D}}"),
        encoding="utf-8",
    )
    refused = run("publish", "--study", str(target))
    assert refused.returncode == 1 and "choice code 2" in refused.stderr and "丁牌" in refused.stderr
    with open_study(target).store() as store:
        assert [v.version for v in store.versions("small")] == [1]
    allowed = run("publish", "--study", str(target), "--allow-code-reuse")
    assert allowed.returncode == 0 and "small v2 published" in allowed.stdout


def test_version_and_did_you_mean_for_a_mistyped_command(tmp_path: Path) -> None:
    from survey_tui import __version__

    version = run("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"survey-tui {__version__}"
    typo = run("tabels", cwd=tmp_path)
    assert typo.returncode == 2 and "did you mean 'survey-tui tables'" in typo.stderr
    assert "not a study" not in typo.stderr  # a mistyped command is not taken for a folder
    bogus = run("bogus-cmd", cwd=tmp_path)
    assert bogus.returncode == 2 and "is not a command" in bogus.stderr and "--help" in bogus.stderr


def test_every_command_has_an_example_that_parses_and_every_option_a_description() -> None:
    import argparse
    import shlex

    from survey_tui.cli import build_parser

    parser = build_parser()
    seen: list[str] = []

    def walk(p: argparse.ArgumentParser, path: list[str]) -> None:
        children = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        for action in p._actions:
            if not isinstance(action, argparse._SubParsersAction) and action.dest != "help":
                assert action.help, (path, action.dest)
        for action in children:
            for name, child in action.choices.items():
                walk(child, [*path, name])
        if path:
            seen.append(" ".join(path))
            text = p.format_help()
            assert "example:\n  survey-tui " + " ".join(path) in text, path
            example = text.split("example:\n  ", 1)[1].strip()
            args = parser.parse_args(shlex.split(example)[1:])  # a real invocation, not prose
            assert args.command == path[0]

    walk(parser, [])
    assert {"tables", "export", "interview", "respondents import", "xlsform export"} <= set(seen)
    assert "%%" not in parser._subparsers._group_actions[0].choices["tables"].format_help()  # type: ignore[union-attr]


def test_old_option_spellings_still_work_with_a_note(capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.cli import _undeprecate

    assert _undeprecate(["tables", "--out", "t.xlsx"]) == ["tables", "--output", "t.xlsx"]
    assert _undeprecate(["interview", "--language=en"]) == ["interview", "--lang=en"]
    assert "'--out' is now '--output'" in capsys.readouterr().err
    assert _undeprecate(["export", "--lang", "en"]) == ["export", "--lang", "en"]  # nothing else is touched


def test_every_study_command_takes_study_and_old_positionals_say_so(demo_study_dir: Path) -> None:
    import argparse

    from survey_tui.cli import build_parser

    def leaves(p: argparse.ArgumentParser, path: list[str]):  # type: ignore[no-untyped-def]
        subs = [a for a in p._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs:
            yield " ".join(path), p
        for action in subs:
            for name, child in action.choices.items():
                yield from leaves(child, [*path, name])

    without = [name for name, p in leaves(build_parser(), []) if "--study" not in p._option_string_actions]
    # init, demo and device checkout create the study folder they are given; server setup, add-user and
    # maintain work on a database server (a URL), before or beside any study naming it
    assert without == ["init", "demo", "device checkout", "server setup", "server add-user", "server maintain"]

    new = run("check", "--study", str(demo_study_dir))
    old = run("check", str(demo_study_dir))
    assert new.returncode == old.returncode == 0
    assert "deprecat" not in new.stderr and "is now" not in new.stderr
    assert "'survey-tui check STUDY' is now 'survey-tui check --study STUDY'" in old.stderr
    both = run("check", "--study", str(demo_study_dir), "elsewhere")
    assert both.returncode == 2 and "give the study once" in both.stderr


def test_weight_output_option_and_its_old_spelling(demo_study_dir: Path, tmp_path: Path) -> None:
    study = tmp_path / "study"
    shutil.copytree(demo_study_dir, study)
    new = run("weight", "--study", str(study), "-o", "w-new.md")
    old = run("weight", "--study", str(study), "--out", "w-old.md")
    assert new.returncode == old.returncode == 0, new.stderr + old.stderr
    assert (study / "exports" / "w-new.md").is_file() and (study / "exports" / "w-old.md").is_file()
    assert "'--out' is now '--output'" in old.stderr and "is now" not in new.stderr
