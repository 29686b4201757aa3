"""Errors raised by the statistics in `analysis` on bad input: `InputError`s of `Problem`s like
every other stage's (422 on a page or the API, exit status 2 on the CLI), one subclass per kind,
each carrying every problem found (not just the first) with what came in and what is allowed."""

from __future__ import annotations

from collections.abc import Sequence

from minsheng.problems import InputError, Problem


class AnalysisError(InputError):
    """Base class of every error raised by `analysis` on bad input; `str(error)` joins the
    problems, one per line."""


class UnknownOptionError(AnalysisError, ValueError):
    """An option (method name, alpha, bounds) is outside what the function accepts."""

    @classmethod
    def for_choice(cls, option: str, value: object, allowed: Sequence[str]) -> UnknownOptionError:
        expected = ", ".join(allowed)
        return cls([Problem(option, f"unknown value {value!r}; expected one of {expected}")])


class UnknownVariableError(AnalysisError, KeyError):
    """A column named in the call is not in the data frame."""

    def __str__(self) -> str:  # KeyError would otherwise print the repr of the message
        return Exception.__str__(self)


class MarginError(AnalysisError):
    """Population margins for weighting do not fit the sample (missing or extra categories,
    totals that differ between margins, negative targets, missing values in the sample)."""


class DesignError(AnalysisError):
    """The declared sampling design cannot give a variance (for example a stratum with a single
    primary sampling unit, or an inconsistent finite population correction)."""


def check_alpha(alpha: float) -> None:
    """Refuse a significance level outside the open interval (0, 1)."""
    if not 0.0 < alpha < 1.0:
        raise UnknownOptionError(
            [Problem("alpha", f"got {alpha!r}; alpha must be in (0, 1), bounds excluded")]
        )


def check_columns(frame_columns: Sequence[object], names: Sequence[str]) -> None:
    """Raise `UnknownVariableError` listing every name that is not a column of the frame."""
    known = set(frame_columns)
    missing = [name for name in names if name not in known]
    if missing:
        listed = [str(c) for c in frame_columns]
        more = f" and {len(listed) - 30} more" if len(listed) > 30 else ""
        columns = ", ".join(listed[:30]) + more
        raise UnknownVariableError(
            [
                Problem(
                    f"variable `{name}`",
                    f"not a column of the data; columns are {columns}",
                )
                for name in missing
            ]
        )


class UnknownCategoryError(AnalysisError):
    """Answers hold values that are not among the categories the caller declared."""


class WeightError(AnalysisError):
    """Weights are missing, negative, not finite or not aligned with the answers."""
