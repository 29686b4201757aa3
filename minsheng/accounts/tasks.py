"""Celery tasks of the accounts (queue `default`): a thin wrapper around `login`."""

from __future__ import annotations

from celery import shared_task
from sqlalchemy.exc import OperationalError

from minsheng.accounts.login import forget_stale_counts
from minsheng.db import get_session


@shared_task(
    name="accounts.forget_stale_login_counts",
    # Safe to run twice: it deletes only rows that are over.
    acks_late=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
)
def forget_stale_login_counts_task() -> int:
    """Delete the failed-login counts that are over; returns how many."""
    session = get_session()
    deleted = forget_stale_counts(session)
    session.commit()
    return deleted
