"""A synthetic study of any size: the 200-question instrument and N respondents' interviews.

Interviews are driven through the real engine and store (so they obey the instrument and are stored
exactly as fieldwork stores them), with answers varied by respondent so tables have something to count.

    python benchmarks/synthetic_study.py DIR --respondents 500
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.synthetic_instrument import make_instrument_yaml, scripted_answer  # noqa: E402
from survey_tui.core.interview.engine import InterviewEngine, StoreRecorder  # noqa: E402
from survey_tui.core.study import Study, init_study  # noqa: E402
from survey_tui.core.yamlfile import write_text_atomic  # noqa: E402


def make_synthetic_study(target: Path, respondents: int, n_questions: int = 200, seed: int = 1) -> Study:
    study = init_study(target, title=f"Synthetic study ({respondents} respondents)", client="benchmark")
    write_text_atomic(study.instruments_dir / "synthetic.yaml", make_instrument_yaml(n_questions))
    instrument = study.load_instrument()
    version = study.publish(instrument.id)
    rng = random.Random(seed)
    with study.store() as store:
        for _ in range(respondents):
            row = store.start_interview(version.id, interviewer=f"int{rng.randint(1, 8)}")
            engine = InterviewEngine(instrument, StoreRecorder(store, row.id), seed=row.uuid)
            offset = rng.randint(0, 50)
            while engine.current is not None:
                q = engine.current
                result = engine.submit(scripted_answer(q.type, int(q.name[1:]) + offset))
                if not result.accepted:
                    raise RuntimeError(f"{q.name}: {result.rejection}")
            engine.finish("complete")
    return study


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("dir", type=Path)
    parser.add_argument("--respondents", type=int, default=100)
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    start = time.perf_counter()
    make_synthetic_study(args.dir, args.respondents, args.questions)
    print(
        f"{args.respondents} interviews x {args.questions} questions in {time.perf_counter() - start:.1f} s "
        f"-> {args.dir}"
    )


if __name__ == "__main__":
    main()
