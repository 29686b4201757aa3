"""Organizer pages of a campaign's invitations, all under `/campaigns/<slug>/`: status, quotas,
sampling, message previews, sending and the funnel, collection-point posters; and the two public
links in every message (opt-out, open tracking). Personal data appears only masked.

The pages that lived under `/invitations/campaigns/<slug>` and `/invitations/samples/<id>` answer
308 to their new URLs.
"""

from __future__ import annotations

import base64

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from campaigns.models import Campaign
from campaigns.web import campaign_title, get_campaign_or_404
from contacts.access import usable_lists
from contacts.lists import lists_with_counts
from contacts.models import ContactList
from invitations.channels import CHANNEL_NAMES
from invitations.funnel import DISPOSITIONS, STAGES, funnel, stratum_label
from invitations.messages import (
    MESSAGE_KINDS,
    MESSAGE_LANGUAGES,
    MessageError,
    preview_message,
    template_problems,
)
from invitations.models import Invitation, Quota, Sample
from invitations.optout import read_signed_ref, record_open, record_opt_out
from invitations.posters import poster_pdf
from invitations.quotas import parse_stratum, quotas_of, set_quota, stratum_values
from invitations.sampling import draw_sample
from invitations.send_runs import plan_send_run, recent_runs, send_progress, uncertain_count
from invitations.tasks import queue_send_run
from invitations.tokens import status_counts
from invitations.webforms import QuotaForm, SampleForm, SendForm
from minsheng.accounts.permissions import access, public, token
from minsheng.db import get_session
from minsheng.headers import framed_document
from minsheng.web import commit_or_show, moved_to, or_404

bp = Blueprint("invitations", __name__, template_folder="templates")

# The smallest transparent GIF (43 bytes), served for the open-tracking image.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        abort(400, description=f"{name}: got {value!r}; expected one of {', '.join(allowed)}")
    return value


@bp.get("/campaigns/<slug>/messages")
@access("campaign:organizer")
def messages_preview(slug: str) -> ResponseReturnValue:
    """The invitation or reminder as a person gets it, per channel and language."""
    campaign = get_campaign_or_404(slug)
    kind = _choice("kind", MESSAGE_KINDS, "invitation")
    channel = _choice("channel", CHANNEL_NAMES, "email")
    language = _choice("language", MESSAGE_LANGUAGES, "zh_CN")
    try:
        message = preview_message(campaign, kind, channel, language)
        problem = ""
    except MessageError as exc:
        message, problem = None, str(exc)
    return render_template(
        "invitations/messages_preview.html",
        other_problems=template_problems(campaign),
        campaign=campaign,
        title=campaign.title_in(language),
        message=message,
        problem=problem,
        kind=kind,
        channel=channel,
        language=language,
        kinds=MESSAGE_KINDS,
        channels=CHANNEL_NAMES,
        languages=MESSAGE_LANGUAGES,
    )


@bp.get("/campaigns/<slug>/messages/email.html")
@access("campaign:organizer")
def message_html(slug: str) -> ResponseReturnValue:
    """The HTML part of an e-mail as its own document, for the preview's sandboxed iframe: the
    message keeps the inline styles e-mail clients need under a policy of its own, while the
    preview page allows no inline style at all."""
    campaign = get_campaign_or_404(slug)
    kind = _choice("kind", MESSAGE_KINDS, "invitation")
    language = _choice("language", MESSAGE_LANGUAGES, "zh_CN")
    try:
        message = preview_message(campaign, kind, "email", language)
    except MessageError as exc:
        abort(422, description=str(exc))
    return framed_document(Response(message.html, mimetype="text/html"))


@bp.route("/campaigns/<slug>/sending", methods=["GET", "POST"])
@access("campaign:organizer")
def sending_page(slug: str) -> ResponseReturnValue:
    """Send the invitation message or the reminders due, and follow earlier runs' progress."""
    campaign = get_campaign_or_404(slug)
    session = get_session()
    form = SendForm()
    nothing = False
    if form.validate_on_submit():
        job = commit_or_show(  # the batches are queued by this commit
            session,
            form,
            lambda: queue_send_run(
                session,
                plan_send_run(
                    session,
                    campaign,
                    form.kind.data or "invitation",
                    form.channel.data or "email",
                    actor_id=current_user.id,
                ),
            ),
        )
        if job is not None:
            return redirect(url_for("invitations.sending_page", slug=slug))
        nothing = not form.errors
    runs = [send_progress(session, job, campaign) for job in recent_runs(session, campaign)]
    return render_template(
        "invitations/sending.html",
        campaign=campaign,
        form=form,
        nothing=nothing,
        runs=runs,
        running=any(not run.done for run in runs),
        uncertain=uncertain_count(session, campaign),
    ), (422 if form.errors else 200)


@bp.get("/campaigns/<slug>/funnel")
@access("campaign:organizer")
def funnel_page(slug: str) -> ResponseReturnValue:
    """Created -> sent -> delivered/bounced -> opened -> started -> completed, with RR1/RR2."""
    campaign = get_campaign_or_404(slug)
    result = funnel(get_session(), campaign)
    return render_template(
        "invitations/funnel.html",
        campaign=campaign,
        funnel=result,
        stages=STAGES,
        dispositions=DISPOSITIONS,
        stratum_label=stratum_label,
    )


@bp.get("/campaigns/<slug>/posters.pdf")
@access("campaign:organizer")
def posters(slug: str) -> ResponseReturnValue:
    """A4 posters with QR codes, one page per collection point (`?point=<code>` for one)."""
    campaign = get_campaign_or_404(slug)
    points = list(campaign.collection_points)
    wanted = request.args.get("point")
    if wanted is not None:
        points = [p for p in points if p.code == wanted]
        if not points:
            abort(404, description=f"No collection point {wanted!r} in campaign {slug!r}.")
    if not points:
        abort(404, description=f"Campaign {slug!r} has no collection points.")
    language = _choice("language", MESSAGE_LANGUAGES, "zh_CN")
    pdf = poster_pdf(campaign, points, language)
    name = f"{slug}-{wanted}.pdf" if wanted else f"{slug}-posters.pdf"
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@bp.route("/o/<ref>", methods=["GET", "POST"])
@token
def opt_out(ref: str) -> ResponseReturnValue:
    """The opt-out link of a message. GET only asks (mail scanners follow links); POST, from the
    page's button or a mail client's one-click unsubscribe (RFC 8058), records it."""
    session = get_session()
    invitation_id = read_signed_ref(str(current_app.config["SECRET_KEY"]), "opt-out", ref)
    invitation = session.get(Invitation, invitation_id) if invitation_id is not None else None
    if invitation is None:
        abort(404, description="This opt-out link is not valid.")
    campaign = session.get(Campaign, invitation.campaign_id)
    done = False
    if request.method == "POST":
        record_opt_out(session, invitation, channel=invitation.channel)
        session.commit()
        done = True
    return render_template(
        "invitations/opt_out.html",
        title=campaign_title(campaign) if campaign else "",
        done=done,
        ref=ref,
    )


@bp.get("/t/<ref>.gif")
@token
def opened(ref: str) -> ResponseReturnValue:
    """The open-tracking image of an e-mail; always answers with the image."""
    delivery_id = read_signed_ref(str(current_app.config["SECRET_KEY"]), "open", ref)
    if delivery_id is not None:
        session = get_session()
        if record_open(session, delivery_id):
            session.commit()
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})


@bp.get("/campaigns/<slug>/invitations")
@access("campaign:organizer")
def status(slug: str) -> ResponseReturnValue:
    return _status_page(get_campaign_or_404(slug), QuotaForm())


def _status_page(campaign: Campaign, quota_form: QuotaForm) -> str:
    session = get_session()
    samples = session.scalars(
        select(Sample).where(Sample.campaign_id == campaign.id).order_by(Sample.id.desc())
    )
    return render_template(
        "invitations/status.html",
        campaign=campaign,
        counts=status_counts(session, campaign.id),
        samples=list(samples),
        quotas=quotas_of(session, campaign.id),
        form=quota_form,
    )


@bp.post("/campaigns/<slug>/invitations/quotas")
@access("campaign:organizer")
def quota(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    session = get_session()
    form = QuotaForm()
    if form.validate_on_submit():

        def save() -> Quota:
            values = parse_stratum(form.stratum.data or "")
            return set_quota(
                session, campaign, values, form.maximum.data or 0, actor_id=current_user.id
            )

        if commit_or_show(session, form, save) is not None:
            return redirect(url_for("invitations.status", slug=campaign.slug))
    return _status_page(campaign, form), 422


# Where draw_sample's problems belong on the sample form.
SAMPLE_FIELDS = {"size": "count", "per_stratum": "count", "list": "list_id"}


@bp.route("/campaigns/<slug>/invitations/sample", methods=["GET", "POST"])
@access("campaign:organizer")
def sample(slug: str) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    session = get_session()
    form = SampleForm()
    form.list_id.choices = [
        SelectChoice(str(lst.id), f"{lst.name} ({n})")
        for lst, n in usable_lists(current_user, lists_with_counts(session))
    ]
    if form.validate_on_submit():
        # Only the lists this organizer may use are offered, and the form refuses any other.
        contact_list = session.get(ContactList, form.list_id.data) or abort(404)
        by = [a.strip() for a in (form.by.data or "").split(",") if a.strip()]
        count = form.count.data
        proportional = form.allocation.data == "proportional"
        result = commit_or_show(
            session,
            form,
            lambda: draw_sample(
                session,
                campaign,
                contact_list,
                by,
                size=count if proportional else None,
                per_stratum=None if proportional else count,
                seed=form.seed.data,
                actor_id=current_user.id,
            ),
            SAMPLE_FIELDS,
        )
        if result is not None:
            return redirect(
                url_for("invitations.sample_detail", slug=slug, sample_id=result.sample.id)
            )
    return render_template("invitations/sample.html", campaign=campaign, form=form), (
        422 if form.errors else 200
    )


@bp.get("/campaigns/<slug>/invitations/samples/<int:sample_id>")
@access("sample")
def sample_detail(slug: str, sample_id: int) -> ResponseReturnValue:
    campaign = get_campaign_or_404(slug)
    session = get_session()
    drawn = or_404(session.get(Sample, sample_id), f"No sample {sample_id}.")
    return render_template(
        "invitations/sample_detail.html",
        sample=drawn,
        campaign=campaign,
        contact_list=session.get(ContactList, drawn.list_id),
        stratum_values=stratum_values,
    )


@bp.route("/invitations/campaigns/<slug>", defaults={"rest": ""}, methods=["GET", "POST"])
@bp.route("/invitations/campaigns/<slug>/<path:rest>", methods=["GET", "POST"])
@public
def old_campaign_url(slug: str, rest: str) -> ResponseReturnValue:
    """The invitation pages of a campaign moved under `/campaigns/<slug>/invitations`."""
    return moved_to(f"/campaigns/{slug}/invitations" + (f"/{rest}" if rest else ""))


@bp.get("/invitations/samples/<int:sample_id>")
@access("sample")
def old_sample_url(sample_id: int) -> ResponseReturnValue:
    """A sample's page moved under its campaign; the old URL did not name the campaign."""
    session = get_session()
    drawn = or_404(session.get(Sample, sample_id), f"No sample {sample_id}.")
    campaign = or_404(session.get(Campaign, drawn.campaign_id), f"No sample {sample_id}.")
    return moved_to(f"/campaigns/{campaign.slug}/invitations/samples/{sample_id}")
