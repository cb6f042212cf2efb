"""Thin Celery tasks for the ticket workflow; the work is in the modules they call. The
task names keep their first spelling ("tickets.*"): the beat schedule and queued tasks
name them."""

from celery import shared_task

from tickets.workflow import automation, collab, sla


@shared_task(name="tickets.run_scheduled_rules", ignore_result=True)
def run_scheduled_rules() -> None:
    automation.run_scheduled_rules()


@shared_task(name="tickets.check_sla", ignore_result=True)
def check_sla() -> None:
    sla.check_sla()


@shared_task(name="tickets.wake_snoozed", ignore_result=True)
def wake_snoozed() -> None:
    collab.wake_snoozed()
    collab.send_due_reminders()


@shared_task(name="tickets.reapply_sla_policies", ignore_result=True)
def reapply_sla_policies() -> None:
    sla.reapply_to_open_tickets()
