"""The API answers' JSON (hub.api.answers.encode_body, orjson) says what json.dumps(default=str) said."""

from __future__ import annotations

import datetime as dt
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from hub.api.answers import encode_body

# what rows and answers hold: text (Vietnamese included), numbers, nulls, and the odd value json wrote with str()
leaves = (st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**63 - 1)
          | st.floats(allow_nan=False, allow_infinity=False) | st.text()
          | st.sampled_from(["Đình An Hòa", "di tích", "Mộ cự thạch Hàng Gòn", "\u0110\u1ed3ng Nai", ""])
          | st.dates() | st.datetimes(timezones=st.none() | st.just(dt.UTC))
          | st.decimals(allow_nan=False, allow_infinity=False, places=3))
trees = st.recursive(leaves, lambda children: st.lists(children, max_size=4)
                     | st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(trees)
def test_an_answer_reads_back_as_json_dumps_wrote_it(body: object) -> None:
    written = encode_body(body)
    assert written.endswith(b"\n")  # as flask-restx ends its bodies
    expected = json.loads(json.dumps(body, ensure_ascii=False, default=str))
    assert json.loads(written.decode("utf-8")) == expected  # dates, datetimes and decimals as str() writes them


def test_text_stays_unescaped_utf8_and_nan_becomes_null() -> None:
    written = encode_body({"name": "Đình An Hòa", "score": float("nan")})
    assert "Đình An Hòa".encode() in written  # readable, and shorter than \\u escapes
    assert json.loads(written) == {"name": "Đình An Hòa", "score": None}  # json wrote NaN, which is not JSON
