"""Privacy: a customer's data exported (a zip) or erased, and old tickets' content deleted
after the retention set by PRIVACY_RETENTION_MONTHS. Every export, erasure and retention
run is written to the audit log."""
