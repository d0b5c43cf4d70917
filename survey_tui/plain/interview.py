"""Plain prompt mode: one line of input per question, readable by a screen reader and over any SSH link.

The loop only renders `InterviewEngine.view()` as text and turns a typed line into one engine call, so
an answer is validated and stored exactly as in the Textual form. Prompts come from an injectable
`ask` function: questionary in a terminal, a scripted list in tests.

When the study server goes away, a step is not stored (the store says so and rolls back); the loop says the
server is gone, keeps the typed line and offers it again: Enter sends it once the server is back, and the
interview carries on from there. Nothing ends the interview but the interviewer.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from survey_tui.core.interview.capture import CaptureSession, outcome_label
from survey_tui.core.interview.engine import QuestionView
from survey_tui.core.interview.messages import localise
from survey_tui.core.store.base import StoreError, StoreUnavailable
from survey_tui.i18n import _

Ask = Callable[[str], "str | None"]  # prompt text -> the typed line, None when the user pressed ctrl+c / ctrl+d
Say = Callable[[str], None]

TEXT: dict[str, dict[str, str]] = {
    "help": {
        "en": (
            "Type the answer and press Enter. Choices: the code (several codes for a multi choice, e.g. 1 3 5; "
            "one code per row for a grid, e.g. 3 2 4). Commands: < back, !dk don't know, !ref refused, "
            "!note TEXT add a note, !lang switch language, !stop suspend, !break break off, ? this help."
        ),
        "zh-TW": (
            "輸入答案後按 Enter。選項題輸入代碼（複選題可輸入多個，如 1 3 5；矩陣題每列一個代碼，如 3 2 4）。"
            "指令：< 上一題，!dk 不知道，!ref 拒答，!note 文字 加註記，!lang 切換語言，"
            "!stop 暫停，!break 中途終止，? 說明。"
        ),
    },
    "consent": {"en": "Consent — 1 agrees, 2 refuses", "zh-TW": "同意受訪 — 1 同意，2 拒絕"},
    "end": {
        "en": "End of the questionnaire. Enter records it as complete; < goes back.",
        "zh-TW": "問卷已結束。按 Enter 記錄為完成；輸入 < 回上一題。",
    },
    "ended": {"en": "Interview #{id} ended: {outcome}.", "zh-TW": "訪問 #{id} 已結束：{outcome}。"},
    "quota_cell": {"en": "Full quota cell: {cell}", "zh-TW": "已滿的配額格：{cell}"},
    "first": {"en": "This is the first question.", "zh-TW": "這是第一題。"},
    "noted": {"en": "Note saved.", "zh-TW": "註記已儲存。"},
    "language": {"en": "Language: {lang}", "zh-TW": "語言：{lang}"},
    "resume": {
        "en": "Resume it later with: survey-tui interview --resume {id}",
        "zh-TW": "稍後續訪：survey-tui interview --resume {id}",
    },
    "kept": {"en": "(Enter keeps the answer above)", "zh-TW": "（按 Enter 保留上面的答案）"},
    "store_gone": {
        "en": "{error} — your answer is kept: press Enter to send it again once the server is back",
        "zh-TW": "{error} — 您輸入的答案仍保留：伺服器恢復後按 Enter 再送出",
    },
    "resend": {"en": "Enter sends again: {line}", "zh-TW": "按 Enter 再送出：{line}"},
    "left_open": {
        "en": "The server is gone, so interview #{id} stays open as last stored; resume it once the server is back.",
        "zh-TW": "伺服器無法連線，訪問 #{id} 停在最後儲存之處；伺服器恢復後可續訪。",
    },
    "grid_count": {
        "en": "Give one code per row ({rows} rows), separated by spaces.",
        "zh-TW": "每列輸入一個代碼（共 {rows} 列），以空白分隔。",
    },
}


def t(key: str, language: str, **values: object) -> str:
    return localise(TEXT, key, language, **values)


def render(view: QuestionView, language: str, progress: str) -> str:
    """The question as plain lines: section and progress, label, hint, numbered choices and specials."""
    lines = [f"[{view.section} · {progress}] {view.question.name}"]
    if view.loop is not None:
        lines.append(view.loop.heading)
    lines.append(view.label)
    if view.hint:
        lines.append(f"  ({view.hint})")
    qtype = view.question.type
    if view.items:
        for index, (_skip, label) in enumerate(view.items, start=1):
            lines.append(_("  row {index}: {label}").format(index=index, label=label))
    for choice in view.choices:
        lines.append(f"  {choice.code:>3}  {choice.label}")
    for name, code, label in view.specials:
        key = "!dk" if name == "dont_know" else "!ref"
        lines.append(f"  {code:>3}  {label}  ({key})")
    if qtype == "multi":
        lines.append("  (1 3 5 …)")
    if view.answer is not None:
        shown = view.answer.special or view.answer.value
        lines.append(f"  = {shown}  " + t("kept", language))
    return "\n".join(lines)


def parse_line(view: QuestionView, line: str) -> object:
    """A typed line as the raw value the engine validates (a grid line becomes {item: code})."""
    qtype = view.question.type
    if qtype == "grid":
        parts = [p for p in re.split(r"[\s,，、]+", line.strip()) if p]
        if len(parts) != len(view.items) and parts:
            return _GridCount(len(view.items))
        return {name: part for (name, _), part in zip(view.items, parts, strict=False)}
    if qtype in ("single", "scale"):
        text = line.strip()
        specials = {str(code): name for name, code, _ in view.specials}
        if text in specials and view.question.choice(int(text)) is None:
            return _Special(specials[text])
        return text
    return line


class _GridCount:
    def __init__(self, rows: int) -> None:
        self.rows = rows


class _Special:
    def __init__(self, name: str) -> None:
        self.name = name


class _Kept:
    """The typed line a store failure did not let through, offered again at the next prompt."""

    def __init__(self, say: Say) -> None:
        self.say = say
        self.line: str | None = None

    def prompt(self, text: str, language: str) -> str:
        return text if self.line is None else f"{t('resend', language, line=self.line)} {text}"

    def take(self, line: str) -> str:
        """The line to act on: a bare Enter sends the kept answer again."""
        return self.line if self.line is not None and line.strip() == "" else line

    def run(self, line: str, language: str, step: Callable[[], Any]) -> tuple[bool, Any]:
        """Run one storing step; if the store refuses it (the server is gone), say so and keep `line`."""
        try:
            result = step()
        except StoreUnavailable as exc:
            self.line = line
            self.say("! " + t("store_gone", language, error=exc))
            return False, None
        except StoreError as exc:  # refused for another reason (e.g. this user may not): kept all the same
            self.line = line
            self.say(f"! {exc}")
            return False, None
        self.line = None
        return True, result


def run_plain(session: CaptureSession, ask: Ask, say: Say) -> str:
    """Take the interview to its end (or a suspend); returns how it ended."""
    engine = session.engine
    lang = session.language
    kept = _Kept(say)
    say(t("help", lang))
    if session.needs_consent:
        say(session.consent_text())
        while True:
            line = ask(kept.prompt(t("consent", session.language) + " > ", session.language))
            if line is None:
                return _suspend(session, say)
            line = kept.take(line).strip()
            if line == "!lang":
                _switch_language(session, kept)
                say(session.consent_text())
            elif line in ("1", "2"):
                if not kept.run(line, session.language, partial(session.record_consent, line == "1"))[0]:
                    continue
                if line == "2":
                    return _ended(session, say)
                break
            else:
                say("! " + t("consent", session.language))
    while not engine.finished:
        lang = session.language
        view = engine.view()
        if view is None:  # at the end of the path: confirm completion
            line = ask(kept.prompt(t("end", lang) + " > ", lang))
            if line is None:
                return _suspend(session, say)
            line = kept.take(line)
            if line.strip() == "<":
                kept.run(line, lang, engine.back)
                continue
            if line.strip() == "" and kept.run(line, lang, session.complete)[0]:
                break
            continue
        progress = f"{view.number}/{view.total}"
        say(render(view, lang, progress))
        line = ask(kept.prompt("> ", lang))
        if line is None:
            return _suspend(session, say)
        line = kept.take(line)
        command = line.strip()
        if command == "?":
            say(t("help", lang))
            continue
        if command == "<":
            done, moved = kept.run(line, lang, engine.back)
            if done and not moved:
                say(t("first", lang))
            continue
        if command == "!stop":
            return _suspend(session, say)
        if command == "!break":
            if kept.run(line, lang, session.break_off)[0]:
                return _ended(session, say)
            continue
        if command.startswith("!note"):
            if kept.run(line, lang, partial(engine.note, command[5:].strip()))[0]:
                say(t("noted", lang))
            continue
        if command == "!lang":
            _switch_language(session, kept)
            say(t("language", session.language, lang=session.language))
            continue
        step = _answer_step(engine, view, line, command, lang, say)
        if step is None:
            continue
        done, result = kept.run(line, lang, step)
        if done and not result.accepted and result.rejection is not None:
            where = f" [{result.rejection.field}]" if result.rejection.field else ""
            say(f"! {result.rejection.message}{where}")
    if session.closed_outcome is None:
        session.closed_outcome = engine.outcome
    return _ended(session, say)


def _answer_step(engine: Any, view: QuestionView, line: str, command: str, lang: str, say: Say) -> Any:
    """The engine call a typed answer makes (run later, so a store failure can keep the line), or None."""
    if command == "" and view.answer is not None:  # a revisited question left as it was
        kept = view.answer
        if kept.special:
            return lambda: engine.submit_special(kept.special)
        return lambda: engine.submit(kept.value)
    if command in ("!dk", "!ref"):
        return lambda: engine.submit_special("dont_know" if command == "!dk" else "refused")
    raw = parse_line(view, line)
    if isinstance(raw, _GridCount):
        say("! " + t("grid_count", lang, rows=raw.rows))
        return None
    if isinstance(raw, _Special):
        return lambda: engine.submit_special(raw.name)
    return lambda: engine.submit(raw)


def _switch_language(session: CaptureSession, kept: _Kept) -> None:
    """Switch the language; with the server gone only its paradata line is lost, so nothing is kept to resend
    (Enter would switch back)."""
    if not kept.run("!lang", session.language, lambda: session.set_language(session.next_language()))[0]:
        kept.line = None


def _suspend(session: CaptureSession, say: Say) -> str:
    """Suspend (ctrl+d, !stop); with the server gone the interview simply stays open where it was stored."""
    try:
        session.suspend()
    except StoreError as exc:
        say(f"! {exc}")
        say(t("left_open", session.language, id=session.interview_id))
        session.closed_outcome = "suspended"
    return _ended(session, say)


def _ended(session: CaptureSession, say: Say) -> str:
    outcome = session.outcome or "suspended"
    say(t("ended", session.language, id=session.interview_id, outcome=outcome_label(outcome, session.language)))
    if outcome == "suspended":
        say(t("resume", session.language, id=session.interview_id))
    if outcome == "quota_full" and session.full_quota_cell:
        say(t("quota_cell", session.language, cell=session.full_quota_cell))
    if session.engine.end_message:  # the terminate rule's words for the respondent
        say(session.engine.end_message)
    return outcome


def ask_interviewer(ask: Ask) -> str | None:
    """The interviewer's name, asked once before a plain interview (blank leaves it unsigned)."""
    line = ask("Interviewer / 訪員姓名 > ")
    return (line or "").strip() or None


def questionary_ask(line: str) -> str | None:
    """Ask through questionary (history, editing, screen-reader friendly plain text)."""
    import questionary

    return questionary.text(line, qmark="").ask()  # None on ctrl+c: the loop suspends, nothing is lost


def stdout_say(text: str) -> None:
    print(text, file=sys.stdout, flush=True)
