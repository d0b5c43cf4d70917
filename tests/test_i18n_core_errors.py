"""Refusals raised in the core (call queue, contact key, store, sync, server setup, capture, plan) reach the
user in the interface language: Chinese with --ui-lang zh-TW, English without it, the command's frame
(`survey-tui X:` / `file:line: error:`) kept, and nothing changed by the refused action."""

from __future__ import annotations

import base64
import os
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from survey_tui.cli import main
from survey_tui.i18n import set_language, shown

CJK = re.compile(r"[\u4e00-\u9fff]")


def refused(argv: list[str], capsys: pytest.CaptureFixture[str], zh: bool, code: int = 1) -> str:
    """The error output of a command that must refuse (exit `code`)."""
    assert main((["--ui-lang", "zh-TW"] if zh else []) + argv) == code
    captured = capsys.readouterr()
    return captured.err + captured.out


@pytest.fixture
def study(demo_study_dir: Path, tmp_path: Path) -> Path:
    root = tmp_path / "s"
    shutil.copytree(demo_study_dir, root)
    return root


def _callable_case(root: Path) -> tuple[str, int, str | None]:
    with sqlite3.connect(root / "survey.db") as conn:
        rid, attempts, disposition = conn.execute(
            "SELECT id, attempts, disposition FROM respondents WHERE status IN ('new', 'contacted')"
            " AND lease_holder IS NULL ORDER BY id LIMIT 1"
        ).fetchone()
    conn.close()
    return str(rid), int(attempts), disposition


def test_call_queue_refusals_in_both_languages(study: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    rid, attempts, disposition = _callable_case(study)
    call = ["fieldwork", "call", rid, "--study", str(study), "--interviewer", "林志明"]
    zh = refused([*call[:3], "bogus", *call[3:]], capsys, zh=True)
    en = refused([*call[:3], "bogus", *call[3:]], capsys, zh=False)
    assert zh.startswith("survey-tui fieldwork call: 不明的撥打結果 'bogus'；請用下列之一：no_answer")
    assert f"樣本 {rid} 未做變更" in zh
    assert en.startswith("survey-tui fieldwork call: unknown call outcome 'bogus'; use one of no_answer")
    assert f"case {rid} was left unchanged" in en and not CJK.search(en)

    past = [*call[:3], "callback", *call[3:], "--callback", "2000-01-01 10:00"]
    assert "回撥時間 2000-01-01 10:00 已經過去" in refused(past, capsys, zh=True)
    assert "callback 2000-01-01 10:00 is in the past" in refused(past, capsys, zh=False)
    unreadable = [*call[:3], "callback", *call[3:], "--callback", "next tuesday"]
    assert "回撥時間 'next tuesday' 須為日期與時間" in refused(unreadable, capsys, zh=True)
    assert "callback time 'next tuesday' must be a date and time" in refused(unreadable, capsys, zh=False)
    assert _callable_case(study) == (rid, attempts, disposition)  # every refusal left the case as it was


def test_contact_key_refusals_in_both_languages(study: Path, tmp_path: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.fieldwork import contact_crypto as crypto

    other = base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")
    monkeypatch.setenv("SURVEY_TUI_CONTACT_KEY", other)  # a key, but another study's
    argv = ["privacy", "key", "--study", str(study)]
    zh = refused(argv, capsys, zh=True)
    en = refused(argv, capsys, zh=False)
    assert zh.startswith("privacy key: SURVEY_TUI_CONTACT_KEY 裡有一把金鑰，但不是本研究的聯絡資料金鑰")
    assert en.startswith("privacy key: SURVEY_TUI_CONTACT_KEY holds a key, but not this study's contact key")

    monkeypatch.delenv("SURVEY_TUI_CONTACT_KEY")
    monkeypatch.setenv("SURVEY_TUI_KEY_DIR", str(tmp_path / "no-keys"))  # the key file is not on this machine
    argv = ["respondents", "list", "--show-contacts", "--limit", "1", "--study", str(study)]
    zh = refused(argv, capsys, zh=True)
    en = refused(argv, capsys, zh=False)
    assert "聯絡資料已加密，而其金鑰" in zh and "請從備份把金鑰檔還原到該處" in zh
    assert "作業系統金鑰圈（本機沒有可用的作業系統金鑰圈" in zh  # the keyring's reason is worded too
    assert "the contact data is encrypted and its key" in en and "restore the key file from your backup" in en
    assert "no OS keyring is available on this machine" in en and not CJK.search(en)

    # a sealed row altered on disk: the restore hint, in the interface language
    cipher = crypto.ContactCipher(os.urandom(32))
    sealer = cipher.aead()
    sealed = bytearray(sealer.seal("R1", b'{"name": "x"}'))
    sealed[-1] ^= 1
    for language, words in (("zh-TW", "請從備份還原 survey.db"), ("en", "restore survey.db from a backup")):
        set_language(language)
        with pytest.raises(crypto.ContactKeyError, match=words):
            sealer.open("R1", bytes(sealed))


def test_conflict_and_device_refusals_in_both_languages(study: Path, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.store.sync import InterviewPush, SyncServer
    from survey_tui.core.study import open_study

    argv = ["conflicts", "resolve", "999", "--keep", "server", "--study", str(study)]
    zh = refused(argv, capsys, zh=True)
    en = refused(argv, capsys, zh=False)
    assert zh.startswith("survey-tui conflicts resolve: 沒有衝突 #999；用「survey-tui conflicts list」查看")
    assert en.startswith("survey-tui conflicts resolve: no conflict #999; 'survey-tui conflicts list' shows")

    laptop = tmp_path / "laptop"
    assert main(["device", "checkout", "--server", str(study), "--interviewer", "林志明", str(laptop)]) == 0
    capsys.readouterr()
    with sqlite3.connect(study / "survey.db") as conn:  # the folder now holds another study
        conn.execute("UPDATE study_meta SET value = 'another-study' WHERE key = 'study_id'")
    conn.close()
    zh = refused(["sync", "--study", str(laptop)], capsys, zh=True)
    en = refused(["sync", "--study", str(laptop)], capsys, zh=False)
    assert "存放的是研究 another-study：已拒絕，兩邊都未寫入任何資料" in zh
    assert "holds study another-study: refused, nothing was written on either side" in en

    # the server's reason for refusing an interview: English where it is kept, worded on screen
    with open_study(study).store() as store:
        (ack,) = SyncServer(store).push_interviews("dev", None, [InterviewPush("u1", "0" * 64, {"x": 1}, None)])
    assert ack.result == "refused" and str(ack.message) == "the interview arrived damaged (hash mismatch)"
    set_language("zh-TW")
    assert shown(ack.message) == "收到的訪問已損壞（雜湊值不符）"


def test_server_setup_against_an_unreachable_server(capsys) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("psycopg", reason="psycopg is not installed")
    url = "postgresql://nobody@127.0.0.1:1/brand_study"  # port 1: nothing listens, refused at once
    zh = refused(["server", "setup", url], capsys, zh=True)
    en = refused(["server", "setup", url], capsys, zh=False)
    assert zh.startswith("survey-tui server setup: ") and "無法連上研究伺服器" in zh and "未做任何變更" in zh
    assert "cannot reach the study server" in en and "nothing was changed" in en


def test_interview_refusals_in_both_languages(study: Path, monkeypatch, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.commands import interview

    monkeypatch.setattr(interview, "has_terminal", lambda: True)  # refused before any question is asked
    before = (study / "survey.db").read_bytes()
    resume = ["interview", "--plain", "--resume", "9999", "--study", str(study)]
    assert refused(resume, capsys, zh=True).strip() == "survey-tui interview: 此研究沒有訪問 #9999"
    assert refused(resume, capsys, zh=False).strip() == "survey-tui interview: no interview #9999 in this study"
    who = ["interview", "--plain", "--interviewer", "amy", "--respondent", "NOPE", "--study", str(study)]
    assert "此研究沒有受訪者 'NOPE'（請見受訪者區）" in refused(who, capsys, zh=True)
    assert "no respondent 'NOPE' in this study (see the Respondents section)" in refused(who, capsys, zh=False)
    with sqlite3.connect(study / "survey.db") as conn:
        done = conn.execute("SELECT id FROM interviews WHERE status = 'completed' ORDER BY id LIMIT 1").fetchone()[0]
        finished = conn.execute("SELECT id FROM respondents WHERE status = 'completed' ORDER BY id LIMIT 1").fetchone()[
            0
        ]
    conn.close()
    # naming the interviewer does not skip the respondent's checks (a second complete would count twice)
    again = ["interview", "--plain", "--interviewer", "amy", "--respondent", finished, "--study", str(study)]
    assert f"受訪者 {finished} 已完訪（再訪一次會重複計算）；不能開始新的訪問" in refused(again, capsys, zh=True)
    assert f"respondent {finished} has already completed an interview" in refused(again, capsys, zh=False)
    ended = ["interview", "--plain", "--resume", str(done), "--study", str(study)]
    assert f"訪問 #{done} 的狀態為已完成（完訪）；只有暫停或中斷的訪問才能續訪" in refused(ended, capsys, zh=True)
    assert f"interview #{done} is completed (complete); only suspended" in refused(ended, capsys, zh=False)
    assert (study / "survey.db").read_bytes() == before


def test_plan_and_call_settings_refusals_in_both_languages(study: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from survey_tui.core.plan.model import margin_for_sample_size

    for language, words in (("zh-TW", "樣本數至少須為 1"), ("en", "the sample size must be at least 1")):
        set_language(language)
        with pytest.raises(ValueError, match=words):
            margin_for_sample_size(0)
    set_language("en")
    with (study / "study.yaml").open("a", encoding="utf-8") as f:
        f.write("calls:\n  timezone: Mars/Base\n")
    zh = refused(["check", "--study", str(study)], capsys, zh=True)
    en = refused(["check", "--study", str(study)], capsys, zh=False)
    assert re.search(r"^study\.yaml:\d+: error: \[calls\.timezone\] .*不明的時區 'Mars/Base'", zh, re.M)
    assert re.search(r"^study\.yaml:\d+: error: \[calls\.timezone\] .*unknown time zone 'Mars/Base'", en, re.M)


def test_remembered_check_answers_are_kept_per_interface_language(study: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    """`check` remembers the data-side weighting problems of unchanged data; a run in the other language must
    word them afresh, not repeat the first run's words."""
    text = (study / "study.yaml").read_text(encoding="utf-8")
    assert "when: s2 >= 45, target" in text
    (study / "study.yaml").write_text(text.replace("when: s2 >= 45, target", "when: s2 >= 200, target"), "utf-8")
    argv = ["check", "--study", str(study)]
    first_zh = refused(argv, capsys, zh=True)
    en = refused(argv, capsys, zh=False)
    zh = refused(argv, capsys, zh=True)
    assert "在加權樣本中沒有任何訪問" in first_zh and zh == first_zh
    assert "holds no interview of the weighted sample" in en
    assert not CJK.search(en)


def test_instrument_name_and_expression_refusals_in_both_languages() -> None:
    from survey_tui.core.instrument.expressions import ExpressionError, parse_expression
    from survey_tui.core.instrument.loader import load_instrument_text
    from tests.conftest import SMALL

    bad = SMALL.replace("- name: age\n", "- name: 1age\n", 1)
    for language, words in (
        ("zh-TW", "題目名稱 '1age' 須以英文字母開頭"),
        ("en", "question name '1age' must start with a letter"),
    ):
        set_language(language)
        instrument, problems = load_instrument_text(bad, "questionnaire.yaml")
        assert instrument is None
        (problem,) = [p for p in problems if words in p.message]
        assert re.match(r"questionnaire\.yaml:\d+: error: ", str(problem))  # the located frame stays English
        deep = "(" * 101 + "1" + ")" * 101
        with pytest.raises(ExpressionError, match="括號巢狀超過 100 層" if language == "zh-TW" else "deeper than 100"):
            parse_expression(deep)


#: raises that keep their English on purpose: a caller's bug no user can trigger (the command line and the
#: screens only pass the values these guards expect), or a migration the developers write
PROGRAMMING_GUARDS = {
    ("fieldwork/rates.py", "rates by "),  # --by has argparse choices
    ("fieldwork/respondents.py", "say why contact data is read"),  # every caller states a purpose
    ("fieldwork/respondents.py", "use withdraw() so contact data"),  # set_status(..., 'withdrawn') by code only
    ("instrument/expressions.py", "invalid expression"),  # grammar and builder agree (no cover)
    ("instrument/expressions.py", "not an expression node"),
    ("plan/edit.py", "not a plan list"),
    ("plan/edit.py", "not a plan part"),
    ("store/base.py", "unknown interview status"),
    ("store/base.py", "unknown interview outcome"),
    ("store/postgres.py", "lock() is only meaningful"),
    ("store/postgres.py", "lock_row() is only meaningful"),
    ("store/postgres.py", "VACUUM cannot run inside"),
    ("store/postgres.py", "no column "),
    ("store/schema.py", "cannot read this CREATE TABLE"),
    ("store/schema.py", "only guard triggers"),
    ("store/schema.py", "no PostgreSQL translation for"),
    ("store/sqlite.py", "lock() is only meaningful"),
    ("store/sync.py", "keep 'server' or 'device'"),  # --keep has argparse choices
}


def _literal(node: object) -> str | None:
    """The English of a message written in place (a string, an f-string, a join or .format of one)."""
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    if isinstance(node, ast.BinOp):
        return _literal(node.left) or _literal(node.right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format":
        return _literal(node.func.value)
    return None


def test_core_raises_its_messages_through_the_catalog() -> None:
    """Every message the core raises with text written in place goes through `_()` (made in the interface
    language), except the programming-error guards above; a new unworded raise fails here."""
    import ast

    core = Path(__file__).resolve().parents[1] / "survey_tui" / "core"
    found, unworded = set(), []
    for path in sorted(core.rglob("*.py")):
        where = path.relative_to(core).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            for arg in [*node.exc.args, *(k.value for k in node.exc.keywords)]:
                text = _literal(arg)
                if text is None:
                    continue
                guard = next((g for g in PROGRAMMING_GUARDS if g[0] == where and text.startswith(g[1])), None)
                if guard is None:
                    unworded.append(f"{where}:{node.lineno}: {text[:80]!r}")
                else:
                    found.add(guard)
    assert not unworded, "raised in English only (wrap in _() and translate):\n" + "\n".join(unworded)
    assert found == PROGRAMMING_GUARDS  # a guard that went away leaves this list too
