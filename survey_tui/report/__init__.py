"""Reports written to the study's `exports/` folder: the preliminary report and the full report."""
