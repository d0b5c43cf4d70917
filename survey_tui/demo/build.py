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

from survey_tui.core.instrument import Instrument
from survey_tui.core.interview import InterviewEngine, StoreRecorder
from survey_tui.core.problems import LoadError, Problem
from survey_tui.core.store import Store
from survey_tui.core.study import Study, open_study
from survey_tui.core.yamlfile import write_text_atomic
from survey_tui.demo import synthetic

INSTRUMENT_FILE = "bubble_tea_brand_health.yaml"
FIELDWORK_START = datetime(2026, 10, 5, 1, 0, tzinfo=UTC)  # 09:00 in Taipei
FIELDWORK_DAYS = 21

STUDY_YAML = """\
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
""".format(
    consent_zh="本調查由市場調查公司執行，您的回答僅以整體統計呈現，個人資料依個人資料保護法保護，"
    "您可以隨時停止受訪。請問您同意接受訪問嗎？"
)


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
    study = open_study(target)
    say(f"Study files written to {study.root}")
    # The demo grows with each part of the tool; every step below leaves the study consistent.
    version_id = demo_instrument_versions(study, say)
    with study.store() as store:
        instrument = study.instrument_for_version(store.version_by_id(version_id))
        counts = capture_interviews(store, instrument, version_id, interviews, seed, mode="field")
    say("Interviews captured: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in sorted(counts.items())))
    return study


def demo_instrument_versions(study: Study, say: Callable[[str], None]) -> int:
    """Publish the questionnaire; returns the id of the version that fieldwork uses."""
    instrument = study.load_instrument()
    version = study.publish(instrument.id, note="Field version")
    say(f"Published {instrument.id} v{version.version}")
    return version.id


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
        answered += 1
        if result.finished:
            return result.outcome
    engine.finish("complete")
    return "complete"
