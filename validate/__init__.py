"""Schema validation with frictionless's rules and report shape, vectorised per column (see validator.py)."""

from .files import read_csv_batches, validate_file
from .report import Report, ReportError
from .validator import Validator

__all__ = ["Report", "ReportError", "Validator", "read_csv_batches", "validate_file"]
