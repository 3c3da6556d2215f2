"""Delivery to stakeholders: PDF, CSV KPI tables, split workbooks, and e-mail.

- :mod:`supportxl.deliver.pdf` renders the Dashboard and Insights to PDF with LibreOffice;
- :mod:`supportxl.deliver.csv_reports` writes the KPI tables as CSV files;
- :mod:`supportxl.deliver.split` builds one workbook per team, region, industry, account or
  agent, and an index that links them;
- :mod:`supportxl.deliver.headline` reads a workbook's headline (cards, period, findings)
  from the values cached in the file;
- :mod:`supportxl.deliver.routing` reads a recipients map and matches split workbooks to it;
- :mod:`supportxl.deliver.mail` composes the messages, writes them as .eml or sends them.
"""
