"""The study plan in study.yaml: objectives and hypotheses, its editing, the tab plans and weighting targets."""
