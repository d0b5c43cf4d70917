"""Starting is cheap: `--help`, `check` and the app's home screen import none of the heavy libraries.

polars, numpy, scipy, pyreadstat, pyxform, python-docx, statsmodels and the xlsx writers cost over a second
to import on a small machine; they are imported where they are used (see survey_tui.core.lazy).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HEAVY = ("polars", "numpy", "scipy", "pyreadstat", "pyxform", "docx", "statsmodels", "xlsxwriter", "openpyxl")

PROBE = """
import sys
{body}
heavy = {heavy!r}
print("HEAVY:" + ",".join(sorted({{n.split(".")[0] for n in sys.modules}} & set(heavy))))
"""


def heavy_modules_after(body: str, cwd: Path | None = None) -> list[str]:
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=cwd)
    line = next(x for x in out.stdout.splitlines() if x.startswith("HEAVY:"))
    return [m for m in line.removeprefix("HEAVY:").split(",") if m]


def test_cli_and_every_command_parser_import_no_heavy_library() -> None:
    assert heavy_modules_after("import survey_tui.cli as c\nc.build_parser()") == []


def test_help_imports_no_heavy_library() -> None:
    body = "from survey_tui.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass"
    assert heavy_modules_after(body) == []


def test_check_imports_no_heavy_library_without_weighting_targets(tmp_path: Path) -> None:
    """check reads only YAML, unless the study sets weighting targets (only the data can check those)."""
    from survey_tui.core.study import init_study
    from tests.conftest import SMALL

    study = init_study(tmp_path / "s", "Study", "Client")
    (study.instruments_dir / "small.yaml").write_text(SMALL, encoding="utf-8")
    assert study.config.weighting is None
    body = f"from survey_tui.cli import main\nassert main(['check', {str(study.root)!r}]) == 0"
    assert heavy_modules_after(body) == []


def test_the_app_and_its_home_screen_import_no_heavy_library() -> None:
    body = "import survey_tui.tui.app\nimport survey_tui.tui.screens.home\nimport survey_tui.core.summary"
    assert heavy_modules_after(body) == []


def test_the_probe_sees_a_library_imported_on_first_use() -> None:
    """The lazy stand-in really imports polars when an expression is compiled (so the probe can fail)."""
    body = (
        "from survey_tui.core.instrument.expressions import WideFrameResolver, parse_expression\n"
        "parse_expression('a > 1').to_polars(WideFrameResolver({}))"
    )
    assert heavy_modules_after(body) == ["polars"]


def test_help_does_not_even_load_the_study_models() -> None:
    """--help only lists commands: no pydantic models, YAML parser or expression grammar behind it."""
    code = (
        "import sys\nfrom survey_tui.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('LOADED:' + ','.join(sorted({n.split('.')[0] for n in sys.modules} & {'pydantic', 'ruamel', 'lark'})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert next(x for x in out.splitlines() if x.startswith("LOADED:")) == "LOADED:"


def test_the_app_start_does_not_load_the_instrument_builder() -> None:
    """The builder (with its editing machinery) serves the forms that check logic; the app, its home screen
    and the shared renderings load without it, so it is not paid at every start."""
    body = (
        "import survey_tui.tui.app\nimport survey_tui.tui.screens.home\nimport survey_tui.core.summary\n"
        "import survey_tui.tui.render\n"
        "print('BUILDER:' + str('survey_tui.core.instrument.builder' in sys.modules))"
    )
    code = PROBE.format(body=body, heavy=HEAVY)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "BUILDER:False" in out.splitlines()


def test_the_home_screens_data_is_read_from_the_cache_at_the_next_start(tmp_path: Path) -> None:
    """What the first screen reads (the study's summary) is parsed once: at the next start the instruments
    come from the parsed-YAML cache without libyaml, and the store is checked against the cached schema
    instead of replaying every migration in memory."""
    import os

    from survey_tui.core.study import init_study
    from tests.conftest import SMALL

    study = init_study(tmp_path / "s", "Study", "Client")
    (study.instruments_dir / "small.yaml").write_text(SMALL, encoding="utf-8")
    code = (
        "import sqlite3, sys\nfrom pathlib import Path\nreal = sqlite3.connect\nmemory = []\n"
        "sqlite3.connect = lambda name, *a, **k: memory.append(name == ':memory:') or real(name, *a, **k)\n"
        "from survey_tui.core.study import open_study\nfrom survey_tui.core.summary import summarise_study\n"
        f"summary = summarise_study(open_study(Path({str(study.root)!r})))\n"
        "assert summary.instruments[0].questions > 0\n"
        "print(f'YAML:{\"yaml\" in sys.modules} REPLAYED:{any(memory)}')"
    )
    env = {**os.environ, "SURVEY_TUI_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    assert [r.stdout.strip().splitlines()[-1] if r.stdout.strip() else r.stderr for r in runs] == [
        "YAML:True REPLAYED:True",
        "YAML:False REPLAYED:False",
    ]


def test_a_second_check_of_an_unchanged_study_loads_no_model(tmp_path: Path) -> None:
    """`check` of a study checked before and unchanged is answered from the user's cache (core.checked):
    no pydantic, YAML parser or expression grammar, and the same words as the first check."""
    import os

    from survey_tui.core.study import init_study
    from tests.conftest import SMALL

    study = init_study(tmp_path / "s", "Study", "Client")
    (study.instruments_dir / "small.yaml").write_text(SMALL.replace("relevant: ", "relevant: ((", 1), encoding="utf-8")
    code = (
        "import sys\nfrom survey_tui.cli import main\n"
        f"code = main(['check', '--study', {str(study.root)!r}])\n"
        "print('LOADED:' + ','.join(sorted(set(sys.modules) & {'pydantic', 'ruamel.yaml', 'lark'})))"
    )  # (the 'ruamel' namespace itself is imported: finding where ruamel.yaml's files are, for the key)
    env = {**os.environ, "SURVEY_TUI_CACHE_DIR": str(tmp_path / "cache")}
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env) for _ in range(2)]
    words = [r.stdout.rsplit("LOADED:", 1) for r in runs]
    assert words[0][1].strip() != ""  # the first check did load the models (so the probe can fail)
    assert words[1][1].strip() == ""
    assert words[0][0] == words[1][0] and "error(s)" in words[0][0]
