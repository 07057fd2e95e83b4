"""Periodic sector reports: computed from the stored versions, kept, exported, delivered and scheduled.

- definitions: core/reports.py (the catalogue knows them; schemas/reports/*.yaml, docs/reports.md)
- tables.py: hub_report_runs, hub_report_rows, hub_report_deliveries, hub_schedule_claims
- compute.py: one report for one period, as of the period's end, GROUP BY in the database
- forms.py: the report as offices file it (XLSX form, printable HTML)
- delivery.py: push to the reporting system (bearer token, retries, idempotency key)
- schedule.py: what is due, claimed in the database so two workers never do the same work twice
"""
