"""The Celery app for `celery -A minsheng.worker worker|beat`: the only module that builds an app
at import."""

from minsheng.app import create_app
from minsheng.jobs import get_celery

flask_app = create_app()
celery_app = get_celery(flask_app)
