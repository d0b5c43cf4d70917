"""Back-checks (ISO 20252 practice): a reproducible random sample of each interviewer's completes is called
back to confirm the interview took place; interviewers with too many unconfirmed ones are flagged.

`draw(store, share, seed)` tops each interviewer's sample up to ceil(share x completes) of their completed
field interviews, choosing among those not sampled before (so drawing again right away adds nothing, and after
more fieldwork adds the new completes' share). The seed is stored with the sample (`backcheck_samples`), and
the choice depends only on the seed, the interviewer and the sorted interview ids, so the same data and seed
always give the same sample. `record` stores the outcome:
confirmed, not confirmed, could not reach. An interviewer's failure rate is not confirmed / (confirmed + not
confirmed); 'could not reach' says nothing either way and stays out of it.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from typing import Any

from survey_tui.core.store.sqlite import StoreError, now
from survey_tui.i18n import _

RESULTS = ("confirmed", "not_confirmed", "not_reached")
RESULT_LABELS = {
    "confirmed": "確認有訪 confirmed",
    "not_confirmed": "否認受訪 not confirmed",
    "not_reached": "聯絡不上 could not reach",
}


class BackcheckError(StoreError):
    """A back-check that cannot be recorded, said plainly; nothing was changed."""


@dataclass(frozen=True)
class Sample:
    id: int
    seed: int
    share: float
    drawn: dict[str, list[int]]  # interviewer -> interview ids


def _stream(seed: int, interviewer: str) -> int:
    digest = hashlib.sha256(f"{seed}:{interviewer}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def draw(store: Any, share: float = 0.10, seed: int | None = None, actor: str | None = None) -> Sample:
    """Sample ceil(share x n) of each interviewer's not-yet-sampled field completes; the seed is stored."""
    import numpy as np

    if not 0 < share <= 1:
        raise BackcheckError(
            _("back-check share {share} must be above 0 and at most 1 (0.1 = 10 %)").format(share=share)
        )
    seed = secrets.randbits(48) if seed is None else int(seed)
    rows = store.query(
        "SELECT i.id, COALESCE(i.interviewer, '(none)'),"
        " CASE WHEN EXISTS (SELECT 1 FROM backchecks b WHERE b.interview_id = i.id) THEN 1 ELSE 0 END"
        " FROM interviews i WHERE i.mode = 'field' AND i.outcome = 'complete' ORDER BY i.id"
    )
    pools: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    taken: dict[str, int] = {}
    for iid, who, sampled in rows:
        totals[who] = totals.get(who, 0) + 1
        if sampled:
            taken[who] = taken.get(who, 0) + 1
        else:
            pools.setdefault(who, []).append(int(iid))
    drawn: dict[str, list[int]] = {}
    for who, ids in sorted(pools.items()):
        size = min(len(ids), math.ceil(share * totals[who]) - taken.get(who, 0))
        if size <= 0:
            continue
        rng = np.random.default_rng(_stream(seed, who))
        drawn[who] = sorted(int(x) for x in rng.choice(ids, size=size, replace=False))
    with store.transaction() as conn:
        sample_id = int(
            conn.execute(
                "INSERT INTO backcheck_samples (at, seed, share, actor) VALUES (?, ?, ?, ?)",
                (now(), seed, share, actor),
            ).lastrowid
            or 0
        )
        conn.executemany(
            "INSERT INTO backchecks (sample_id, interview_id, interviewer) VALUES (?, ?, ?)",
            [(sample_id, iid, who) for who, ids in drawn.items() for iid in ids],
        )
    return Sample(sample_id, seed, share, drawn)


def record(store: Any, interview_id: int, result: str, *, checker: str | None = None, note: str | None = None) -> None:
    """The back-check call's result for one sampled interview."""
    if result not in RESULTS:
        raise BackcheckError(
            _("unknown back-check result {result!r}; use one of {results}").format(
                result=result, results=", ".join(RESULTS)
            )
        )
    with store.transaction() as conn:
        changed = conn.execute(
            "UPDATE backchecks SET outcome = ?, checked_at = ?, checker = ?, note = ? WHERE interview_id = ?",
            (result, now(), checker, note, interview_id),
        ).rowcount
        if changed != 1:
            raise BackcheckError(
                _("interview #{id} is not in a back-check sample; draw a sample first").format(id=interview_id)
            )


def pending(store: Any) -> list[Any]:
    """Sampled interviews still to be checked: interview id, interviewer, respondent id."""
    return store.query(
        "SELECT b.interview_id, b.interviewer, i.respondent_id FROM backchecks b"
        " JOIN interviews i ON i.id = b.interview_id WHERE b.outcome IS NULL ORDER BY b.interview_id"
    )


@dataclass(frozen=True)
class InterviewerChecks:
    interviewer: str
    completes: int
    sampled: int
    confirmed: int
    not_confirmed: int
    not_reached: int
    pending: int
    failure_rate: float | None
    flagged: bool

    @property
    def sampled_share(self) -> float | None:
        return self.sampled / self.completes if self.completes else None


def summary(store: Any, failure_threshold: float = 0.10) -> list[InterviewerChecks]:
    """Per interviewer: completes, sampled, each result, failure rate and whether it is above the threshold."""
    completes = {
        r[0]: int(r[1])
        for r in store.query(
            "SELECT COALESCE(interviewer, '(none)'), COUNT(*) FROM interviews WHERE mode = 'field'"
            " AND outcome = 'complete' GROUP BY COALESCE(interviewer, '(none)')"
        )
    }
    counts: dict[str, dict[str | None, int]] = {}
    for who, outcome, n in store.query(
        "SELECT COALESCE(interviewer, '(none)'), outcome, COUNT(*) FROM backchecks GROUP BY 1, 2"
    ):
        counts.setdefault(who, {})[outcome] = int(n)
    result = []
    for who in sorted(set(completes) | set(counts)):
        c = counts.get(who, {})
        yes, no = c.get("confirmed", 0), c.get("not_confirmed", 0)
        rate = no / (yes + no) if yes + no else None
        result.append(
            InterviewerChecks(
                who,
                completes.get(who, 0),
                sum(c.values()),
                yes,
                no,
                c.get("not_reached", 0),
                c.get(None, 0),
                rate,
                rate is not None and rate > failure_threshold,
            )
        )
    return result


def samples(store: Any) -> list[Any]:
    return store.query(
        "SELECT s.id, s.at, s.seed, s.share, COUNT(b.id) FROM backcheck_samples s"
        " LEFT JOIN backchecks b ON b.sample_id = s.id GROUP BY s.id, s.at, s.seed, s.share ORDER BY s.id"
    )
