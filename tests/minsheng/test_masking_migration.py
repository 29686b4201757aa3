"""Migration 0017 masks personal data in rows stored before masking existed: a recommendation's
copied text and its public feedback, and an evaluation's comment, written verbatim as the old
code did, hold no phone number or e-mail address after the upgrade; masked text stays as it is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command

from minsheng.db import get_session
from minsheng.dbtool import alembic_config, upgrade
from recommendations.models import Evaluation

BEFORE = "0016_give_campaigns_an_owner_and_co_organizers"
RAW = "市民王先生（13812345678，wang.li@example.com）建议末班车延后。"


def test_upgrade_masks_what_was_stored_verbatim(make_app: Any, tmp_path: Path) -> None:
    from tests.factories import RecommendationFactory

    url = f"sqlite:///{tmp_path / 'mask.sqlite'}"
    upgrade(url)
    app = make_app(DATABASE_URL=url, INSTANCE_PATH=str(tmp_path / "instance"))
    with app.app_context():
        session = get_session()
        recommendation = RecommendationFactory()
        already = RecommendationFactory(text="已处理：138****5678")
        session.flush()
        # As the code before masking stored them.
        recommendation.text = RAW
        recommendation.public_feedback = "已回复 +86 139 1234 5678"
        session.add(
            Evaluation(
                recommendation_id=recommendation.id, rater="suggester", satisfaction=4, comment=RAW
            )
        )
        session.commit()
        ids = (recommendation.id, already.id)
        session.close()
        command.downgrade(alembic_config(url), BEFORE)
        upgrade(url)

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        texts = dict(conn.execute(sa.text("SELECT id, text FROM recommendations")).all())
        feedback = conn.execute(
            sa.text("SELECT public_feedback FROM recommendations WHERE id = :id"), {"id": ids[0]}
        ).scalar_one()
        comment = conn.execute(sa.text("SELECT comment FROM recommendation_evaluations")).scalar()
    engine.dispose()
    for text in (texts[ids[0]], feedback, comment):
        assert "12345678" not in text and "1234 5678" not in text and "wang.li" not in text
    assert texts[ids[0]].startswith("市民王先生（138****5678")
    assert texts[ids[1]] == "已处理：138****5678"


def test_an_evaluation_comment_is_stored_masked(session: Any) -> None:
    from recommendations.feedback import evaluate
    from tests.factories import RecommendationFactory

    recommendation = RecommendationFactory()
    recommendation.status = "feedback_given"  # the loop's earlier steps are not the point here
    session.flush()
    evaluation = evaluate(session, recommendation, 5, "suggester", comment=RAW)
    assert "13812345678" not in evaluation.comment and "138****5678" in evaluation.comment
