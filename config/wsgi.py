"""WSGI entry point for gunicorn; production settings unless the environment says otherwise."""

import os

from django.core.wsgi import get_wsgi_application

from uploads.web.read_deadline import with_read_deadline

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")

# A request body that stalls or trickles is cut off, and one left unread closes the
# connection (uploads/web/read_deadline.py).
application = with_read_deadline(get_wsgi_application())
