"""Small-cell suppression with complementary suppression, on the summary departments see."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from analysis.errors import UnknownOptionError
from analysis.frames import answers_frame
from analysis.summary import summarize_frame
from analysis.suppression import protected_cells, suppress_summary
from campaigns.definition import read_campaign_file

from .conftest import EXAMPLE, add_responses


def differencing_attack(counts, lines, hidden):
    """What a reader recovers from published line totals by repeated differencing."""
    known = {i: counts[i] for i in range(len(counts)) if not hidden[i]}
    progress = True
    while progress:
        progress = False
        for line in lines:
            unknown = [i for i in line if i not in known]
            if len(unknown) == 1:
                total = sum(counts[i] for i in line)
                known[unknown[0]] = total - sum(known[i] for i in line if i != unknown[0])
                progress = True
    return {i for i in range(len(counts)) if hidden[i] and i in known}


def grid_lines(rows, cols):
    lines = [list(range(r * cols, (r + 1) * cols)) for r in range(rows)]
    return lines + [list(range(c, rows * cols, cols)) for c in range(cols)]


def test_one_small_cell_takes_the_smallest_other_cell_with_it():
    hidden = protected_cells([2, 40, 9, 0, 30], [range(5)], 5)
    assert hidden.tolist() == [True, False, True, False, False]


def test_two_small_cells_still_need_a_total_of_at_least_the_threshold():
    hidden = protected_cells([1, 1, 0, 12, 30], [range(5)], 5)
    assert hidden.tolist() == [True, True, False, True, False]


def test_no_small_cells_means_nothing_hidden():
    assert not protected_cells([0, 5, 12], [range(3)], 5).any()


def test_crosstab_suppression_resists_differencing_on_random_tables():
    rng = random.Random(11)
    for _ in range(200):
        rows, cols = rng.randint(2, 5), rng.randint(2, 6)
        counts = [rng.choice([0, 1, 2, 3, 4, 6, 9, 15, 40]) for _ in range(rows * cols)]
        lines = grid_lines(rows, cols)
        hidden = protected_cells(counts, lines, 5)
        for i, count in enumerate(counts):
            if 0 < count < 5:
                assert hidden[i]
        assert differencing_attack(counts, lines, hidden) == set()
        for line in lines:
            shut = [i for i in line if hidden[i]]
            assert not shut or len(shut) >= 2


def test_threshold_must_be_a_positive_integer():
    with pytest.raises(UnknownOptionError, match="threshold"):
        suppress_summary({"questions": []}, threshold=0)


@pytest.fixture(scope="module")
def form():
    return read_campaign_file(EXAMPLE).form


def small_summary(form, segments=()):
    rng = random.Random(2)
    answers = []
    for i in range(60):
        answers.append(
            {
                "district": "wuhou" if i < 40 else ("pidu" if i < 57 else "xindu"),
                "age_group": rng.choice(["a18_29", "a30_44"]),
                "sat_bus": "5" if i < 2 else rng.choice(["2", "3", "4"]),
                "problems": ["parking"] if i < 58 else ["parking", "safety"],
            }
        )
    frame = answers_frame(answers, form)
    return summarize_frame(frame, form, segments=segments)


def test_department_summary_hides_small_cells_and_their_complements(form):
    summary = small_summary(form)
    data = suppress_summary(summary, 5)
    district = next(q for q in data["questions"] if q["name"] == "district")
    by_name = {r["name"]: r for r in district["rows"]}
    assert by_name["xindu"]["count"] is None and by_name["xindu"]["suppressed"]
    assert by_name["xindu"]["percent"] is None and by_name["xindu"]["ci_low"] is None
    assert by_name["pidu"]["count"] is None  # the complement: smallest other non-zero cell
    assert by_name["wuhou"]["count"] == 40 and not by_name["wuhou"]["suppressed"]
    assert by_name["jinjiang"]["count"] == 0
    assert data["suppression"]["threshold"] == 5
    # The staff summary is untouched.
    staff = summary.question("district")
    assert next(r for r in staff.rows if r.name == "xindu").count == 3


def test_rating_with_a_small_cell_loses_its_mean_but_keeps_a_safe_top_box(form):
    data = suppress_summary(small_summary(form), 5)
    sat = next(q for q in data["questions"] if q["name"] == "sat_bus")
    five = next(r for r in sat["rows"] if r["name"] == "5")
    four = next(r for r in sat["rows"] if r["name"] == "4")
    assert five["suppressed"] and four["suppressed"]  # the top box is a published total
    assert sat["mean"] is None
    assert sat["top_box"] is not None and sat["top_box"]["estimate"] > 0


def test_multiple_choice_option_nearly_everyone_chose_is_suppressed(form):
    data = suppress_summary(small_summary(form), 5)
    problems = next(q for q in data["questions"] if q["name"] == "problems")
    by_name = {r["name"]: r for r in problems["rows"]}
    # 58 of 60 chose parking only and 2 chose safety too: "parking" leaves 0 out, safety has 2.
    assert by_name["safety"]["count"] is None and by_name["safety"]["percent_of_mentions"] is None
    assert by_name["parking"]["count"] is None  # complement on the mentions total
    assert by_name["congestion"]["count"] == 0


def test_crosstab_cells_and_small_column_totals_are_suppressed(form):
    data = suppress_summary(small_summary(form, segments=("district",)), 5)
    table = next(t for t in data["crosstabs"]["tables"] if t["row_variable"] == "age_group")
    columns = table["column_categories"]
    xindu = columns.index("xindu")
    assert table["column_n"][xindu] is None
    for r, row in enumerate(table["counts"]):
        for c, value in enumerate(row):
            if table["suppressed"][r][c]:
                assert value is None and table["column_percents"][r][c] is None
    assert all(table["suppressed"][r][xindu] for r in range(2))
    staff = small_summary(form, segments=("district",))
    original = next(t for t in staff.crosstabs.tables if t.row_variable == "age_group")
    counts = [c for row in original.counts for c in row]
    hidden = [h for row in table["suppressed"] for h in row]
    lines = grid_lines(len(original.counts), len(columns))
    assert differencing_attack(counts, lines, hidden) == set()


def test_numeric_extremes_are_never_shown_to_departments():
    summary = {
        "questions": [
            {
                "name": "age",
                "kind": "numeric",
                "n_base": 100,
                "rows": [],
                "numeric": {"minimum": 18.0, "maximum": 97.0, "median": 40.0, "mean": {}},
            }
        ]
    }
    question = suppress_summary(summary)["questions"][0]
    assert question["numeric"]["minimum"] is None and question["numeric"]["maximum"] is None
    assert question["numeric"]["median"] == 40.0


def test_department_user_sees_suppressed_results_page(client, login, session, campaign, app):
    answers = [
        {
            "district": "wuhou" if i < 30 else "xindu",
            "age_group": "a18_29",
            "commute_mode": "bus",
            "commute_time": "lt15",
            "problems": ["parking"],
            "sat_bus": "3",
            "sat_metro": "4",
            "sat_parking": "2",
        }
        for i in range(32)
    ]
    add_responses(session, campaign, answers)
    session.commit()
    login("department", department_code=campaign.departments[0].code)
    text = client.get(f"/campaigns/{campaign.slug}/results").get_data(as_text=True)
    assert "已隐去" in text and 'class="suppressed"' in text
    data = client.get(f"/api/v1/campaigns/{campaign.slug}/summary").get_json()
    district = next(q for q in data["questions"] if q["name"] == "district")
    assert next(r for r in district["rows"] if r["name"] == "xindu")["count"] is None
    assert data["suppression"]["threshold"] == app.config["SUPPRESSION_THRESHOLD"]


def test_organizer_sees_every_count(client, login, session, campaign):
    add_responses(
        session,
        campaign,
        [
            {
                "district": "xindu",
                "age_group": "a18_29",
                "commute_mode": "bus",
                "commute_time": "lt15",
                "problems": ["parking"],
                "sat_bus": "3",
                "sat_metro": "4",
                "sat_parking": "2",
            }
        ],
    )
    session.commit()
    login("organizer")
    data = client.get(f"/api/v1/campaigns/{campaign.slug}/summary").get_json()
    district = next(q for q in data["questions"] if q["name"] == "district")
    assert next(r for r in district["rows"] if r["name"] == "xindu")["count"] == 1
    assert "suppression" not in data


def test_threshold_comes_from_configuration(client, login, session, campaign, app, monkeypatch):
    monkeypatch.setitem(app.config, "SUPPRESSION_THRESHOLD", 50)
    rng = np.random.default_rng(0)
    answers = [
        {
            "district": str(rng.choice(["wuhou", "pidu"])),
            "age_group": "a18_29",
            "commute_mode": "bus",
            "commute_time": "lt15",
            "problems": ["parking"],
            "sat_bus": "3",
            "sat_metro": "4",
            "sat_parking": "2",
        }
        for _ in range(40)
    ]
    add_responses(session, campaign, answers)
    session.commit()
    login("department", department_code=campaign.departments[0].code)
    data = client.get(f"/api/v1/campaigns/{campaign.slug}/summary").get_json()
    assert data["suppression"]["threshold"] == 50
    district = next(q for q in data["questions"] if q["name"] == "district")
    assert all(r["count"] is None for r in district["rows"])


def test_lines_are_checked_together_until_stable():
    counts = [3, 10, 10, 10, 2, 10, 10, 10, 10]
    lines = grid_lines(3, 3)
    hidden = protected_cells(counts, lines, 5)
    for line in lines:
        shut = [i for i in line if hidden[i]]
        assert not shut or (len(shut) >= 2 and sum(counts[i] for i in shut) >= 5)
    assert differencing_attack(counts, lines, hidden) == set()
    assert list(itertools.compress(range(9), hidden))[:2] == [0, 1]


def test_a_channel_with_few_responses_is_hidden_with_a_complement():
    summary = {"n_responses": 110, "responses_by": {"channel": {"web": 70, "qr": 37, "api": 3}}}
    hidden = suppress_summary(summary, 5)
    assert hidden["responses_by"]["channel"] == {"web": 70, "qr": None, "api": None}
    assert summary["responses_by"]["channel"]["api"] == 3  # the staff summary is unchanged
    assert hidden["suppression"]["cells_suppressed"] == 2
