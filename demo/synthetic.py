"""Synthetic but realistic responses for any questionnaire: for the demo, benchmarks and load tests.

Answers follow the form's own types and limits, so they pass `forms.validation.validate_answers`.
Where the choice names say what a question is about (Chengdu districts, age groups, commute modes,
travel problems, satisfaction scales) the answers carry the structure a real transport survey
shows: outer districts drive more, older people take the bus, car users rate parking lowest, and
suggestions name real places, lines and remedies. Everything is drawn from one seeded generator,
so the same `seed` gives the same answers.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import insert
from sqlalchemy.orm import Session

from campaigns.models import Campaign
from forms.models import QuestionnaireVersion, Response
from forms.publishing import form_of
from forms.validation import choice_allowed, validate_answers
from minsheng.db import utcnow
from questionnaire.expressions import Context, boolean, evaluate, stored_value
from questionnaire.schema import Choice, Form, Group, Question, compiled

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Answers = dict[str, Any]

# Residents by district (millions, 2020 census), the weight of each district among respondents.
DISTRICT_WEIGHTS = {
    "jinjiang": 0.90, "qingyang": 0.96, "jinniu": 1.27, "wuhou": 1.21, "chenghua": 1.38,
    "longquanyi": 1.35, "wenjiang": 0.97, "pidu": 1.39, "shuangliu": 1.47, "xindu": 1.56,
}  # fmt: skip
CENTRAL = frozenset({"jinjiang", "qingyang", "jinniu", "wuhou", "chenghua"})
# Online questionnaires reach the young more than the old.
AGE_WEIGHTS = (0.30, 0.36, 0.22, 0.12)
MODE_WEIGHTS = {
    "metro": 0.30, "bus": 0.18, "car": 0.20, "ebike": 0.14, "bike": 0.06, "walk": 0.07,
    "taxi": 0.05,
}  # fmt: skip
# How the area and the age group shift the commute mode (multiplicative).
MODE_BY_AREA = {
    "central": {"metro": 1.4, "bus": 1.2, "walk": 1.3, "car": 0.7, "ebike": 0.8},
    "outer": {"metro": 0.7, "car": 1.5, "ebike": 1.4, "walk": 0.8},
}
MODE_BY_AGE = {
    0: {"metro": 1.3, "bike": 1.5, "taxi": 1.4, "bus": 0.8},
    1: {"car": 1.3, "metro": 1.1},
    2: {"car": 1.1, "bus": 1.2, "bike": 0.7},
    3: {"bus": 2.2, "walk": 2.0, "car": 0.5, "ebike": 0.6, "bike": 0.4, "taxi": 0.6},
}
# Typical one-way commute (index into an ordered list of time bands) by mode.
TIME_BY_MODE = {
    "walk": (6, 3, 1, 0.2), "bike": (4, 5, 1.5, 0.3), "ebike": (3, 5, 2, 0.4),
    "metro": (0.5, 3, 5, 2), "bus": (0.5, 2.5, 5, 2.5), "car": (1, 4, 4, 1.5),
    "taxi": (2, 5, 3, 0.5),
}  # fmt: skip
PROBLEM_BY_MODE = {
    "car": {"parking": 3.0, "congestion": 2.5},
    "taxi": {"congestion": 2.0, "parking": 1.3},
    "bus": {"bus_frequency": 3.0, "congestion": 1.4, "last_mile": 1.3},
    "metro": {"metro_crowding": 3.0, "last_mile": 2.0},
    "ebike": {"bike_lane": 3.0, "safety": 1.6, "sidewalk": 1.2},
    "bike": {"bike_lane": 3.0, "sidewalk": 1.4, "safety": 1.5},
    "walk": {"sidewalk": 3.0, "safety": 2.0},
}
# Satisfaction with a service (named in the question) by the respondent's own mode.
RATING_BY_MODE = {
    "metro": {"metro": 0.5, "walk": -0.1},
    "bus": {"bus": -0.3, "walk": 0.1},
    "parking": {"car": -1.1, "taxi": -0.4, "ebike": 0.3},
    "bike": {"bike": -0.4, "ebike": -0.5},
    "walk": {"walk": -0.3},
}
RATING_MEAN = {"metro": 0.6, "bus": 0.0, "parking": -0.7, "bike": -0.2, "walk": 0.1}
LONG_COMMUTE_PENALTY = -0.35

PLACES = {
    "jinjiang": ("春熙路", "太古里", "东门大桥", "牛市口", "三圣乡"),
    "qingyang": ("宽窄巷子", "人民公园", "草市街", "金沙遗址", "光华村"),
    "jinniu": ("火车北站", "茶店子客运站", "营门口", "金琴路", "九里堤"),
    "wuhou": ("高升桥", "红牌楼", "磨子桥", "玉林", "桐梓林"),
    "chenghua": ("建设路", "双桥子", "八里庄", "东郊记忆", "府青路"),
    "longquanyi": ("龙泉驿区政府", "十陵", "大面铺", "洪河", "车城大道"),
    "wenjiang": ("光华大道", "凤溪河", "温江区政府", "海科路", "公平街道"),
    "pidu": ("犀浦", "红光", "菁蓉镇", "郫筒街道", "团结镇"),
    "shuangliu": ("双流机场", "东升街道", "九江", "西航港", "棠湖公园"),
    "xindu": ("新都大道", "桂湖", "大丰", "三河场", "新都区人民医院"),
}
PLACES_ANYWHERE = ("小区门口", "学校门口", "农贸市场", "社区医院", "老旧小区", "商业综合体")
LINES = (
    "地铁1号线",
    "地铁2号线",
    "地铁3号线",
    "地铁4号线",
    "地铁7号线",
    "地铁10号线",
    "地铁18号线",
)
PROBLEMS = {
    "metro": ("早高峰车厢非常拥挤", "换乘通道太长", "站口离小区太远", "末班车时间太早"),
    "bus": ("公交班次间隔太长", "到站时间不准", "站台没有遮阳挡雨设施", "线路绕行太多"),
    "car": ("停车位严重不足", "路边违停堵住车道", "高峰期拥堵严重", "停车收费不透明"),
    "ebike": ("非机动车道被机动车占用", "电动自行车没地方停", "缺少充电设施", "路口机非混行"),
    "bike": ("共享单车乱停乱放", "非机动车道断断续续", "自行车道被占用"),
    "walk": ("人行道被占用", "过街绿灯时间太短", "缺少无障碍设施", "路灯太暗"),
    "taxi": ("高峰期打车难", "上下客点不明确", "绕路现象时有发生"),
}
REMEDIES = {
    "metro": ("增加早晚高峰班次", "在站口增设共享单车停放点", "优化换乘指引标识", "延长末班车时间"),
    "bus": ("开通社区微循环公交", "公布实时到站信息", "加密高峰班次", "增设港湾式停靠站"),
    "car": ("利用闲置地块建设立体停车场", "推行错时共享停车", "加强违停治理", "优化信号灯配时"),
    "ebike": ("施划非机动车道并设置隔离护栏", "在小区周边建设集中充电棚", "规范路口非机动车待行区"),
    "bike": ("划定共享单车停放区", "连通断头的非机动车道", "定期清理占道车辆"),
    "walk": ("延长行人绿灯时间", "清理占道经营", "增设无障碍坡道", "增设过街天桥或地下通道"),
    "taxi": ("设置规范的出租车上下客点", "加强网约车管理", "在枢纽增设候车区"),
}
TOPICS = tuple(PROBLEMS)
TEMPLATES = (
    "{place}附近{problem}，建议{remedy}。",
    "我每天坐{line}上下班，{problem}，希望{remedy}。",
    "{problem}的问题在{place}一带特别突出，能否{remedy}？",
    "建议在{place}{remedy}，{problem}已经很多年了。",
    "{place}{problem}，老人和孩子出行很不方便，请相关部门{remedy}。",
    "希望{remedy}。{place}{problem}，上班高峰尤其明显。",
)
OTHER_TEXTS = ("单位班车", "拼车", "摩托车", "轮椅", "电动滑板车")
SUGGESTION_SHARE = 1 / 3
ANSWER_OPTIONAL_SHARE = 0.93
OTHER_SHARE = 0.02
REFERENCE_DAY = date(2026, 1, 1)
RETRIES = 10


def synthetic_answers(form: Form, n: int, seed: int) -> list[Answers]:
    """`n` answer sets for `form`, reproducible by `seed`, each valid for the form.

    Choice questions whose choice names are known (districts, age groups, commute modes,
    problems, 1..k rating scales) get realistic skews and correlations; anything else gets a
    seeded skewed distribution. Required questions are always answered, optional ones by ~93 %
    of respondents, open suggestions by about a third. `select_multiple` respects
    `min_selections`/`max_selections`, text respects `max_length`, numbers their bounds. The
    form's logic is evaluated with `questionnaire.expressions`, as ingest does: hidden
    (non-relevant) questions stay unanswered, choices a `choice_filter` excludes are never picked,
    and an answer failing its `constraint` is drawn again (up to `RETRIES` times, then left out).
    A required question whose constraint no draw satisfies is the one case that can leave a row
    invalid.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    generator = _Generator(form, n, rng)
    for question in form.evaluation_order:
        generator.answer(question)
    return generator.rows


class _Generator:
    """Fills one column (question) at a time for all respondents, remembering earlier choices so
    later questions can depend on them."""

    def __init__(self, form: Form, n: int, rng: np.random.Generator) -> None:
        self.form = form
        self.n = n
        self.rng = rng
        self.rows: list[Answers] = [{} for _ in range(n)]
        # What expressions see: the answers so far plus calculated values.
        self.context: list[Answers] = [{} for _ in range(n)]
        self.parents = form.enclosing_groups()
        self.mood: Floats = rng.normal(0.0, 1.0, n)  # general satisfaction of each respondent
        self.mode: list[str | None] = [None] * n
        self.district: list[str | None] = [None] * n
        self.age: Ints = np.full(n, -1, dtype=np.int64)
        self.long_commute: npt.NDArray[np.bool_] = np.zeros(n, dtype=bool)

    def answer(self, question: Question) -> None:
        kind = question.type
        if self.n == 0 or kind == "note":
            return
        relevant = self._relevant(question)
        if kind == "calculate":
            self._calculate(question, relevant)
            return
        if question.read_only:
            for i in map(int, np.flatnonzero(relevant)):
                if question.default is not None:
                    self.context[i][question.name] = question.default
            return
        answered = self._answered(question) & relevant
        values = self._propose(question)
        alternatives: list[Sequence[Any]] = []
        for i in map(int, np.flatnonzero(answered)):
            value = values[i]
            attempt = 0
            while not self._acceptable(question, value, i):
                if attempt == RETRIES:
                    value = self._fallback(question, i)
                    break
                if len(alternatives) <= attempt:
                    alternatives.append(self._propose(question))
                value = alternatives[attempt][i]
                attempt += 1
            if value is not None and value != []:
                self.rows[i][question.name] = value
                self.context[i][question.name] = value
            if value == "other":
                self.rows[i][f"{question.name}_other"] = _pick(self.rng, OTHER_TEXTS)
        if kind == "select_one":
            names = [c.name for c in self._choices(question)]
            self._remember(names, [row.get(question.name) for row in self.rows])

    def _fallback(self, question: Question, i: int) -> Any:
        """After `RETRIES` rejected draws: for numbers, the first value of a sweep over the
        allowed range that passes (constraints such as `. < ${household}` need small values
        the skewed draws rarely give); otherwise no answer."""
        if question.type not in ("integer", "decimal", "range"):
            return None
        low, high = _bounds(question)
        sweep = np.unique(np.concatenate([np.arange(low, low + 10), np.linspace(low, high, 41)]))
        for candidate in sweep[sweep <= high]:
            value = int(candidate) if question.type != "decimal" else round(float(candidate), 2)
            if self._acceptable(question, value, i):
                return value
        return None

    def _propose(self, question: Question) -> Sequence[Any]:
        """One candidate answer per respondent (vectorised; logic is checked afterwards)."""
        kind = question.type
        if kind == "select_one":
            values: Sequence[Any] = self._select_one(question)
        elif kind in ("select_multiple", "rank"):
            values = self._select_many(question)
        elif kind in ("integer", "decimal", "range"):
            values = self._number(question)
        elif kind == "date":
            days = self.rng.integers(0, 365, self.n)
            values = [(REFERENCE_DAY - timedelta(days=int(d))).isoformat() for d in days]
        elif kind == "text":
            values = self._text(question)
        else:
            values = ["OK"] * self.n
        return values

    def _relevant(self, question: Question) -> npt.NDArray[np.bool_]:
        around: list[Question | Group] = [*self.parents.get(question.name, ()), question]
        nodes = [node for node in around if node.relevant]
        if not nodes:
            return np.ones(self.n, dtype=bool)
        return np.array(
            [
                all(self._true(node.relevant or "", self.context[i]) for node in nodes)
                for i in range(self.n)
            ]
        )

    def _true(self, expression: str, answers: Answers, current: Any = None) -> bool:
        try:
            return boolean(evaluate(compiled(expression), Context(answers, current=current)))
        except (ValueError, TypeError, ZeroDivisionError):
            return False

    def _calculate(self, question: Question, relevant: npt.NDArray[np.bool_]) -> None:
        for i in map(int, np.flatnonzero(relevant)):
            try:
                value = evaluate(compiled(question.calculation or "''"), Context(self.context[i]))
            except (ValueError, TypeError, ZeroDivisionError):
                continue
            if value != "" and not (isinstance(value, float) and not math.isfinite(value)):
                self.context[i][question.name] = stored_value(value)

    def _acceptable(self, question: Question, value: Any, i: int) -> bool:
        if value is None or value == []:
            return True
        if question.has_choices and question.choice_filter:
            chosen = value if isinstance(value, list) else [value]
            by_name = {c.name: c for c in self._choices(question)}
            for name in chosen:
                choice = by_name.get(name)
                if choice and not choice_allowed(self.form, question, choice, self.context[i]):
                    return False
        if question.constraint:
            return self._true(question.constraint, self.context[i], current=value)
        return True

    def _answered(self, question: Question) -> npt.NDArray[np.bool_]:
        if question.required:
            return np.ones(self.n, dtype=bool)
        share = SUGGESTION_SHARE if question.type == "text" else ANSWER_OPTIONAL_SHARE
        return self.rng.random(self.n) < share

    def _choices(self, question: Question) -> tuple[Choice, ...]:
        return self.form.choices_for(question)

    def _select_one(self, question: Question) -> list[str | None]:
        choices = self._choices(question)
        names = [c.name for c in choices]
        if _is_scale(names):
            picked = self._rating(question, names)
        else:
            weights = self._conditional_weights(question, names)
            picked = [names[k] for k in _sample_rows(weights, self.rng)]
        if question.or_other:
            for i in np.flatnonzero(self.rng.random(self.n) < OTHER_SHARE):
                picked[int(i)] = "other"
        return list(picked)

    def _remember(self, names: list[str], picked: list[str | None]) -> None:
        """Keep the answers later questions depend on: district, age band, mode, commute time."""
        known = set(names)
        if known <= set(DISTRICT_WEIGHTS) and len(known) >= 3:
            self.district = picked
        elif _is_age_list(names):
            self.age = np.array([names.index(p) if p in known else -1 for p in picked])
        elif len(known & set(MODE_WEIGHTS)) >= 3:
            self.mode = picked
        elif len(names) >= 3 and any(n.startswith("gt") for n in names):
            self.long_commute = np.array([p == names[-1] for p in picked])

    def _conditional_weights(self, question: Question, names: list[str]) -> Floats:
        base = _base_weights(question, names, self.rng)
        weights = np.tile(base, (self.n, 1))
        if len(set(names) & set(MODE_WEIGHTS)) >= 3:
            for i in range(self.n):
                district, age = self.district[i], int(self.age[i])
                factors: dict[str, float] = {}
                if district in DISTRICT_WEIGHTS:
                    area = MODE_BY_AREA["central" if district in CENTRAL else "outer"]
                    factors = dict(area)
                for mode, factor in MODE_BY_AGE.get(age, {}).items():
                    factors[mode] = factors.get(mode, 1.0) * factor
                for k, name in enumerate(names):
                    weights[i, k] *= factors.get(name, 1.0)
        elif len(names) == 4 and any(n.startswith("gt") for n in names):
            for i, own in enumerate(self.mode):
                if own in TIME_BY_MODE:
                    weights[i] = TIME_BY_MODE[own]
        weights *= self._filter_mask(question, names)
        return weights

    def _filter_mask(self, question: Question, names: list[str]) -> Floats:
        """Zero, per respondent, the choices the question's `choice_filter` hides."""
        mask = np.ones((self.n, len(names)))
        if not question.choice_filter:
            return mask
        choices = self._choices(question)
        for i in range(self.n):
            allowed = [choice_allowed(self.form, question, c, self.context[i]) for c in choices]
            if any(allowed):
                mask[i] = allowed
        return mask

    def _rating(self, question: Question, names: list[str]) -> list[str | None]:
        """An ordinal scale from a latent score: the respondent's mood, the rated service's
        mean, the effect of their own mode on it, and noise, cut into `len(names)` bands."""
        topic = _topic(question)
        mean = RATING_MEAN.get(topic, _stable_offset(question.name))
        by_mode = RATING_BY_MODE.get(topic, {})
        effect = np.array([by_mode.get(mode or "", 0.0) for mode in self.mode])
        latent = (
            mean
            + 0.7 * self.mood
            + effect
            + LONG_COMMUTE_PENALTY * self.long_commute
            + self.rng.normal(0.0, 0.8, self.n)
        )
        cuts = np.linspace(-1.6, 1.6, len(names) - 1)
        bands = np.searchsorted(cuts, latent)
        return [names[int(b)] for b in bands]

    def _select_many(self, question: Question) -> list[list[str]]:
        names = [c.name for c in self._choices(question)]
        k = len(names)
        base = np.tile(_base_weights(question, names, self.rng), (self.n, 1))
        for i, mode in enumerate(self.mode):
            for name, factor in PROBLEM_BY_MODE.get(mode or "", {}).items():
                if name in names:
                    base[i, names.index(name)] *= factor
        base *= self._filter_mask(question, names)
        low = max(1, int(question.parameters.get("min_selections") or 1))
        high = min(k, int(question.parameters.get("max_selections") or (k if k <= 4 else 4)))
        if question.type == "rank":
            low = high = int(question.parameters.get("max_selections") or k)
        low = min(low, high)
        sizes = np.arange(low, high + 1)
        counts = self.rng.choice(sizes, self.n, p=sizes / sizes.sum())
        # Weighted sampling without replacement: the top keys of log-weight plus Gumbel noise.
        with np.errstate(divide="ignore"):
            keys = np.log(base) + self.rng.gumbel(size=base.shape)
        order = np.argsort(-keys, axis=1)
        available = (base > 0).sum(axis=1)
        return [
            [names[int(j)] for j in order[i, : min(int(counts[i]), int(available[i]))]]
            for i in range(self.n)
        ]

    def _number(self, question: Question) -> list[int | float]:
        params = question.parameters
        low, high = _bounds(question)
        if question.type == "range":
            step = float(params.get("step", 1))
            position = 1 / (1 + np.exp(-(0.4 + 0.9 * self.mood + self.rng.normal(0, 0.6, self.n))))
            raw = low + np.round(position * (high - low) / step) * step
            return [int(v) if float(v).is_integer() else float(v) for v in raw]
        draws = low + self.rng.beta(2.0, 3.0, self.n) * (high - low)
        if question.type == "integer":
            return [int(v) for v in np.clip(np.round(draws), np.ceil(low), np.floor(high))]
        return [round(float(v), 2) for v in np.clip(draws, low, high)]

    def _text(self, question: Question) -> list[str]:
        limit = int(question.parameters.get("max_length") or 500)
        texts = []
        for i in range(self.n):
            text = _suggestion(self.rng, self.mode[i], self.district[i])
            texts.append(text[:limit])
        return texts


def _suggestion(rng: np.random.Generator, mode: str | None, district: str | None) -> str:
    """One suggestion in the words of a resident: a place, a problem of their own mode of
    travel, and a remedy, in one of several sentence shapes; sometimes two sentences."""
    topic = mode if mode in PROBLEMS else _pick(rng, TOPICS)
    places = PLACES.get(district or "", ()) + PLACES_ANYWHERE
    parts = {
        "place": _pick(rng, places),
        "line": _pick(rng, LINES),
        "problem": _pick(rng, PROBLEMS[topic]),
        "remedy": _pick(rng, REMEDIES[topic]),
    }
    text = _pick(rng, TEMPLATES).format(**parts)
    if rng.random() < 0.25:
        text += f"另外，建议{_pick(rng, REMEDIES[_pick(rng, TOPICS)])}。"
    return text


def _pick(rng: np.random.Generator, options: Sequence[str]) -> str:
    """One of `options`, uniformly (faster than `rng.choice` on a short tuple)."""
    return options[int(rng.integers(len(options)))]


def _sample_rows(weights: Floats, rng: np.random.Generator) -> Ints:
    """One column index per row, drawn with probability proportional to the row's weights."""
    cumulative = np.cumsum(weights, axis=1)
    draws = rng.random(weights.shape[0]) * cumulative[:, -1]
    picks = (cumulative < draws[:, None]).sum(axis=1)
    result: Ints = np.minimum(picks, weights.shape[1] - 1).astype(np.int64)
    return result


def _base_weights(question: Question, names: list[str], rng: np.random.Generator) -> Floats:
    if set(names) <= set(DISTRICT_WEIGHTS):
        return np.array([DISTRICT_WEIGHTS[n] for n in names])
    if _is_age_list(names) and len(names) == len(AGE_WEIGHTS):
        return np.array(AGE_WEIGHTS)
    if len(set(names) & set(MODE_WEIGHTS)) >= 3:
        return np.array([MODE_WEIGHTS.get(n, 0.03) for n in names])
    # Unknown lists: a skewed but seeded profile (some options popular, some rare).
    local = np.random.default_rng(int(hashlib.sha256(question.name.encode()).hexdigest()[:8], 16))
    return np.asarray(local.dirichlet(np.full(len(names), 1.5)) + 0.02, dtype=np.float64)


def _bounds(question: Question) -> tuple[float, float]:
    """The numeric range a question allows (`start`/`end` of a range, else `min`/`max`)."""
    params = question.parameters
    low = float(params.get("start", params.get("min", 0)))
    return low, float(params.get("end", params.get("max", low + 100)))


def _is_scale(names: Sequence[str]) -> bool:
    """Choice names 1..k (or 0..k) in order: a rating scale."""
    return (
        len(names) >= 3
        and all(n.isdigit() for n in names)
        and ([int(n) for n in names] == list(range(int(names[0]), int(names[0]) + len(names))))
    )


def _is_age_list(names: Sequence[str]) -> bool:
    return len(names) >= 3 and all(re.match(r"^a\d", n) for n in names)


def _topic(question: Question) -> str:
    for topic in RATING_MEAN:
        if topic in question.name:
            return topic
    return ""


def _stable_offset(name: str) -> float:
    return (int(hashlib.sha256(name.encode()).hexdigest()[:6], 16) / 0xFFFFFF - 0.5) * 1.0


CHANNEL_SHARES = {"web": 0.55, "qr": 0.30, "invitation": 0.15}
CHUNK = 2000


def add_synthetic_responses(
    session: Session,
    campaign: Campaign,
    version: QuestionnaireVersion,
    n: int,
    seed: int,
    *,
    first_index: int = 0,
    until: date | None = None,
) -> int:
    """Insert `n` synthetic responses to `version` in bulk; return how many were added.

    Channels mix web links, QR posters at the campaign's collection points and invitations
    (invitation responses of an anonymous campaign keep no link to the invitation, as for real
    ones); submissions spread over the campaign's dates with a daily rhythm, none after `until`
    (default: today); durations grow with the number of questions and the length of the
    suggestion. Submission ids are `synthetic-<seed>-<index>`, so `first_index` continues an
    earlier batch. Rows go in with executemany in chunks of 2,000 (20,000 rows take seconds on
    SQLite). The caller commits.
    """
    form = form_of(version)
    # Stored exactly as ingest would store them (normalised), and proven valid on the way.
    answers = [validate_answers(form, raw) for raw in synthetic_answers(form, n, seed)]
    rng = np.random.default_rng([seed, 1])
    channels = _channels(campaign, n, rng)
    points = [p.id for p in campaign.collection_points]
    groups = [g.id for g in campaign.target_groups]
    submitted = _submission_times(campaign, n, rng, until or utcnow().date())
    questions = sum(1 for q in form.questions() if q.type not in ("note", "calculate"))
    rows = []
    for i in range(n):
        text_length = sum(len(v) for v in answers[i].values() if isinstance(v, str))
        seconds = float((6.0 * questions + 1.2 * text_length) * rng.lognormal(0.0, 0.45))
        channel = channels[i]
        rows.append(
            {
                "campaign_id": campaign.id,
                "version_id": version.id,
                "submission_id": f"synthetic-{seed}-{first_index + i}",
                "invitation_id": None,
                "channel": channel,
                "collection_point_id": int(rng.choice(points)) if channel == "qr" else None,
                "target_group_id": int(rng.choice(groups)) if groups else None,
                "language": "zh_CN",
                "started_at": submitted[i] - timedelta(seconds=seconds),
                "submitted_at": submitted[i],
                "duration_seconds": round(seconds, 1),
                "answers": answers[i],
            }
        )
    for start in range(0, n, CHUNK):
        session.execute(insert(Response), rows[start : start + CHUNK])
    session.flush()
    return n


def _channels(campaign: Campaign, n: int, rng: np.random.Generator) -> list[str]:
    shares = dict(CHANNEL_SHARES)
    if not campaign.collection_points:
        shares["web"] += shares.pop("qr")
    if not campaign.anonymous:
        # A named campaign links each invited response to its invitation; none exist here.
        shares["web"] += shares.pop("invitation")
    names = list(shares)
    probabilities = np.array([shares[c] for c in names])
    return [names[k] for k in rng.choice(len(names), n, p=probabilities / probabilities.sum())]


def _submission_times(
    campaign: Campaign, n: int, rng: np.random.Generator, until: date
) -> list[datetime]:
    """Days over the campaign so far, busiest after the launch; hours following a day's rhythm
    (morning, lunch and evening peaks, Beijing time); in ascending order like real arrivals."""
    first = campaign.starts_on or until - timedelta(days=60)
    last = min(campaign.ends_on or until, until)
    span = max((last - first).days, 1)
    days = (rng.exponential(span / 2.5, n) % span).astype(int)
    hours = np.clip(rng.choice([8.5, 12.5, 20.5], n, p=[0.25, 0.3, 0.45]) + rng.normal(0, 1.6, n),
                    0, 23.99)  # fmt: skip
    beijing = timedelta(hours=8)
    times = [
        datetime.combine(first + timedelta(days=int(d)), time(0), tzinfo=UTC)
        + timedelta(hours=float(h))
        - beijing
        for d, h in zip(days, hours, strict=True)
    ]
    return sorted(times)
