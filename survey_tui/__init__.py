"""survey-tui: a terminal application for the whole of a market-research study."""

__version__ = "0.1.0"
