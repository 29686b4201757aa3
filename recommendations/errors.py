"""Errors of the recommendations package. They are `InputError`s, so pages, the API and the CLI
render them like any bad input: each names what came in and what is allowed."""

from __future__ import annotations

from minsheng.errors import InputError


class RecommendationError(InputError):
    """A recommendation action refused (a transition its state does not allow, a department user
    acting on another department's assignment, a bad attachment)."""


class TransitionError(RecommendationError):
    """A status change that `ALLOWED_TRANSITIONS` does not allow from the current state."""
