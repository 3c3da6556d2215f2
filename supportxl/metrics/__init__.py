"""KPI catalogue, business calendar and the derived ticket table."""
