"""REST API of the tickets app, mounted by helpdesk/api_urls.py under /api/v1/."""
