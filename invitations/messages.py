"""Invitation and reminder messages: Jinja2 templates per kind, channel and language
(`templates/invitations/messages/<language>/<kind>.<channel>.<part>`), rendered for one person or
as a preview for the organizer. Every message carries the person's opt-out link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from flask import current_app
from jinja2 import StrictUndefined, Template, TemplateError
from jinja2.sandbox import SandboxedEnvironment

from campaigns.models import Campaign
from invitations.channels import CHANNEL_NAMES, sms_segments
from minsheng.errors import Problem
from questionnaire.schema import text_in

MESSAGE_KINDS = ("invitation", "reminder")
MESSAGE_LANGUAGES = ("zh_CN", "en")
DEFAULT_SENDER = {"zh_CN": "民声征集", "en": "minsheng"}
# Shape of a real link in previews, so the SMS segment count shown is the one people will get:
# a 43-character token (256 bits in urlsafe base64) and a short opt-out reference.
PREVIEW_TOKEN = "x" * 43
PREVIEW_OPT_OUT = "xxxx." + "x" * 12


class MessageError(ValueError):
    """A message cannot be rendered: unknown kind, channel or language, or no opt-out link."""


@dataclass(frozen=True)
class MessageContext:
    """What the templates may use. `name` is the decrypted name (may be empty); it is put in the
    message only, never logged."""

    title: str
    sender: str
    link: str
    opt_out_link: str
    name: str = ""
    expires_on: date | None = None
    pixel_url: str = ""
    templates: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RenderedMessage:
    """A message ready for a channel. `segments` is the SMS segment count (0 for e-mail)."""

    subject: str
    text: str
    html: str | None
    segments: int


def campaign_sending_settings(campaign: Campaign) -> dict[str, Any]:
    """The `settings.sending` block of a campaign file (sender, language, reminders)."""
    block = (campaign.settings or {}).get("sending") or {}
    return dict(block) if isinstance(block, dict) else {}


def message_context(
    campaign: Campaign,
    language: str,
    link: str,
    opt_out_link: str,
    name: str = "",
    expires_on: date | None = None,
    pixel_url: str = "",
) -> MessageContext:
    """The template context for one person of `campaign`; the sender is `settings.sending.sender`
    (a `{zh, en}` mapping or one string), else a neutral default."""
    sender = campaign_sending_settings(campaign).get("sender")
    if isinstance(sender, dict):
        sender_text = text_in(sender, language, "zh")
    else:
        sender_text = str(sender or DEFAULT_SENDER.get(language, DEFAULT_SENDER["zh_CN"]))
    return MessageContext(
        title=campaign.title_in(language),
        sender=sender_text,
        link=link,
        opt_out_link=opt_out_link,
        name=name,
        expires_on=expires_on,
        pixel_url=pixel_url,
        templates=campaign_sending_settings(campaign).get("templates") or {},
    )


def _check(kind: str, channel: str, language: str) -> None:
    problems = []
    if kind not in MESSAGE_KINDS:
        problems.append(
            f"unknown message kind {kind!r}; expected one of {', '.join(MESSAGE_KINDS)}"
        )
    if channel not in CHANNEL_NAMES:
        problems.append(f"unknown channel {channel!r}; expected one of {', '.join(CHANNEL_NAMES)}")
    if language not in MESSAGE_LANGUAGES:
        problems.append(
            f"unknown language {language!r}; expected one of {', '.join(MESSAGE_LANGUAGES)}"
        )
    if problems:
        raise MessageError("; ".join(problems))


_PARTS = {"subject.txt": "subject", "txt": "text", "html": "html"}
_SANDBOX = SandboxedEnvironment(autoescape=False, undefined=StrictUndefined)
_SANDBOX_HTML = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined)


@lru_cache(maxsize=256)
def _compiled(source: str, html: bool) -> Template:
    return (_SANDBOX_HTML if html else _SANDBOX).from_string(source)


def campaign_template(campaign_templates: Mapping[str, Any], path: str) -> str | None:
    """The campaign's own source for `<language>/<kind>.<channel>.<part>`, if it has one:
    `settings.sending.templates.<kind>.<channel>.<language>.<subject|text|html>`."""
    language, _, rest = path.partition("/")
    kind, channel, suffix = rest.split(".", 2)
    node: Any = campaign_templates
    for key in (kind, channel, language, _PARTS[suffix]):
        node = node.get(key) if isinstance(node, Mapping) else None
    return str(node) if isinstance(node, str) else None


def _render(path: str, context: MessageContext) -> str:
    values = {k: v for k, v in context.__dict__.items() if k != "templates"}
    source = campaign_template(context.templates, path)
    if source is not None:
        # A campaign's own template is text from a file an organizer edits: sandboxed, and a
        # misspelt variable is an error rather than an empty string.
        try:
            return _compiled(source, path.endswith(".html")).render(**values).strip()
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise MessageError(f"campaign template {path}: {exc}") from exc
    template = current_app.jinja_env.get_template(f"invitations/messages/{path}")
    return template.render(**values).strip()


def render_message(
    kind: str, channel: str, language: str, context: MessageContext
) -> RenderedMessage:
    """Render one message, from the campaign's own template where it has one, else from the
    packaged one. Raises MessageError for an unknown kind/channel/language, a template that does
    not render, or one that lost the opt-out link (every message must let the person opt out)."""
    _check(kind, channel, language)
    stem = f"{language}/{kind}.{channel}"
    if channel == "email":
        subject = " ".join(_render(f"{stem}.subject.txt", context).split())
        text = _render(f"{stem}.txt", context)
        html: str | None = _render(f"{stem}.html", context)
        segments = 0
    else:
        subject, html = "", None
        text = " ".join(_render(f"{stem}.txt", context).split())
        segments = sms_segments(text)
    if context.opt_out_link not in text or (html is not None and context.opt_out_link not in html):
        raise MessageError(f"template {stem}: the message has no opt-out link")
    return RenderedMessage(subject=subject, text=text, html=html, segments=segments)


def preview_message(campaign: Campaign, kind: str, channel: str, language: str) -> RenderedMessage:
    """The message as a person would get it, with an example name and links of real length."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    context = message_context(
        campaign,
        language,
        link=f"{base}/i/{PREVIEW_TOKEN}",
        opt_out_link=f"{base}/o/{PREVIEW_OPT_OUT}",
        name="张三" if language == "zh_CN" else "Zhang San",
        expires_on=campaign.ends_on,
    )
    return render_message(kind, channel, language, context)


def template_problems(campaign: Campaign, max_segments: int = 3) -> list[Problem]:
    """Every message of `campaign` that cannot be sent as written: a campaign template that does
    not render or lost the opt-out link, or an SMS longer than `max_segments` segments."""
    problems = []
    for kind in MESSAGE_KINDS:
        for channel in CHANNEL_NAMES:
            for language in MESSAGE_LANGUAGES:
                where = f"settings.sending.templates.{kind}.{channel}.{language}"
                try:
                    message = preview_message(campaign, kind, channel, language)
                except MessageError as exc:
                    problems.append(Problem(where, str(exc)))
                    continue
                if message.segments > max_segments:
                    problems.append(
                        Problem(
                            where,
                            f"the SMS takes {message.segments} segments; "
                            f"at most {max_segments} allowed",
                        )
                    )
    return problems
