"""Excel 97-2003 .xls files go through xlrd; a damaged one is refused with its name."""

import pytest

from core.errors import InputError
from ingest import read_table


def test_damaged_xls_is_refused_with_file_name(tmp_path, site_schema):
    pytest.importorskip("xlrd")
    path = tmp_path / "old.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "broken-xls" and e.value.context["file"] == str(path)


def test_xls_renamed_xlsx_gets_its_own_message(tmp_path, site_schema):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "xls-not-xlsx"
