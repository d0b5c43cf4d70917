"""Plain prompt mode: the interview engine through line-by-line questionary prompts (SSH, screen readers)."""
