"""The thematic report (专题报告) of a campaign as PDF: the campaign summary
(`analysis.summary.summarize(...).to_dict()`) rendered through a Jinja2 HTML template with inline
matplotlib SVG charts, then laid out by WeasyPrint in the embedded CJK font.

`render_report_pdf` is pure (a plain summary dict in, PDF bytes out); `render_campaign_report`
gathers what it needs from the database and writes the file.
"""

from __future__ import annotations

import base64
import os
import tempfile
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.support import NullTranslations
from flask import current_app
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis.frames import rating_scores
from analysis.loading import campaign_form
from analysis.proportions import proportion_ci
from analysis.quality import MIN_BLOCK_ITEMS, SPEED_FACTOR
from analysis.snapshots import snapshot_root
from analysis.summary import summarize
from analysis.suppression import suppress_counts, suppress_summary
from campaigns.models import Campaign
from exporters.appendices import (
    GLOSSARY,
    QuestionnaireItem,
    choice_labels,
    full_tables,
    questionnaire_items,
    sample_profile,
)
from exporters.charts import (
    MAX_BARS,
    Bar,
    LikertItem,
    Spread,
    likert_bars,
    percent_bars,
    spread_box,
)
from exporters.fieldwork import Fieldwork, campaign_fieldwork
from exporters.follow_up import (
    GoldenIdeaEntry,
    Handling,
    Note,
    adopted_recommendations,
    golden_idea_entries,
    question_notes,
)
from exporters.fonts import CJKFont, find_cjk_font
from exporters.key_findings import (
    CHANNEL_LABELS,
    Wording,
    comparison_note,
    key_findings,
    priority_matrix,
    priority_pairs,
    segment_differences,
)
from exporters.locales import report_translations
from exporters.page_labels import LabelledPart, label_pages
from exporters.variables import declared_margins
from forms.models import Response
from minsheng import __version__ as minsheng_version
from minsheng.accounts.models import User
from minsheng.db import LOCAL_TIMEZONE, local_date, utcnow
from questionnaire.schema import Form, text_in

AUDIENCES = ("staff", "department")
#: Tagged PDF for accessibility unless asked otherwise (issue 12).
PDF_VARIANT = "pdf/ua-1"
#: The variants a report may be asked in: accessible (tagged PDF/UA-1), or for the archive
#: (PDF/A-3a: PDF/A with the same structure tags, so it stays accessible).
PDF_VARIANTS = ("pdf/ua-1", "pdf/a-3a")
#: `progress(fraction, step)`: told how far rendering has got (0..1) and what was just done.
Progress = Callable[[float, str], None]
#: Summary kinds that get a section with a chart and a table.
CHOICE_KINDS = ("single", "multiple", "rating", "nps", "numeric", "ranking")
#: A single-choice question with more choices than this is not a segment of its own.
MAX_SEGMENT_CHOICES = 12
METHOD_NAMES = {
    "wilson": "Wilson score",
    "clopper-pearson": "Clopper-Pearson",
    "agresti-coull": "Agresti-Coull",
    "jeffreys": "Jeffreys",
    "wald": "Wald",
}


@dataclass(frozen=True)
class ReportFacts:
    """What the report says about the campaign besides the summary: the cover and methods."""

    title: Mapping[str, str]
    theme: str
    description: Mapping[str, str] = field(default_factory=dict)
    subtitle: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    first_response: date | None = None
    last_response: date | None = None
    #: Responses received by channel, before the quality screen; the summary's
    #: ``responses_by["channel"]`` counts the valid ones.
    channels: Mapping[str, int | None] = field(default_factory=dict)
    n_received: int = 0
    timezone: str = LOCAL_TIMEZONE
    #: The campaign file's settings (``report.priorities``, ``report.segments``, ...).
    settings: Mapping[str, Any] = field(default_factory=dict)
    fieldwork: Fieldwork | None = None
    #: The cover: who issues the report (``settings.report.issuer``), its classification
    #: (``settings.report.classification``, e.g. 内部资料) and version.
    issuer: str = ""
    classification: str = ""
    version: str = "1"
    #: Expert annotations by question, golden ideas, and the adopted recommendations the
    #: reader may see (None: rendered for nobody in particular, so the chapter is left out).
    notes: Mapping[str, Sequence[Note]] = field(default_factory=dict)
    golden_ideas: Sequence[GoldenIdeaEntry] = ()
    recommendations: Sequence[Handling] | None = None
    #: The appendices: the questionnaire as asked, the segments the report breaks results down
    #: by, and the population margins of the campaign file (variable -> category -> count).
    questionnaire: Sequence[QuestionnaireItem] = ()
    #: Choice labels by question, in the report's language (a ranking's items are names).
    choice_labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    segments: Sequence[str] = ()
    margins: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    #: The suppression threshold of department editions, stated in every edition.
    suppression_rule: int = 5
    generated_on: date | None = None
    audience: str = "staff"
    suppression_threshold: int | None = None


def render_report_pdf(
    summary: Mapping[str, Any],
    facts: ReportFacts,
    font: CJKFont,
    language: str = "zh_CN",
) -> bytes:
    """The report as PDF bytes. `summary` is `CampaignSummary.to_dict()` (already suppressed
    when the report goes to a department)."""
    return html_to_pdf(
        report_html(summary, facts, font, language), page_labels=report_labels(language)
    )


def report_labels(language: str = "zh_CN") -> list[LabelledPart]:
    """The report's page labels: the cover by name, then the numbers its footers print, the
    appendices' pages prefixed as such ("封面", "2", ..., "附录 21")."""
    gettext = report_translations(language).gettext
    return [
        LabelledPart("", prefix=gettext("Cover"), style=""),
        LabelledPart("contents"),
        LabelledPart("appendices", prefix=gettext("Appendix") + " "),
    ]


def html_to_pdf(
    html: str,
    pdf_variant: str | None = PDF_VARIANT,
    page_labels: Sequence[LabelledPart] = (),
) -> bytes:
    """Lay out report HTML with WeasyPrint (relative links resolve inside this package).

    Tagged PDF/UA-1 by default (structure tags, language, title shown in the window), for
    screen readers; ``pdf_variant`` may name another WeasyPrint variant, such as "pdf/a-3u" for
    archiving, or None for an untagged PDF. The `<meta>` of the HTML become the document
    information (title, author = issuing office, subject, keywords) and, with
    ``custom_metadata``, the report's version, snapshot and software version. ``page_labels``
    become the PDF's page labels (`exporters.page_labels`); bookmarks come from the headings
    (``bookmark-level`` in report.css).
    """
    from weasyprint import HTML  # heavy import (Pango, cairo): only when a report is rendered

    options: dict[str, Any] = {"custom_metadata": True}
    if pdf_variant:
        options["pdf_variant"] = pdf_variant
    finisher = label_pages(page_labels) if page_labels else None
    with warnings.catch_warnings():
        # For PDF/A, WeasyPrint reads its sRGB output profile from a file it never closes.
        warnings.filterwarnings("ignore", r"unclosed file .*sRGB2014\.icc", ResourceWarning)
        pdf = HTML(string=html, base_url=str(Path(__file__).parent)).write_pdf(
            finisher=finisher, **options
        )
    assert pdf is not None
    return bytes(pdf)


def report_html(
    summary: Mapping[str, Any], facts: ReportFacts, font: CJKFont, language: str = "zh_CN"
) -> str:
    """The HTML that `render_report_pdf` lays out (useful to inspect the report in a browser)."""
    translations = report_translations(language)
    env = _environment(translations)
    lang = language.split("_")[0]
    gettext = translations.gettext
    sections = [
        _section(question, font, lang, gettext, facts.choice_labels)
        for question in summary.get("questions", [])
        if question.get("kind") in CHOICE_KINDS
    ]
    generated = facts.generated_on or utcnow().date()
    questions = summary.get("questions") or []
    wording = Wording(gettext, lang, round(100 * (1 - float(summary.get("alpha", 0.05)))))
    differences: dict[str, list[str]] = {}
    for finding in segment_differences(summary, questions, wording):
        differences.setdefault(finding.question, []).append(finding.sentence)
    priorities = priority_matrix(questions, priority_pairs(questions, facts.settings), wording)
    return env.get_template("exporters/report.html").render(
        summary=summary,
        facts=facts,
        title=text_in(facts.title, lang, "zh"),
        description=text_in(facts.description, lang, "zh") if facts.description else "",
        sections=sections,
        other_questions=[
            q
            for q in summary.get("questions", [])
            if q.get("kind") not in CHOICE_KINDS and not q.get("text")
        ],
        suggestions=[
            {
                **q,
                "label_text": text_in(q.get("label") or {}, lang, "zh"),
                "quotes": _theme_quotes(q["text"].get("themes") or []),
            }
            for q in summary.get("questions", [])
            if q.get("text") and q["text"].get("n_answers")
        ],
        quality=summary.get("quality") or {},
        findings=key_findings(summary, gettext, lang, priorities=priorities),
        priorities=priorities,
        comparison_note=comparison_note(summary, gettext),
        channel_labels=CHANNEL_LABELS,
        differences=differences,
        stage_names=_stage_names(gettext),
        questionnaire=facts.questionnaire,
        profile=sample_profile(summary, facts.segments, facts.margins, lang, gettext),
        tables=full_tables(summary, lang, gettext),
        glossary=GLOSSARY,
        # "第 X 页 共 Y 页" / "Page X of Y": the words around the two page counters.
        page_words=str(gettext("Page | of |")).split("|"),
        fieldwork=facts.fieldwork,
        flag_names={
            "speeder": gettext("Speeding"),
            "straightliner": gettext("Straight-lining"),
            "duplicate": gettext("Duplicate"),
            "near_duplicate": gettext("Near-duplicate from one address"),
            "honeypot": gettext("Honeypot"),
        },
        speed_factor=f"{SPEED_FACTOR:g}",
        min_block_items=MIN_BLOCK_ITEMS,
        suppression_rule=facts.suppression_rule,
        **_margin_of_error(summary),
        fmt_moment=lambda moment: format_datetime(
            moment, "yyyy-MM-dd HH:mm", tzinfo=ZoneInfo(facts.timezone), locale=language
        ),
        rating_overview=_rating_overview(sections, font, gettext),
        method_name=METHOD_NAMES.get(str(summary.get("method")), str(summary.get("method"))),
        confidence=round(100 * (1 - float(summary.get("alpha", 0.05)))),
        font_family=font.family,
        lang=lang,
        # Chinese sentences follow each other without a space; English ones need one.
        sep="" if lang in ("zh", "ja") else " ",
        html_lang="zh-CN" if lang == "zh" else lang,
        fmt_date=lambda day: format_date(day, "long", locale=language) if day else "",
        generated=generated,
        software=f"minsheng {minsheng_version}",
    )


def _stage_names(gettext: Any) -> dict[str, str]:
    """The recommendation stages (and decisions) in the report's language."""
    return {
        "adopted": gettext("adopted"),
        "partly_adopted": gettext("partly adopted"),
        "assigned": gettext("assigned to departments"),
        "in_progress": gettext("in progress"),
        "completed": gettext("handling completed"),
        "feedback_given": gettext("feedback given"),
        "evaluated": gettext("evaluated"),
        "recognised": gettext("recognised"),
    }


def _margin_of_error(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The largest margin of error of a share of the whole sample: the half-width of the
    interval at 50 %, on the effective n when the summary is weighted (Kish), in percentage
    points; ``moe`` is None without responses."""
    weighting = summary.get("weighting") or {}
    n = float(
        (weighting.get("weights") or {}).get("effective_n") or summary.get("n_responses") or 0
    )
    if n < 1:
        return {"moe": None, "moe_n": 0}
    share = proportion_ci(n / 2, n, float(summary.get("alpha", 0.05)), str(summary.get("method")))
    assert share.ci_low is not None and share.ci_high is not None
    return {"moe": 50 * (share.ci_high - share.ci_low), "moe_n": round(n)}


@dataclass(frozen=True)
class Section:
    """One question of the report: its heading, chart and table rows."""

    name: str
    label: str
    kind: str
    n_base: int
    n_missing: int
    rows: list[dict[str, Any]]
    chart: str
    note: str | None
    top_box: Mapping[str, Any] | None = None
    top_box_labels: Sequence[str] = ()
    mean: Mapping[str, Any] | None = None
    #: What the mean score is on: "1 = 非常不满意，5 = 非常满意".
    scale: str = ""
    #: Said under a chart that shows only part of the table.
    chart_note: str = ""
    #: A number question's statistics (`analysis.scales.NumericSummary`), an NPS question's
    #: score and shares, a ranking question's items best first with their labels.
    numeric: Mapping[str, Any] | None = None
    nps: Mapping[str, Any] | None = None
    ranking: Sequence[Mapping[str, Any]] = ()

    @property
    def alt(self) -> str:
        """The chart's alternative text: the question and its shares, for a screen reader."""
        if self.nps is not None:
            nps = self.nps
            return (
                f"{self.label}: NPS {_signed(nps.get('estimate'))}; "
                f"{_pct(nps.get('detractors_percent'))} / {_pct(nps.get('passives_percent'))} "
                f"/ {_pct(nps.get('promoters_percent'))}"
            )
        if self.ranking:
            return f"{self.label}: " + "; ".join(
                f"{item['text']} {_pct(item['first_percent'])}" for item in self.ranking
            )
        if self.numeric is not None and not self.rows:
            n = self.numeric
            return (
                f"{self.label}: min {_num(n.get('minimum'))}, Q1 {_num(n.get('q1'))}, "
                f"median {_num(n.get('median'))}, Q3 {_num(n.get('q3'))}, "
                f"max {_num(n.get('maximum'))}"
            )
        shares = [
            f"{row['text']} {float(row['percent']):.1f}%"
            for row in self.rows
            if row.get("percent") is not None
        ]
        return f"{self.label}: {'; '.join(shares)}"


def _section(
    question: Mapping[str, Any],
    font: CJKFont,
    lang: str,
    gettext: Any,
    choice_labels: Mapping[str, Mapping[str, str]] | None = None,
) -> Section:
    kind = str(question["kind"])
    if kind in ("nps", "numeric", "ranking"):
        return _number_section(question, font, lang, gettext, choice_labels or {})
    rows = [
        {**row, "text": text_in(row.get("label") or {}, lang, "zh") or row.get("name", "")}
        for row in question.get("rows", [])
    ]
    if kind == "multiple":
        # Options of a multiple-choice question have no natural order: most chosen first.
        rows.sort(key=lambda row: -(row.get("percent") or 0.0))
    chart, chart_note = _chart(str(question["name"]), kind, rows, font, gettext)
    top_names = set(question.get("top_box_choices") or ())
    return Section(
        name=str(question["name"]),
        label=text_in(question.get("label") or {}, lang, "zh"),
        kind=kind,
        n_base=int(question.get("n_base") or 0),
        n_missing=int(question.get("n_missing") or 0),
        rows=rows,
        chart=chart,
        chart_note=chart_note,
        note=question.get("note"),
        top_box=question.get("top_box"),
        top_box_labels=[row["text"] for row in rows if row.get("name") in top_names],
        mean=question.get("mean"),
        scale=_scale_text(question, lang) if kind == "rating" else "",
    )


def _number_section(
    question: Mapping[str, Any],
    font: CJKFont,
    lang: str,
    gettext: Any,
    choice_labels: Mapping[str, Mapping[str, str]],
) -> Section:
    """An NPS, number or ranking question: NPS as the stacked shares of detractors, passives
    and promoters; a number as a box plot (or, on a short scale, bars of each point); a
    ranking as the share ranking each option first, best first."""
    name, kind = str(question["name"]), str(question["kind"])
    rows = [
        {**row, "text": text_in(row.get("label") or {}, lang, "zh") or row.get("name", "")}
        for row in question.get("rows", [])
    ]
    numeric = question.get("numeric")
    mean = (numeric or {}).get("mean")
    ranking = [
        {
            "text": choice_labels.get(name, {}).get(str(item["item"]), str(item["item"])),
            "mean_rank": item["mean_rank"],
            "first_percent": _share(item["ranked_first"].get("estimate")),
            "first_low": _share(item["ranked_first"].get("ci_low")),
            "first_high": _share(item["ranked_first"].get("ci_high")),
        }
        for item in question.get("ranking") or ()
    ]
    nps = question.get("nps") if kind == "nps" else None
    chart = ""
    key = f"q-{name}-chart"
    if nps is not None and nps.get("estimate") is not None:
        groups = [
            gettext("Detractors (0–6)"),
            gettext("Passives (7–8)"),
            gettext("Promoters (9–10)"),
        ]
        shares = [
            nps.get(k) for k in ("detractors_percent", "passives_percent", "promoters_percent")
        ]
        chart = likert_bars(
            [LikertItem("", shares)],
            groups,
            font,
            gettext("Percent of valid answers"),
            key=key,
            suppressed_label=gettext("suppressed"),
        )
    elif ranking:
        chart = percent_bars(
            [
                Bar(i["text"], i["first_percent"], i["first_low"], i["first_high"])
                for i in ranking[:MAX_BARS]
            ],
            font,
            gettext("Percent ranking it first"),
            key=key,
        )
    elif rows:
        chart, _note = _chart(name, "single", rows, font, gettext)
    elif numeric and numeric.get("median") is not None:
        chart = spread_box(
            Spread(
                numeric["minimum"],
                numeric["q1"],
                numeric["median"],
                numeric["q3"],
                numeric["maximum"],
                (mean or {}).get("estimate"),
                (mean or {}).get("ci_low"),
                (mean or {}).get("ci_high"),
            ),
            font,
            gettext("Answer (box: middle half; line: median; diamond: mean with its interval)"),
            key=key,
        )
    return Section(
        name=name,
        label=text_in(question.get("label") or {}, lang, "zh"),
        kind=kind,
        n_base=int(question.get("n_base") or 0),
        n_missing=int(question.get("n_missing") or 0),
        rows=rows,
        chart=chart,
        note=question.get("note"),
        mean=mean,
        numeric=numeric,
        nps=nps,
        ranking=ranking,
    )


def _share(value: float | None) -> float | None:
    """A proportion (0..1) as a percentage, None kept."""
    return None if value is None else 100 * float(value)


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{float(value):+.1f}"


def _chart(
    name: str, kind: str, rows: Sequence[Mapping[str, Any]], font: CJKFont, gettext: Any
) -> tuple[str, str]:
    """The question's chart and a note when it leaves rows to the table: a rating as one
    stacked bar; choices as bars with intervals, at most `MAX_BARS` of them (the largest,
    in table order), so a 60-option question still fits its page."""
    if kind == "rating":
        chart = likert_bars(
            [LikertItem("", [row.get("percent") for row in rows])],
            [row["text"] for row in rows],
            font,
            gettext("Percent of valid answers"),
            key=f"q-{name}-chart",
            suppressed_label=gettext("suppressed"),
        )
        return chart, ""
    shown = list(rows)
    note = ""
    if len(rows) > MAX_BARS:
        largest = sorted(rows, key=lambda row: -(row.get("percent") or 0.0))[:MAX_BARS]
        keep = {id(row) for row in largest}
        shown = [row for row in rows if id(row) in keep]
        note = str(
            gettext(
                "The chart shows the %(shown)s largest of %(all)s answers; the table lists all."
            )
            % {"shown": MAX_BARS, "all": len(rows)}
        )
    chart = percent_bars(
        [
            Bar(
                row["text"],
                row.get("percent"),
                row.get("ci_low"),
                row.get("ci_high"),
                note=gettext("suppressed") if row.get("suppressed") else "",
            )
            for row in shown
        ],
        font,
        gettext("Percent of respondents (more than one answer allowed)")
        if kind == "multiple"
        else gettext("Percent of valid answers"),
        key=f"q-{name}-chart",
    )
    return chart, note


def _scale_text(question: Mapping[str, Any], lang: str) -> str:
    """The ends of a rating scale with their scores, in form order: "1 = 非常不满意，5 = 非常满意".
    Choices named by numbers score those numbers, others 1..k (`analysis.frames.rating_scores`)."""
    rows = [row for row in question.get("rows", []) if row.get("name") != "other"]
    if len(rows) < 2:
        return ""
    ends = []
    for position, row in ((1, rows[0]), (len(rows), rows[-1])):
        try:
            score = f"{float(row['name']):g}"
        except (KeyError, ValueError):
            score = str(position)
        ends.append(f"{score} = {text_in(row.get('label') or {}, lang, 'zh') or row['name']}")
    return ("，" if lang == "zh" else ", ").join(ends)


def _rating_overview(sections: Sequence[Section], font: CJKFont, gettext: Any) -> str:
    """One stacked chart of the rating questions that share the largest common scale (e.g. the
    three 满意度 questions), so they can be compared at a glance; "" when fewer than two do."""
    by_scale: dict[tuple[str, ...], list[Section]] = {}
    for section in sections:
        if section.kind == "rating" and section.rows:
            by_scale.setdefault(tuple(row["text"] for row in section.rows), []).append(section)
    if not by_scale:
        return ""
    scale, group = max(by_scale.items(), key=lambda item: len(item[1]))
    if len(group) < 2:
        return ""
    items = [
        LikertItem(s.label.rstrip("？?"), [row.get("percent") for row in s.rows]) for s in group
    ]
    return likert_bars(
        items,
        scale,
        font,
        gettext("Percent of valid answers"),
        key="overview",
        suppressed_label=gettext("suppressed"),
    )


def _theme_quotes(themes: Sequence[Mapping[str, Any]], limit: int = 6) -> list[tuple[str, str]]:
    """One quote for each of the largest themes, never the same suggestion twice (themes share
    answers, so their first quotes often coincide)."""
    shown: list[tuple[str, str]] = []
    for theme in themes:
        quote = next((q for q in theme.get("quotes") or () if q not in {s for _, s in shown}), None)
        if quote:
            shown.append((str(theme.get("keyword", "")), str(quote)))
        if len(shown) == limit:
            break
    return shown


def _environment(translations: NullTranslations) -> Environment:
    env = Environment(
        loader=PackageLoader("exporters", "templates"),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["pct"] = _pct
    env.filters["svg_data_uri"] = _svg_data_uri
    env.filters["num"] = _num
    env.filters["signed"] = _signed
    return env


def _svg_data_uri(svg: str) -> str:
    """The chart as an image source. An `<img>` keeps the SVG a document of its own: WeasyPrint
    then reads it with its SVG parser only, instead of also running the page's CSS cascade over
    every chart node (slower, and a log warning per SVG presentation property)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value:.{digits}f}%"


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def campaign_facts(
    session: Session,
    campaign: Campaign,
    *,
    audience: str = "staff",
    suppression_threshold: int | None = None,
    generated_on: date | None = None,
) -> ReportFacts:
    """The cover and methods facts of a stored campaign: dates, channels, fieldwork period."""
    by_channel = session.execute(
        select(Response.channel, func.count())
        .where(Response.campaign_id == campaign.id)
        .group_by(Response.channel)
        .order_by(func.count().desc())
    ).all()
    first, last = session.execute(
        select(func.min(Response.submitted_at), func.max(Response.submitted_at)).where(
            Response.campaign_id == campaign.id
        )
    ).one()
    report_settings = (campaign.settings or {}).get("report") or {}
    zone = campaign.timezone
    gettext = report_translations(str(current_app.config["DEFAULT_LOCALE"])).gettext
    return ReportFacts(
        title=dict(campaign.title),
        theme=campaign.theme,
        description=dict(campaign.description or {}),
        subtitle=str(report_settings.get("subtitle") or ""),
        starts_on=campaign.starts_on,
        ends_on=campaign.ends_on,
        first_response=local_date(first, zone) if first else None,
        last_response=local_date(last, zone) if last else None,
        channels={str(channel): int(n) for channel, n in by_channel},
        n_received=sum(int(n) for _, n in by_channel),
        generated_on=generated_on or local_date(utcnow(), zone),
        audience=audience,
        suppression_threshold=suppression_threshold if audience == "department" else None,
        timezone=zone,
        settings=dict(campaign.settings or {}),
        issuer=str(
            report_settings.get("issuer") or gettext("People's Suggestion Collection Office")
        ),
        classification=str(report_settings.get("classification") or gettext("Internal")),
    )


def report_segments(form: Form, campaign: Campaign) -> tuple[str, ...]:
    """What the report breaks results down by: the campaign file's ``settings.report.segments``,
    else the profile questions (single choice, not a rating, 2 to 12 choices: district, age
    group, main mode) and the collection channel. Their crosstabs, with Benjamini-Hochberg
    control over all of them, feed the differences between groups."""
    declared = ((campaign.settings or {}).get("report") or {}).get("segments")
    if isinstance(declared, list):
        return tuple(str(name) for name in declared)
    profile = [
        q.name
        for q in form.questions()
        if q.type == "select_one"
        and rating_scores(form, q) is None
        and 2 <= len(form.choices_for(q)) <= MAX_SEGMENT_CHOICES
    ]
    return (*profile, "channel")


def render_campaign_report(
    session: Session,
    campaign: Campaign,
    out_dir: Path | str,
    *,
    audience: str = "staff",
    filename: str | None = None,
    language: str | None = None,
    progress: Progress | None = None,
    version: str = "1",
    pdf_variant: str | None = PDF_VARIANT,
    viewer: User | None = None,
) -> Path:
    """Summarise `campaign`, render its report and write it to `out_dir`; return the file.

    ``version`` is printed on the cover and recorded in the PDF's metadata with the data
    snapshot and the software version; ``pdf_variant`` is as in `html_to_pdf`. The adopted
    recommendations shown are those ``viewer`` (who asked for the report) may see; without a
    viewer the follow-up of recommendations is left out.

    A department-facing report (`audience="department"`) has every cell below the configured
    SUPPRESSION_THRESHOLD suppressed before anything is drawn. The file appears complete or not
    at all (written to a temporary name, then renamed). Raises `FontMissingError` before any
    work when the CJK font is not installed. `progress(fraction, step)` is called after each
    step, for a job row the organizer page shows.
    """
    report_progress = progress or (lambda _fraction, _step: None)
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {', '.join(AUDIENCES)}")
    if pdf_variant is not None and pdf_variant not in PDF_VARIANTS:
        raise ValueError(
            f"unknown PDF variant {pdf_variant!r}; expected one of {', '.join(PDF_VARIANTS)}"
        )
    config = current_app.config
    font = find_cjk_font(str(config["CJK_FONT_FAMILY"]))
    threshold = int(config["SUPPRESSION_THRESHOLD"])
    cut_off = utcnow()
    form = campaign_form(session, campaign)
    language = language or str(config["DEFAULT_LOCALE"])
    lang = language.split("_")[0]
    gettext = report_translations(language).gettext
    segments = report_segments(form, campaign)
    # The results page's summary, counted from the same snapshot; raked to the population
    # margins when the campaign file declares them, as its exports are weighted.
    summary = summarize(
        session,
        campaign,
        segments=segments,
        snapshot_root=snapshot_root(),
        rake=bool(declared_margins(campaign)[0]),
    ).to_dict()
    report_progress(0.4, "summarised")
    facts = replace(
        campaign_facts(session, campaign, audience=audience, suppression_threshold=threshold),
        fieldwork=campaign_fieldwork(session, campaign, cut_off),
        suppression_rule=threshold,
        version=version,
        notes=question_notes(session, campaign),
        golden_ideas=golden_idea_entries(session, campaign),
        recommendations=None
        if viewer is None
        else adopted_recommendations(session, campaign, viewer, cut_off),
        questionnaire=questionnaire_items(form, lang, gettext),
        choice_labels=choice_labels(form, lang),
        segments=segments,
        margins=_single_margins(campaign),
    )
    if audience == "department":
        summary = suppress_summary(summary, threshold)
        # The total received is printed too: a lone small channel would be that total minus
        # the others, so it gets a complement like every other published table.
        channels = dict(facts.channels)
        suppress_counts(channels, threshold)
        facts = replace(facts, channels=channels)
    html = report_html(summary, facts, font, language)
    report_progress(0.6, "charts drawn")
    pdf = html_to_pdf(html, pdf_variant, report_labels(language))
    report_progress(0.95, "laid out")
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (filename or f"{campaign.slug}-report-{facts.generated_on:%Y%m%d}.pdf")
    _write_atomically(target, pdf)
    return target


def _single_margins(campaign: Campaign) -> dict[str, dict[str, float]]:
    """The campaign file's population margins of one variable each (joint margins, such as
    district x age group, have no single column in the sample profile)."""
    margins, _bounds = declared_margins(campaign)
    return {
        str(name): {str(category): float(n) for category, n in targets.items()}
        for name, targets in (margins or {}).items()
        if isinstance(name, str)
    }


def _write_atomically(target: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
