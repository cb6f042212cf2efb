from django.urls import include, path

from tickets import profile_views, style_guide, views, workspace_views

app_name = "tickets"

urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("inbox/counts/", views.counts, name="counts"),
    path("inbox/bulk/", views.bulk, name="bulk"),
    path("search/", views.search, name="search"),
    path("views/", workspace_views.save_view, name="save-view"),
    path("views/<int:view_id>/rename/", workspace_views.rename_view, name="rename-view"),
    path("views/<int:view_id>/delete/", workspace_views.delete_view, name="delete-view"),
    path("notifications/", workspace_views.notification_list, name="notifications"),
    path("me/language/", workspace_views.language_settings, name="language-settings"),
    path("notifications/bell/", workspace_views.bell, name="bell"),
    path("notifications/read/", workspace_views.read_all, name="notifications-read"),
    path(
        "notifications/<int:notification_id>/open/",
        workspace_views.open_notification,
        name="open-notification",
    ),
    path("tickets/new/", views.new_ticket, name="new"),
    path("tickets/new/outreach/", views.new_ticket, {"outreach": True}, name="outreach"),
    path("tickets/<int:number>/", views.detail, name="detail"),
    path("tickets/<int:number>/reply/", views.reply, name="reply"),
    path("tickets/<int:number>/note/", views.note, name="note"),
    path("tickets/<int:number>/update/", views.update, name="update"),
    path("tickets/<int:number>/fields/<slug:key>/", views.set_field, name="set_field"),
    path("tickets/<int:number>/courtesy/undo/", views.courtesy_undo, name="courtesy-undo"),
    path("tickets/<int:number>/requester/", profile_views.change_requester, name="requester"),
    path("customers/<int:customer_id>/", profile_views.customer, name="customer"),
    path("customers/<int:customer_id>/merge/", profile_views.merge_customer, name="merge_customer"),
    path("organizations/<int:organization_id>/", profile_views.organization, name="organization"),
    path(
        "tickets/<int:number>/attachments/<int:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
    path("style/", style_guide.style_guide, name="style-guide"),
    path("", include("tickets.mail.urls")),
    # Mail and workflow screens keep their names in this namespace ("tickets:rules").
    path("", include("tickets.workflow.urls")),
]
