"""The audit log: an append-only record of who signed in and who changed what.

`audit.services.record` writes a row in the caller's transaction; the browse page and the
CSV export are `audit.views`. See docs/architecture.md for where each module sits.
"""
