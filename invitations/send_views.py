"""Pages of sending: message previews and the funnel for organizers, collection-point posters,
and the two public links in every message (opt-out, open tracking)."""

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

from campaigns.models import Campaign
from campaigns.web import get_campaign_or_404
from invitations.channels import CHANNEL_NAMES
from invitations.funnel import DISPOSITIONS, STAGES, funnel, stratum_label
from invitations.messages import (
    MESSAGE_KINDS,
    MESSAGE_LANGUAGES,
    MessageError,
    preview_message,
    template_problems,
)
from invitations.models import Invitation
from invitations.optout import read_signed_ref, record_open, record_opt_out
from invitations.posters import poster_pdf
from invitations.send_runs import recent_runs, send_progress, start_send_run
from invitations.webforms import SendForm
from minsheng.accounts.permissions import public, require_role
from minsheng.db import get_session
from minsheng.web import commit_or_show, label_language
from questionnaire.schema import text_in

bp = Blueprint("invitations_send", __name__, template_folder="templates")

# The smallest transparent GIF (43 bytes), served for the open-tracking image.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name, default)
    if value not in allowed:
        abort(400, description=f"{name}: got {value!r}; expected one of {', '.join(allowed)}")
    return value


@bp.get("/campaigns/<slug>/messages")
@require_role("organizer")
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
        title=text_in(campaign.title, language, "zh"),
        message=message,
        problem=problem,
        kind=kind,
        channel=channel,
        language=language,
        kinds=MESSAGE_KINDS,
        channels=CHANNEL_NAMES,
        languages=MESSAGE_LANGUAGES,
    )


@bp.route("/campaigns/<slug>/sending", methods=["GET", "POST"])
@require_role("organizer")
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
            lambda: start_send_run(
                session,
                campaign,
                form.kind.data or "invitation",
                form.channel.data or "email",
                actor_id=current_user.id,
            ),
        )
        if job is not None:
            return redirect(url_for("invitations_send.sending_page", slug=slug))
        nothing = not form.errors
    runs = [send_progress(session, job, campaign) for job in recent_runs(session, campaign)]
    return render_template(
        "invitations/sending.html",
        campaign=campaign,
        title=text_in(campaign.title, label_language(), "zh"),
        form=form,
        nothing=nothing,
        runs=runs,
        running=any(not run.done for run in runs),
    ), (422 if form.errors else 200)


@bp.get("/campaigns/<slug>/funnel")
@require_role("organizer")
def funnel_page(slug: str) -> ResponseReturnValue:
    """Created -> sent -> delivered/bounced -> opened -> started -> completed, with RR1/RR2."""
    campaign = get_campaign_or_404(slug)
    result = funnel(get_session(), campaign)
    return render_template(
        "invitations/funnel.html",
        campaign=campaign,
        title=text_in(campaign.title, label_language(), "zh"),
        funnel=result,
        stages=STAGES,
        dispositions=DISPOSITIONS,
        stratum_label=stratum_label,
    )


@bp.get("/campaigns/<slug>/posters.pdf")
@require_role("organizer")
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
@public
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
        title=text_in(campaign.title, label_language(), "zh") if campaign else "",
        done=done,
        ref=ref,
    )


@bp.get("/t/<ref>.gif")
@public
def opened(ref: str) -> ResponseReturnValue:
    """The open-tracking image of an e-mail; always answers with the image."""
    delivery_id = read_signed_ref(str(current_app.config["SECRET_KEY"]), "open", ref)
    if delivery_id is not None:
        session = get_session()
        if record_open(session, delivery_id):
            session.commit()
    return Response(PIXEL, mimetype="image/gif", headers={"Cache-Control": "no-store"})
