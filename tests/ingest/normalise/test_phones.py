import pytest

from ingest.normalise.phones import normalise_phone


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0251 3822 123", "02513822123"),
        ("0251.3822.123", "02513822123"),
        ("(0251) 3822-123", "02513822123"),
        ("+84 909 123 456", "0909123456"),
        ("84909123456", "0909123456"),
        ("+84 251 3822 123", "02513822123"),
        ("0909 123 456", "0909123456"),
        ("909123456", "0909123456"),  # Excel dropped the leading zero
        ("2513822123", "02513822123"),
        ("613822123", "02513822123"),  # Excel dropped the 0 of Đồng Nai's pre-2017 area code
        ("99-1234567", None),  # typed as text: no 0 was lost, a digit is missing
        ("909 123 456", None),
        ("123456789", None),  # "0123456789" is no Vietnamese number
        ("0251 382 21", None),  # a digit short
        ("(061) 3822 123", "02513822123"),  # Đồng Nai before 2017
        ("0651 3879 123", "02713879123"),  # Bình Phước before 2017
        ("01689 123 456", "0389123456"),  # 11-digit mobile before 2018
        ("ĐT: 0909 123 456", "0909123456"),
        ("0251 3822 123 - 0909 123 456", "02513822123; 0909123456"),
        ("0909123456 / 0909123456", "0909123456"),
        ("12345", None),
        ("liên hệ sau", None),
        ("0909 123 456 hoặc gọi ông Ba", None),
    ],
)
def test_phone_numbers_become_national_digits(raw, expected):
    assert normalise_phone(raw) == expected
