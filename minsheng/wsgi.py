"""The app for WSGI servers: `gunicorn minsheng.wsgi:app`. Like `minsheng.worker`, this module
builds an app at import, so only process entry points import it."""

from minsheng.app import create_app

app = create_app()
