"""The privacy app's periodic task."""

from celery import shared_task

from privacy import retention


@shared_task(name="privacy.apply_retention", ignore_result=True)
def apply_retention() -> None:
    retention.apply_retention()
