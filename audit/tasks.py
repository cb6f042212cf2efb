"""The audit log's periodic task."""

from celery import shared_task

from audit import services


@shared_task(name="audit.purge_expired", ignore_result=True)
def purge_expired() -> None:
    services.purge_expired()
