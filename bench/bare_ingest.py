"""The baseline for bench/ingest.py: a bare Flask + WTForms endpoint that validates the same
20 questions with plain WTForms validators and stores each response with one INSERT.

It is what a hand-written form handler costs; minsheng's ingest is compared against it.
Run by the benchmark under gunicorn as `bare_ingest:create_app()` with BARE_DATABASE_URL set.
"""

from __future__ import annotations

import json
import os
from typing import Any

from flask import Flask, render_template_string, request
from flask_wtf import FlaskForm
from sqlalchemy import create_engine, text
from wtforms import (
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

SCALE = [(str(i), str(i)) for i in range(1, 6)]
DISTRICTS = [(d, d) for d in ("jinjiang", "qingyang", "jinniu", "wuhou", "chenghua")]
MODES = [(m, m) for m in ("metro", "bus", "car", "ebike", "bike", "walk", "taxi")]
PROBLEMS = [(p, p) for p in ("congestion", "parking", "bus_frequency", "last_mile", "safety")]
YES_NO = [("yes", "yes"), ("no", "no")]
NPS = [(str(i), str(i)) for i in range(11)]

CREATE = """
CREATE TABLE IF NOT EXISTS bare_responses (
    id BIGSERIAL PRIMARY KEY,
    submission_id VARCHAR(64) NOT NULL UNIQUE,
    submitted_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    answers JSONB NOT NULL
)
"""


class BareForm(FlaskForm):
    submission_id = HiddenField(validators=[DataRequired(), Length(8, 64)])
    district = RadioField(choices=DISTRICTS, validators=[InputRequired()])
    age = IntegerField(validators=[InputRequired(), NumberRange(16, 110)])
    mode = RadioField(choices=MODES, validators=[InputRequired()])
    minutes = IntegerField(validators=[InputRequired(), NumberRange(0, 300)])
    problems = SelectMultipleField(choices=PROBLEMS, validators=[InputRequired()])
    sat_bus = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_metro = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_parking = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_walk = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_bike = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_taxi = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_roads = RadioField(choices=SCALE, validators=[InputRequired()])
    sat_info = RadioField(choices=SCALE, validators=[InputRequired()])
    nps = RadioField(choices=NPS, validators=[InputRequired()])
    owns_car = RadioField(choices=YES_NO, validators=[InputRequired()])
    spend = DecimalField(validators=[Optional(), NumberRange(0, 10000)])
    last_trip = DateField(validators=[Optional()])
    title = StringField(validators=[Optional(), Length(max=100)])
    suggestion = TextAreaField(validators=[Optional(), Length(max=500)])
    contact_ok = RadioField(choices=YES_NO, validators=[InputRequired()])


# What a hand-written form page does: each field with its label and its errors, shown again with
# the errors when the post is invalid.
PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>bare</title></head>
<body><form method="post">{{ form.csrf_token }}{% for f in form if f.name != "csrf_token" %}
<div>{{ f.label }} {{ f() }}{% for e in f.errors %}<p class="error">{{ e }}</p>{% endfor %}</div>
{% endfor %}<button type="submit">提交</button></form></body></html>"""


def create_table(url: str) -> None:
    """Run once before the workers start (concurrent CREATE TABLE IF NOT EXISTS can collide)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(CREATE))
    engine.dispose()


def create_app() -> Flask:
    app = Flask("bare_ingest")
    app.config["SECRET_KEY"] = os.environ.get("BARE_SECRET_KEY", "bench-secret")
    app.config["WTF_CSRF_TIME_LIMIT"] = None
    engine = create_engine(os.environ["BARE_DATABASE_URL"], pool_size=10, max_overflow=20)
    insert = text(
        "INSERT INTO bare_responses (submission_id, answers) VALUES (:sid, CAST(:answers AS JSONB))"
        " ON CONFLICT (submission_id) DO NOTHING"
    )

    @app.route("/bare", methods=["GET", "POST"])
    def bare() -> Any:
        form = BareForm()
        if request.method == "GET":
            return render_template_string(PAGE, form=form)
        if not form.validate():
            return render_template_string(PAGE, form=form), 422
        answers = {
            name: (str(f.data) if f.data is not None else None)
            for name, f in form._fields.items()
            if name not in ("csrf_token", "submission_id")
        }
        with engine.begin() as conn:
            conn.execute(insert, {"sid": form.submission_id.data, "answers": json.dumps(answers)})
        return "", 302, {"Location": "/bare/thanks"}

    return app
