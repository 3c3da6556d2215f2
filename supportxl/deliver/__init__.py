"""Delivering a built workbook in other forms: a PDF of its front sheets, CSV files of its KPI tables."""
