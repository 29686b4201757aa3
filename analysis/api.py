"""JSON API of the analysis: a campaign's summary (`CampaignSummary.to_dict()`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Blueprint, request, url_for
from flask.typing import ResponseReturnValue

from analysis.tasks import request_summary, summary_job
from analysis.views import for_viewer
from campaigns.web import get_campaign_or_404
from minsheng.accounts.permissions import access
from minsheng.db import get_session
from minsheng.errors import InputError, Problem
from minsheng.jobs import Job, can_retry, retry_job
from minsheng.openapi import SLUG, STAFF_REFUSALS, add_openapi, errors, json_body
from minsheng.web import or_404

bp = Blueprint("analysis_api", __name__, url_prefix="/api/v1")


def _float_arg(name: str, default: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        return float(raw)
    except ValueError:
        raise InputError([Problem(name, f"got {raw!r}; expected a number")]) from None


@bp.get("/campaigns/<slug>/summary")
@access("campaign:results")
def campaign_summary(slug: str) -> ResponseReturnValue:
    """The campaign summary (suppressed for department users). Query: ``segments``
    (comma-separated columns to crosstab by), ``method`` (interval method of unweighted shares,
    default wilson), ``alpha`` (default 0.05), ``weighting`` (``declared``, the default: the
    design-based estimates of the campaign file's design and margins; ``none``: unweighted),
    ``weights=campaign`` (insist on raking to the campaign file's margins)."""
    # pandas, scipy, pyarrow: only when asked (issue 10)
    from analysis.snapshots import snapshot_root
    from analysis.summary import summarize

    session = get_session()
    campaign = get_campaign_or_404(slug)
    segments = tuple(s for s in request.args.get("segments", "").split(",") if s.strip())
    # An `AnalysisError` (bad method, alpha, segment or margins) is an `InputError`: the API's
    # error handler answers it 422 with every problem.
    summary = summarize(
        session,
        campaign,
        segments=segments,
        alpha=_float_arg("alpha", 0.05),
        method=request.args.get("method", "wilson"),
        snapshot_root=snapshot_root(),
        rake=request.args.get("weights") == "campaign",
        weighting=request.args.get("weighting", "declared"),
    )
    shown = for_viewer(summary)
    return dict(shown) if isinstance(shown, Mapping) else shown.to_dict()


def _segments_in(body: Any) -> list[str]:
    segments = body.get("segments", []) if isinstance(body, dict) else None
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        raise InputError([Problem("segments", "expected a list of column names")])
    return segments


def job_json(job: Job, slug: str) -> dict[str, Any]:
    """A summary job as the API shows it; its summary (suppressed for departments) once done."""
    session = get_session()
    out: dict[str, Any] = {
        "id": job.id,
        "state": job.state,
        "progress": job.progress,
        "message": job.message,
        "attempts": job.attempts,
        "segments": list((job.result or {}).get("segments", [])),
        "created_at": job.created_at.isoformat(),
        "finished_at": None if job.finished_at is None else job.finished_at.isoformat(),
        "retryable": can_retry(session, job),
        "url": url_for("analysis_api.summary_job_status", slug=slug, job_id=job.id),
    }
    if job.state == "done":
        out["summary"] = for_viewer(job.result)
    return out


@bp.post("/campaigns/<slug>/summary-jobs")
@access("campaign:results")
def start_summary_job(slug: str) -> ResponseReturnValue:
    """Queue a summary in the background (for large campaigns or many segments). Body:
    ``{"segments": [...]}``. 202 with the job; poll its ``Location``."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    job = request_summary(session, campaign, _segments_in(request.get_json(silent=True) or {}))
    session.commit()
    session.refresh(job)
    body = job_json(job, slug)
    return body, 202, {"Location": body["url"]}


@bp.get("/campaigns/<slug>/summary-jobs/<int:job_id>")
@access("campaign:results")
def summary_job_status(slug: str, job_id: int) -> ResponseReturnValue:
    """A background summary: queued, running (with progress), done (with the summary), or
    failed (with the reason and whether a retry can help)."""
    session = get_session()
    campaign = get_campaign_or_404(slug)
    job = or_404(summary_job(session, campaign, job_id), "No such summary job.")
    return job_json(job, slug)


@bp.post("/campaigns/<slug>/summary-jobs/<int:job_id>/retry")
@access("campaign:results")
def retry_summary_job(slug: str, job_id: int) -> ResponseReturnValue:
    """Queue a failed summary again; a job that has not failed answers 422 saying so."""
    from flask_login import current_user

    session = get_session()
    campaign = get_campaign_or_404(slug)
    job = or_404(summary_job(session, campaign, job_id), "No such summary job.")
    retry_job(session, job, actor_id=current_user.id)
    session.commit()
    session.refresh(job)
    body = job_json(job, slug)
    return body, 202, {"Location": body["url"]}


def _job_answer(description: str) -> dict[str, Any]:
    return json_body(description, {"$ref": "#/components/schemas/SummaryJob"})


_NUMBER = {"type": ["number", "null"]}
_LABEL = {"type": "object", "additionalProperties": {"type": "string"}}
_CHOICE_ROW = {
    "type": "object",
    "required": ["name", "label", "count", "percent", "ci_low", "ci_high", "suppressed"],
    "properties": {
        "name": {"type": "string"},
        "label": _LABEL,
        "count": {"type": ["integer", "null"], "minimum": 0},
        "weighted_count": _NUMBER,
        "percent": _NUMBER,
        "ci_low": _NUMBER,
        "ci_high": _NUMBER,
        "percent_of_mentions": _NUMBER,
        "suppressed": {"type": "boolean"},
        "se": _NUMBER,
        "design_effect": _NUMBER,
        "effective_n": _NUMBER,
    },
}
_QUESTION = {
    "type": "object",
    "required": ["name", "label", "type", "kind", "n_base", "n_missing", "rows"],
    "properties": {
        "name": {"type": "string"},
        "label": _LABEL,
        "type": {"type": "string"},
        "kind": {
            "type": "string",
            "description": "single, multiple, rating, numeric, nps, ranking, text, date, "
            "acknowledge: which of the blocks below are filled.",
        },
        "n_base": {"type": ["integer", "null"], "minimum": 0},
        "n_missing": {"type": ["integer", "null"], "minimum": 0},
        "weighted_base": _NUMBER,
        "rows": {"type": "array", "items": _CHOICE_ROW},
        "mean": {"type": ["object", "null"]},
        "top_box": {"type": ["object", "null"]},
        "top_box_choices": {"type": "array", "items": {"type": "string"}},
        "nps": {"type": ["object", "null"]},
        "numeric": {"type": ["object", "null"]},
        "ranking": {"type": "array", "items": {"type": "object"}},
        "text": {"type": ["object", "null"]},
        "note": {"type": ["string", "null"]},
    },
}
_JOB_ID = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_STAFF = (
    "Needs a logged-in staff session that may read the campaign's results (department users "
    "get the suppressed summary); a POST also needs the session's CSRF token in `X-CSRFToken`."
)

add_openapi(
    {
        "/campaigns/{slug}/summary": {
            "get": {
                "operationId": "getCampaignSummary",
                "summary": "The campaign's summary: every question with base, counts and intervals",
                "description": _STAFF,
                "security": [{"staffSession": []}],
                "parameters": [
                    SLUG,
                    {"name": "segments", "in": "query", "schema": {"type": "string"}},
                    {"name": "method", "in": "query", "schema": {"type": "string"}},
                    {"name": "alpha", "in": "query", "schema": {"type": "number"}},
                    {"name": "weights", "in": "query", "schema": {"enum": ["campaign"]}},
                    {
                        "name": "weighting",
                        "in": "query",
                        "description": "declared (default): design-based estimates of the "
                        "campaign file's design and margins; none: unweighted.",
                        "schema": {"enum": ["declared", "none"]},
                    },
                ],
                "responses": {
                    "200": json_body(
                        "The summary (`CampaignSummary.to_dict()`).",
                        {"$ref": "#/components/schemas/CampaignSummary"},
                    ),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign."),
                    "422": errors("A bad segment, method, alpha or weighting margin."),
                },
            }
        },
        "/campaigns/{slug}/summary-jobs": {
            "post": {
                "operationId": "startSummaryJob",
                "summary": "Queue a summary in the background, broken down by segments",
                "description": _STAFF,
                "security": [{"staffSession": []}],
                "parameters": [SLUG],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "segments": {"type": "array", "items": {"type": "string"}}
                                },
                            }
                        }
                    }
                },
                "responses": {
                    "202": _job_answer("Queued; poll the job at its `Location`."),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign."),
                    "422": errors("A segment that is not a single-choice question or metadata."),
                },
            }
        },
        "/campaigns/{slug}/summary-jobs/{job_id}": {
            "get": {
                "operationId": "getSummaryJob",
                "summary": "A background summary: its state, and the summary once done",
                "description": _STAFF,
                "security": [{"staffSession": []}],
                "parameters": [SLUG, _JOB_ID],
                "responses": {
                    "200": _job_answer("The job."),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign, or no such summary job in it."),
                },
            }
        },
        "/campaigns/{slug}/summary-jobs/{job_id}/retry": {
            "post": {
                "operationId": "retrySummaryJob",
                "summary": "Queue a failed background summary again",
                "description": _STAFF,
                "security": [{"staffSession": []}],
                "parameters": [SLUG, _JOB_ID],
                "responses": {
                    "202": _job_answer("Queued again."),
                    **STAFF_REFUSALS,
                    "404": errors("No such campaign, or no such summary job in it."),
                    "422": errors("The job has not failed, or cannot be run again."),
                },
            }
        },
    },
    {
        "CampaignSummary": {
            "type": "object",
            "required": [
                "slug",
                "title",
                "n_responses",
                "quality",
                "weighted",
                "alpha",
                "method",
                "questions",
            ],
            "properties": {
                "slug": {"type": "string"},
                "title": _LABEL,
                "n_responses": {"type": ["integer", "null"], "minimum": 0},
                "quality": {"type": "object"},
                "weighted": {"type": "boolean"},
                "weighting": {"type": ["object", "null"]},
                "alpha": {"type": "number"},
                "method": {"type": "string"},
                "questions": {"type": "array", "items": _QUESTION},
                "segments": {"type": "array", "items": {"type": "string"}},
                "crosstabs": {"type": ["object", "null"]},
                "estimation": {"enum": ["unweighted", "design-based", "kish-approximation"]},
                "design": {
                    "type": ["object", "null"],
                    "description": "How design-based standard errors were computed: variance "
                    "method, strata, clusters, df, fpc, calibration, interval and design-effect "
                    "conventions, weight summary.",
                },
            },
        },
        "SummaryJob": {
            "type": "object",
            "required": ["id", "state", "progress", "message", "attempts", "url"],
            "properties": {
                "id": {"type": "integer"},
                "state": {"enum": ["queued", "running", "done", "failed"]},
                "progress": {"type": "number", "minimum": 0, "maximum": 1},
                "message": {"type": "string", "description": "What it does, or why it failed."},
                "attempts": {"type": "integer"},
                "segments": {"type": "array", "items": {"type": "string"}},
                "created_at": {"type": "string", "format": "date-time"},
                "finished_at": {"type": ["string", "null"], "format": "date-time"},
                "retryable": {"type": "boolean"},
                "url": {"type": "string"},
                "summary": {"type": "object", "description": "Once done: as `/summary`."},
            },
        },
    },
)
