"""``DatasetValidationError``: the error an invalid dataset raises, with its report.

It lives next to the report it carries, so the core's exception module needs nothing from
validation (``ftbridge._exceptions`` is imported by validation, never the other way round).
"""

from __future__ import annotations

from .._exceptions import DatasetError
from ._report import ValidationReport


class DatasetValidationError(DatasetError):
    """The dataset has errors; ``.report`` holds every finding."""

    def __init__(self, message: str, report: ValidationReport) -> None:
        super().__init__(message)
        self.report = report
