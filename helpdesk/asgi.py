"""The ASGI application: what uvicorn serves (`make run`, docker-compose). Every page
works here as under WSGI; the widget's conversation stream needs it (widget/live.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
application = get_asgi_application()
