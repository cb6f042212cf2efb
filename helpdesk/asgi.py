"""The ASGI application: what uvicorn serves (`make run`, docker-compose). Every page
works here as under WSGI; the widget's conversation stream needs it (widget/live.py)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Each request runs its sync code in a thread of its own here: connections come from a
# pool per process, not one kept per thread (helpdesk/settings.py).
os.environ.setdefault("DATABASE_POOL", "1")
application = get_asgi_application()
