"""Alembic driven from Python: `upgrade()`, `current_heads()`, `check()`, and `revision()` for
developers (`python -m minsheng.dbtool revision "add invitations table"`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """Alembic config for the packaged migrations; `url` defaults to the app's DATABASE_URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.set_main_option("file_template", "%%(rev)s")
    if url is None:
        from minsheng.config import load_settings

        url = load_settings()["DATABASE_URL"]
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at `url` to `revision` (creating every table on a new database)."""
    command.upgrade(alembic_config(url), revision)


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def check(url: str | None = None) -> None:
    """Fail when the models and the migrations disagree (`alembic check`)."""
    command.check(alembic_config(url))


def revision(message: str, url: str) -> None:
    """Autogenerate a revision named `NNNN_<slug>` against a database upgraded to head."""
    upgrade(url)
    script = ScriptDirectory.from_config(alembic_config(url))
    number = len(list(script.walk_revisions())) + 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")[:40]
    command.revision(
        alembic_config(url),
        message=message,
        autogenerate=True,
        rev_id=f"{number:04d}_{slug}",
    )


def main(argv: list[str]) -> int:
    if len(argv) >= 1 and argv[0] == "heads":
        print("\n".join(heads()))
        return 0
    if len(argv) == 2 and argv[0] == "revision":
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            revision(argv[1], f"sqlite:///{tmp}/rev.sqlite")
        return 0
    print('usage: python -m minsheng.dbtool heads | revision "message"', file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
