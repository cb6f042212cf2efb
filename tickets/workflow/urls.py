from django.urls import path

from tickets.workflow import views as wf

# Included by tickets/urls.py, in its "tickets" namespace.
urlpatterns = [
    path("tickets/<int:number>/presence/", wf.presence_view, name="presence"),
    path("tickets/<int:number>/canned/", wf.canned_search, name="canned-search"),
    path("tickets/<int:number>/macro/<int:canned_id>/", wf.apply_macro, name="macro"),
    path("tickets/<int:number>/snooze/", wf.snooze_view, name="snooze"),
    path("tickets/<int:number>/remind/", wf.remind_view, name="remind"),
    path("tickets/<int:number>/merge/", wf.merge_view, name="merge"),
    path("tickets/<int:number>/split/<int:message_id>/", wf.split_view, name="split"),
    path("outreach/", wf.outreach_list, name="outreach-list"),
    path("workflow/rules/", wf.rules_list, name="rules"),
    path("workflow/rules/new/", wf.rule_edit, name="rule-new"),
    path("workflow/rules/<int:pk>/", wf.rule_edit, name="rule-edit"),
    path("workflow/rules/<int:pk>/toggle/", wf.rule_toggle, name="rule-toggle"),
    path("workflow/rules/<int:pk>/delete/", wf.rule_delete, name="rule-delete"),
    path("workflow/sla/", wf.sla_list, name="sla"),
    path("workflow/sla/new/", wf.sla_edit, name="sla-new"),
    path("workflow/sla/<int:pk>/", wf.sla_edit, name="sla-edit"),
    path("workflow/sla/<int:pk>/delete/", wf.sla_delete, name="sla-delete"),
    path("workflow/canned/", wf.canned_list, name="canned"),
    path("workflow/canned/new/", wf.canned_edit, name="canned-new"),
    path("workflow/canned/<int:pk>/", wf.canned_edit, name="canned-edit"),
    path("workflow/canned/<int:pk>/delete/", wf.canned_delete, name="canned-delete"),
]
