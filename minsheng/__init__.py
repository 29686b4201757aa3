"""minsheng (民声 → 民生): themed survey campaigns for people's-suggestion collection."""

__version__ = "0.1.0"


def create_app(overrides: object = None) -> object:  # pragma: no cover - thin re-export
    """See `minsheng.app.create_app`; imported lazily so `import minsheng.db` stays light."""
    from minsheng.app import create_app as _create_app

    return _create_app(overrides)  # type: ignore[arg-type]
