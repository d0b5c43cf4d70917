"""Respondents and contact data, screening, quotas, and personal-data duties (PDPA)."""
