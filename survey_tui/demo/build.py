"""`survey-tui demo`: a complete, realistic study to open and explore.

A Taiwanese bubble-tea chain's brand-health and new-product study, bilingual zh-TW/en, with interviews
captured by driving the real engine with synthetic respondents (see `synthetic`).
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from survey_tui.core.instrument.model import Instrument
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import Study, open_study
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.demo import synthetic
from survey_tui.demo.plan_yaml import PLAN_YAML

INSTRUMENT_FILE = "bubble_tea_brand_health.yaml"
FIELDWORK_START = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
FIELDWORK_DAYS = 21

STUDY_YAML = (
    """\
# The study plan: what the study is for, who it is for, and how it speaks.
title: 茶語時光 品牌健康度暨新品概念調查 2026
client: 茶語時光 TeaTime 股份有限公司
languages: [zh-TW, en]
default_language: zh-TW
created: 2026-09-15
description: >-
  Brand health of TeaTime against the leading hand-shaken drink chains in Taiwan, and the appeal of a
  low-sugar oat-milk tea with brown-sugar jelly (NT$75) before its launch in 2027.
consent:
  zh-TW: {consent_zh}
  en: >-
    This survey is carried out by a market research agency. Your answers are only reported in aggregate and
    your personal data are protected under the Personal Data Protection Act. You may stop at any time.
    Do you agree to take part?
# PDPA (個人資料保護法) Art. 8: what respondents are told before they agree; the version is stored with each consent
privacy_notice:
  version: "2026-09"
  collector:
    zh-TW: 茶語時光市場調查執行團隊（受茶語時光 TeaTime 股份有限公司委託）
    en: The TeaTime research team, commissioned by TeaTime Co., Ltd.
  purpose:
    zh-TW: 市場調查與品牌健康度分析（特定目的：〇九〇 消費者、客戶管理與服務；一五七 調查、統計與研究分析）
    en: Market research and brand health analysis
  categories:
    zh-TW: 姓名、聯絡電話、電子郵件、性別、年齡、居住地區，以及您的回答
    en: Name, phone, e-mail, gender, age, region of residence, and your answers
  period:
    zh-TW: 自受訪日起至 2027-06-30；聯絡資料於期滿後刪除
    en: From the interview until 2027-06-30; contact data is deleted afterwards
  area:
    zh-TW: 中華民國（臺灣）
    en: Taiwan (R.O.C.)
  recipients:
    zh-TW: 本調查團隊；委託客戶僅取得不含聯絡資料之整體統計
    en: The research team; the client receives only aggregate results without contact data
  method:
    zh-TW: 電腦輔助訪問蒐集，以統計方式呈現，不對外揭露可識別個人之資料
    en: Computer-assisted interviewing; reported as statistics, nothing that identifies you is disclosed
  rights:
    zh-TW: 您可查詢、閱覽、製給複製本、補充或更正、停止蒐集處理利用或刪除您的個人資料，請來信 privacy@teatime.example.tw
    en: >-
      You may ask to see, get a copy of, correct, stop the use of, or delete your data; write to
      privacy@teatime.example.tw
  if_declined:
    zh-TW: 您可拒絕受訪，不影響您的任何權益
    en: You may decline; it affects none of your rights
retention_until: 2027-06-30
contact_readers: [fieldwork supervisor, interviewers (their assigned respondents only)]
""".format(
        consent_zh="本調查由市場調查公司執行，您的回答僅以整體統計呈現，個人資料依個人資料保護法保護，"
        "您可以隨時停止受訪。請問您同意接受訪問嗎？"
    )
    + PLAN_YAML
)  # the study plan (T1.1–T1.2): sources, method, report format, objectives, hypotheses

#: T1.5 RIM weighting of the demo to population shares of residents aged 15–65 (illustrative figures in the
#: shape of the household-register statistics).
WEIGHTING_YAML = """
# -- T1.5 weighting: RIM (raking) to gender x age group x region; 'survey-tui weight' shows the report ------
weighting:
  name: weight
  dimensions:
    - name: gender            # 'other' (a few %) joins women so the cell never runs empty in a small sample
      groups:
        - {label: 男性 male, when: s3 = 1, target: 49.3}
        - {label: 女性及其他 female and other, when: "s3 in (2, 3)", target: 50.7}
    - name: age_group
      groups:
        - {label: 15–29, when: s2 < 30, target: 24.0}
        - {label: 30–44, when: s2 >= 30 and s2 < 45, target: 33.0}
        - {label: 45–65, when: s2 >= 45, target: 43.0}
    - variable: s4
      targets: {1: 45.7, 2: 24.7, 3: 26.2, 4: 3.4}
  cap: {min: 0.3, max: 3.0}
  max_iterations: 100
  tolerance: 1e-6
"""
STUDY_YAML += WEIGHTING_YAML


class DemoExistsError(Exception):
    pass


def bundled_instruments_dir() -> Path:
    """The repository's `instruments/` folder, which holds the demo's questionnaire."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "instruments" / INSTRUMENT_FILE
        if candidate.is_file():
            return candidate.parent
    raise LoadError(
        [
            Problem(
                INSTRUMENT_FILE,
                "the demo questionnaire is missing from this installation",
                hint="install survey-tui from its source folder: pip install -e .",
            )
        ]
    )


def build_demo(
    target: Path,
    *,
    force: bool = False,
    interviews: int = 300,
    seed: int = 20261124,
    progress: Callable[[str], None] | None = None,
) -> Study:
    """Build the demo study in `target` (refuses to overwrite unless `force`)."""
    say = progress or (lambda text: None)
    target = Path(target)
    if (target / "study.yaml").exists() or (target / "survey.db").exists():
        if not force:
            raise DemoExistsError(f"{target}: a study already exists here; use --force to rebuild the demo")
        if not (target / "study.yaml").exists() or "茶語時光" not in (target / "study.yaml").read_text("utf-8"):
            raise DemoExistsError(f"{target}: this is not the demo study; refusing to replace it")
        shutil.rmtree(target)
    target.mkdir(parents=True, exist_ok=True)
    (target / "exports").mkdir(exist_ok=True)
    (target / "instruments").mkdir(exist_ok=True)
    write_text_atomic(target / "study.yaml", STUDY_YAML)
    source = (bundled_instruments_dir() / INSTRUMENT_FILE).read_text(encoding="utf-8")
    write_text_atomic(target / "instruments" / INSTRUMENT_FILE, source)
    from survey_tui.demo.tabs_yaml import TAB_PLAN_YAML

    write_text_atomic(target / "tabs" / "main.yaml", TAB_PLAN_YAML)
    from survey_tui.demo.client_template import write_client_template

    write_client_template(target / "templates" / "client.docx")
    study = open_study(target)
    say(f"Study files written to {study.root}")
    # The demo grows with each part of the tool; every step below leaves the study consistent.
    version_id = demo_instrument_versions(study, say)
    with study.store() as store:
        instrument = study.instrument_for_version(store.version_by_id(version_id))
        counts = capture_interviews(store, instrument, version_id, interviews, seed, mode="field")
    say("Interviews captured: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items())))
    study = __import__("survey_tui.demo.respondents").demo.respondents.demo_respondents(study, random.Random(seed), say)
    study = __import__("survey_tui.demo.analysis").demo.analysis.demo_analysis(study, say)  # T1.5
    return study


def demo_instrument_versions(study: Study, say: Callable[[str], None]) -> int:
    """Pilot v1, revise, publish v2; returns the id of the version that fieldwork uses (v2).

    v1 is the questionnaire as it went to the pilot: u8_own_cup asked about "BYOC" (jargon respondents did
    not understand: many don't-knows and interviewer notes), and the image grid b2_image had an item
    everyone agrees with (zero variance). v2, the bundled file, is the revision the pilot report justified.
    """
    from survey_tui.core.instrument.builder import InstrumentDraft
    from survey_tui.core.instrument.versions import publish

    instrument = study.load_instrument()
    path = study.instruments_dir / INSTRUMENT_FILE
    revised = path.read_text(encoding="utf-8")
    draft = InstrumentDraft.open(path)
    draft.update_question(
        "u8_own_cup",
        {
            "label": {
                "zh-TW": "您購買手搖飲時，有 BYOC 的習慣嗎？",
                "en": "Do you practise BYOC when you buy hand-shaken drinks?",
            }
        },
    )
    items = draft.question_data("b2_image")["items"]
    items.append({"name": "tea", "label": {"zh-TW": "飲料是用茶葉沖泡的", "en": "Its drinks are made from tea"}})
    draft.update_question("b2_image", {"items": items})
    draft.save()
    v1 = publish(study, instrument.id, note="Pilot version").version
    say(f"Published {instrument.id} v{v1.version} (pilot)")
    with study.store() as store:
        counts = _capture_pilot(store, study.instrument_for_version(v1), v1.id, PILOT_INTERVIEWS, seed=1009)
    say("Pilot interviews: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items())))
    write_text_atomic(path, revised)
    v2 = publish(study, instrument.id, note="Field version, revised after the pilot").version
    say(f"Published {instrument.id} v{v2.version} (revised after the pilot: u8_own_cup reworded, b2_image.tea dropped)")
    return v2.id


PILOT_INTERVIEWS = 20
PILOT_START = FIELDWORK_START - timedelta(days=12)
PILOT_NOTES = ("受訪者問 BYOC 是什麼意思", "要解釋 BYOC＝自備環保杯才聽得懂", "受訪者聽不懂英文縮寫")


def _pilot_answer(view: Any, persona: synthetic.Persona) -> tuple[str, Any, str | None]:
    """The synthetic answer, with what the pilot revealed: jargon nobody understood, an item everyone agrees with."""
    name, rng = view.question.name, persona.rng
    if name == "u8_own_cup" and rng.random() < 0.45:
        return "special", "dont_know", rng.choice(PILOT_NOTES) if rng.random() < 0.6 else None
    kind, raw = synthetic.answer(view, persona)
    if name == "b2_image" and kind == "value":
        # one attitude behind the image items (a battery that holds together), and the item nobody disputes
        attitude = rng.gauss(3.5, 0.9)
        raw = {item: max(1, min(5, round(attitude + rng.gauss(0, 0.6)))) for item in raw} | {"tea": 5}
    return kind, raw, None


def _capture_pilot(store: Store, instrument: Instrument, version_id: int, count: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for index in range(count):
        persona = synthetic.make_persona(random.Random(rng.getrandbits(64)))
        persona.age = max(persona.age, 16)
        interviewer = synthetic.INTERVIEWERS[index % 3]  # the pilot team: three experienced interviewers
        stop_after = 12 + index if index in (4, 13) else None  # two break-offs
        clock = synthetic.SimulatedClock(PILOT_START + timedelta(days=index // 7, minutes=37 * index))
        row = store.start_interview(
            version_id, mode="pilot", interviewer=interviewer, language=instrument.language, started_at=clock.iso()
        )
        engine = InterviewEngine(instrument, StoreRecorder(store, row.id, interviewer, clock=clock.iso), seed=row.uuid)
        engine.start()
        outcome, answered = None, 0
        while engine.current is not None:
            if stop_after is not None and answered >= stop_after:
                break
            view = engine.view()
            assert view is not None
            clock.tick(synthetic.seconds_on(view, persona) * (3.0 if view.question.name == "u8_own_cup" else 1.0))
            kind, raw, note = _pilot_answer(view, persona)
            if note:
                engine.note(note)
            result = engine.submit_special(raw) if kind == "special" else engine.submit(raw)
            if not result.accepted:
                raise RuntimeError(f"pilot answer {raw!r} to {view.question.name} was refused")
            answered += view.question.slot is None
            if result.finished:
                outcome = result.outcome
                break
        if outcome is None:
            outcome = "complete" if engine.current is None else "break_off"
            engine.finish(outcome)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def capture_interviews(
    store: Store, instrument: Instrument, version_id: int, count: int, seed: int, mode: str = "field"
) -> dict[str, int]:
    """Drive the engine `count` times with synthetic respondents; returns interviews by outcome."""
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for index in range(count):
        persona = synthetic.make_persona(random.Random(rng.getrandbits(64)))
        interviewer = rng.choice(synthetic.INTERVIEWERS)
        persona.careless = interviewer == synthetic.CARELESS_INTERVIEWER and rng.random() < 0.5 or rng.random() < 0.02
        if rng.random() < 0.04:
            persona.breaks_off_after = rng.randint(5, 20)
        suspend = index in (count - 1, count - 2)  # two interviews left half-way, to resume
        if suspend:
            persona.age, persona.buys, persona.industry, persona.careless = 35, True, False, False
        day = rng.randrange(FIELDWORK_DAYS)
        start = FIELDWORK_START + timedelta(days=day, minutes=rng.randrange(12 * 60))
        clock = synthetic.SimulatedClock(start)
        row = store.start_interview(
            version_id,
            mode=mode,
            interviewer=interviewer,
            language=instrument.language,
            started_at=clock.iso(),
        )
        engine = InterviewEngine(instrument, StoreRecorder(store, row.id, interviewer, clock=clock.iso), seed=row.uuid)
        engine.start()
        outcome = run_persona(engine, persona, clock, stop_after=10 if suspend else persona.breaks_off_after)
        if suspend and outcome is None:
            store.suspend_interview(row.id)
            outcome = "suspended"
        elif outcome is None:
            engine.finish("break_off")
            outcome = "break_off"
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def run_persona(
    engine: InterviewEngine,
    persona: synthetic.Persona,
    clock: synthetic.SimulatedClock,
    stop_after: int | None = None,
) -> str | None:
    """Answer until the end; returns the outcome, or None when the respondent stopped part-way."""
    answered = 0
    while engine.current is not None:
        if stop_after is not None and answered >= stop_after:
            return None
        view = engine.view()
        assert view is not None
        clock.tick(synthetic.seconds_on(view, persona))
        kind, raw = synthetic.answer(view, persona)
        result = engine.submit_special(raw) if kind == "special" else engine.submit(raw)
        if not result.accepted:
            raise RuntimeError(
                f"synthetic answer {raw!r} to {view.question.name} was refused: "
                f"{result.rejection.message if result.rejection else ''}"
            )
        answered += view.question.slot is None  # break-offs stay where they were before the brand loop
        if result.finished:
            return result.outcome
    engine.finish("complete")
    return "complete"
