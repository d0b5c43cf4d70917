"""Data files for analysts and stakeholders: SPSS, Stata, CSV, Parquet, XLSX, Triple-S, codebooks."""
