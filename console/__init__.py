"""The settings area (/settings/): agents and their invitations, teams, mailboxes,
business calendars, API tokens; links to the workflow's rules, SLA policies and canned
replies, and to the audit log. A door into the core: it saves through the core's
services (tickets.calendars) and its own (console.agents, console.tokens)."""
