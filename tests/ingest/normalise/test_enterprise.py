import pytest

from ingest.normalise.enterprise import normalise_enterprise_code


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("3600123456", "3600123456"),
        ("3600 123 456", "3600123456"),
        ("3600123456-001", "3600123456-001"),
        ("3600123456 - 001", "3600123456-001"),
        ("3600123456001", "3600123456-001"),
        ("123456789", "0123456789"),  # Excel dropped the leading zero
        ("3600123456.0", "3600123456"),
        ("123456789012", "0123456789-012"),  # a branch code Excel stored as a number
        ("36001234", None),
        ("99-1234567", None),  # typed as text with a dash: a digit is missing, no zero to put back
        ("123 456 789", None),
        ("123456789-001", None),
        ("MST 3600123456", None),
    ],
)
def test_enterprise_codes_are_10_digits_or_branch_suffix(raw, expected):
    assert normalise_enterprise_code(raw) == expected
