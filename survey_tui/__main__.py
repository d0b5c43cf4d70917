from survey_tui.cli import run

run()
