from django.urls import path

from feedback import public_views, views

app_name = "feedback"

urlpatterns = [
    # Agents.
    path("feedback/", views.item_list, name="list"),
    path("feedback/new/", views.item_new, name="new"),
    path("feedback/<int:item_id>/", views.item_detail, name="item"),
    path("feedback/<int:item_id>/edit/", views.item_edit, name="edit"),
    path("feedback/<int:item_id>/status/", views.item_status, name="status"),
    path("feedback/<int:item_id>/notes/", views.item_notes, name="notes"),
    path("feedback/<int:item_id>/update/", views.item_update, name="update"),
    path("feedback/tickets/<int:number>/panel/", views.ticket_panel, name="ticket-panel"),
    path("feedback/tickets/<int:number>/link/", views.ticket_link, name="ticket-link"),
    path(
        "feedback/tickets/<int:number>/unlink/<int:item_id>/",
        views.ticket_unlink,
        name="ticket-unlink",
    ),
    # The help center: the public roadmap and the changelog.
    path("help/roadmap/", public_views.roadmap, name="roadmap"),
    path("help/roadmap/<int:item_id>/", public_views.roadmap_item, name="roadmap-item"),
    path("help/roadmap/<int:item_id>/vote/", public_views.vote, name="vote"),
    path("help/roadmap/<int:item_id>/follow/", public_views.follow, name="follow"),
    path("help/updates/", public_views.changelog, name="changelog"),
    # The portal: the items a customer asked for.
    path("portal/feedback/", public_views.my_feedback, name="portal"),
]
