import pytest

from ingest.normalise.booleans import parse_boolean


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Có", "true"),
        ("có", "true"),
        ("CO", "true"),
        ("x", "true"),
        ("X", "true"),
        ("yes", "true"),
        ("Đúng", "true"),
        ("đúng", "true"),
        ("1", "true"),
        ("true", "true"),
        ("\u2713", "true"),
        ("Không", "false"),
        ("khong", "false"),
        ("no", "false"),
        ("Sai", "false"),
        ("0", "false"),
        ("FALSE", "false"),
        ("Chưa", "false"),
        ("cỏ", None),  # grass, not "có"
        ("có thể", None),
        ("2", None),
    ],
)
def test_yes_no_words_become_true_false(raw, expected):
    assert parse_boolean(raw) == expected
