"""Importing real helpdesk exports (Zendesk, Freshdesk, Jira Service Management, ServiceNow,
HubSpot) into the canonical tables, with a data-quality report.

    from supportxl.ingest import load_dataset, load_export
    result = load_export("tickets.csv")          # mapping chosen from the headers
    result.dataset, result.report, result.mapping, result.reason
    result = load_dataset("output/data")         # a dataset folder, checked the same way
"""

from supportxl.ingest.folder import load_dataset
from supportxl.ingest.importer import ImportResult, load_export
from supportxl.ingest.mapping import BUILTIN as MAPPINGS
from supportxl.ingest.mapping import Mapping, load_mapping
from supportxl.ingest.report import Finding, QualityReport

__all__ = ["MAPPINGS", "Finding", "ImportResult", "Mapping", "QualityReport", "load_dataset", "load_export",
           "load_mapping"]
