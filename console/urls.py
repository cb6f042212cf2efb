from django.urls import path

from console.views import agents, branding, calendars, home, mailboxes, teams, tokens

app_name = "console"

urlpatterns = [
    path("settings/", home.home, name="home"),
    path("settings/agents/", agents.agent_list, name="agents"),
    path("settings/agents/<int:pk>/", agents.agent_edit, name="agent-edit"),
    path("settings/agents/<int:pk>/active/", agents.agent_active, name="agent-active"),
    path("settings/agents/<int:pk>/resend/", agents.agent_resend, name="agent-resend"),
    path("settings/agents/<int:pk>/withdraw/", agents.agent_withdraw, name="agent-withdraw"),
    path(
        "settings/agents/<int:pk>/two-factor/",
        agents.agent_two_factor_reset,
        name="agent-two-factor-reset",
    ),
    path("invitation/<str:token>/", agents.accept, name="accept"),
    path("settings/teams/", teams.team_list, name="teams"),
    path("settings/teams/new/", teams.team_edit, name="team-new"),
    path("settings/teams/<int:pk>/", teams.team_edit, name="team-edit"),
    path("settings/teams/<int:pk>/delete/", teams.team_delete, name="team-delete"),
    path("settings/mailboxes/", mailboxes.mailbox_list, name="mailboxes"),
    path("settings/mailboxes/new/", mailboxes.mailbox_edit, name="mailbox-new"),
    path("settings/mailboxes/<int:pk>/", mailboxes.mailbox_edit, name="mailbox-edit"),
    path("settings/mailboxes/<int:pk>/test/", mailboxes.mailbox_test, name="mailbox-test"),
    path("settings/calendars/", calendars.calendar_list, name="calendars"),
    path("settings/calendars/new/", calendars.calendar_edit, name="calendar-new"),
    path("settings/calendars/<int:pk>/", calendars.calendar_edit, name="calendar-edit"),
    path("settings/branding/", branding.branding_edit, name="branding"),
    path("branding.css", branding.branding_css, name="branding-css"),
    path("branding/logo", branding.branding_logo, name="branding-logo"),
    path("settings/tokens/", tokens.token_list, name="tokens"),
    path("settings/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
]
