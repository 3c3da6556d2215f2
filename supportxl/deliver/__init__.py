"""Delivery to stakeholders: one workbook per team, region, industry, account or agent."""
