"""Default tables leave out variables with no data in the selection (an item a later version dropped)."""

from pathlib import Path

from survey_tui.analysis.dataset import load_dataset
from survey_tui.analysis.tables import _default_stubs
from survey_tui.core.study import open_study


def test_an_item_dropped_after_the_pilot_is_not_a_default_stub(demo_study_dir: Path) -> None:
    dataset = load_dataset(open_study(demo_study_dir))  # field interviews, all on the revised version
    frame = dataset.frame
    empty = [c for c in frame.columns if frame[c].null_count() == frame.height]
    stubs = _default_stubs(dataset)
    assert "b2_image_tea" in empty and "b2_image_tea" not in stubs
    assert "b2_image_quality" in stubs and "u1_freq" in stubs
    assert not set(empty) & set(stubs)
