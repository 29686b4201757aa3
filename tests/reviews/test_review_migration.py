"""Migration 0022 keeps the scores stored in the old one-row-per-expert table: each scored or
nominated answer becomes a suggestion record, each score a submitted task with its first
review under a version-1 rubric, and each nomination points at its record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from minsheng.db import get_session
from minsheng.dbtool import alembic_config, upgrade

BEFORE = "0021_hand_recommendations_to_lead_and_co_handlers"


def test_upgrade_moves_old_scores_and_nominations_onto_records(
    make_app: Any, tmp_path: Path
) -> None:
    from tests.factories import CampaignFactory, UserFactory
    from tests.reviews.builders import submit_suggestions

    url = f"sqlite:///{tmp_path / 'reviews.sqlite'}"
    upgrade(url)
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "instance"))
    with app.app_context():
        session = get_session()
        campaign = CampaignFactory()
        responses = submit_suggestions(session, campaign)
        expert = UserFactory(role="expert")
        session.commit()
        ids = (campaign.id, responses[1].id, responses[2].id, expert.id)
        session.close()
        command.downgrade(alembic_config(url), BEFORE)

    engine = sa.create_engine(url)
    campaign_id, phone_response, other_response, expert_id = ids
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO suggestion_scores (campaign_id, response_id, question_name, "
                "expert_id, authenticity, cause, feasibility, comment, created_at, updated_at) "
                "VALUES (:c, :r, 'suggestion', :e, 1, 4, 4, '旧评分', '2026-11-30 08:00:00', "
                "'2026-11-30 09:00:00')"
            ),
            {"c": campaign_id, "r": phone_response, "e": expert_id},
        )
        conn.execute(
            sa.text(
                "INSERT INTO nominations (campaign_id, response_id, question_name, reason, "
                "created_at) VALUES (:c, :r, 'suggestion', '推荐', '2026-11-30 10:00:00')"
            ),
            {"c": campaign_id, "r": other_response},
        )
    engine.dispose()
    upgrade(url)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        records = conn.execute(
            sa.text(
                "SELECT s.id, s.text, src.response_id FROM suggestions s "
                "JOIN suggestion_sources src ON src.suggestion_id = s.id ORDER BY s.id"
            )
        ).all()
        review = conn.execute(
            sa.text(
                "SELECT r.suggestion_id, r.version, r.total, r.gated, r.comment, t.status, "
                "ru.version FROM reviews r JOIN review_tasks t ON t.id = r.task_id "
                "JOIN rubrics ru ON ru.id = r.rubric_id"
            )
        ).one()
        nomination = conn.execute(sa.text("SELECT suggestion_id, unit FROM nominations")).one()
        rubric = conn.execute(sa.text("SELECT rubric_id FROM review_rounds")).scalar()
    engine.dispose()
    by_response = {response_id: (sid, text) for sid, text, response_id in records}
    assert set(by_response) == {phone_response, other_response}
    assert "13812345678" not in by_response[phone_response][1]
    assert "138****5678" in by_response[phone_response][1]
    assert review[0] == by_response[phone_response][0]
    assert review[1:] == (1, 3.0, 1, "旧评分", "submitted", 1)
    assert nomination == (by_response[other_response][0], "organizer")
    assert rubric is not None
