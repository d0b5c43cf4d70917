"""A small study with consent, for capture tests: the conftest SMALL instrument, published."""

from __future__ import annotations

import textwrap
from pathlib import Path

from survey_tui.core.store.sqlite import Store
from survey_tui.core.study import Study, init_study, open_study
from tests.conftest import SMALL

CONSENT = "consent:\n  zh-TW: 您同意受訪嗎？\n  en: Do you agree to take part?\n"


def make_study(root: Path, consent: bool = True, instrument: str = SMALL) -> Study:
    """A study folder with one published instrument (and a consent wording when asked)."""
    init_study(root, "Capture test", "ACME", ["zh-TW", "en"])
    if consent:
        with open(root / "study.yaml", "a", encoding="utf-8") as fh:
            fh.write(CONSENT)
    (root / "instruments" / "small.yaml").write_text(textwrap.dedent(instrument), encoding="utf-8")
    study = open_study(root)
    study.publish(study.load_instrument().id)
    return study


def stored_interview(store: Store, interview_id: int) -> dict[str, object]:
    """Everything that must be identical whichever renderer captured the interview."""
    row = store.interview(interview_id)
    return {
        "answers": {k: (v.value, v.special) for k, v in store.answers(interview_id).items()},
        "path": row.path,
        "status": row.status,
        "outcome": row.outcome,
        "current": row.current_question,
        "mode": row.mode,
        "interviewer": row.interviewer,
        "audit": [
            (r["question"], r["action"], r["old_value"], r["new_value"], r["new_special"])
            for r in store.audit(interview_id)
        ],
        "events": [
            (r["kind"], r["question"], r["detail"] if r["kind"] not in ("answer",) else None)
            for r in store.events(interview_id)
        ],
    }
