"""Bad input as data: `Problem`s gathered into one `InputError`, free of Flask so the pure
layers (the questionnaire definition, the statistics) can raise it; `minsheng.errors` renders it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """Where the input is wrong (`file.yaml:12`, `row 17, column phone`, a field name) and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class InputError(Exception):
    """Bad input with every problem found, never just the first one.

    Pages and the API answer `http_status` (422; a subclass refused by the stored state, such as
    a locked questionnaire version, says 409); the CLI exits with status 2.
    """

    http_status = 422

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def to_json(self) -> dict[str, list[dict[str, str]]]:
        """The API's 422 body: `{"errors": [{"location": ..., "message": ...}]}`."""
        return {"errors": [asdict(p) for p in self.problems]}

    def by_location(self) -> dict[str, list[str]]:
        """Messages grouped by location, for showing each under its form field."""
        grouped: dict[str, list[str]] = {}
        for problem in self.problems:
            grouped.setdefault(problem.location, []).append(problem.message)
        return grouped


class TooLargeError(InputError):
    """Input over a size limit (bytes, rows, a cell's length, a workbook's unzipped size): pages
    and the API answer 413 Content Too Large, with the limit named in each problem."""

    http_status = 413
