"""The core is pure domain: importing it must not load any UI library."""

import subprocess
import sys


def test_core_imports_no_ui_library() -> None:
    code = (
        "import sys, pkgutil, importlib, survey_tui.core as core\n"
        "for m in pkgutil.iter_modules(core.__path__): importlib.import_module('survey_tui.core.' + m.name)\n"
        "bad = sorted(n for n in sys.modules if n.split('.')[0] in ('textual', 'questionary', 'prompt_toolkit'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"survey_tui.core imported UI modules: {out.stdout.strip()}"


def test_hygiene_check_would_catch_a_ui_import() -> None:
    """The probe above really sees UI modules when they are imported (it can fail)."""
    code = "import sys, textual.app\nprint(any(n.startswith('textual') for n in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
