"""Questionnaires: the model, its YAML loader, the expression language, the builder's edits, published versions."""
