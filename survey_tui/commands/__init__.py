"""CLI commands, one module per area (see survey_tui.cli.COMMAND_MODULES)."""
