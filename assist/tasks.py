from celery import shared_task

from assist import routing


@shared_task(name="assist.retrain_routing", ignore_result=True)
def retrain_routing() -> None:
    """Nightly (beat) and on an admin's demand: train routing on the newest history."""
    routing.train()
