"""CSV/TSV sources: delimiters, encodings, title rows, notes rows and every kind of unreadable file."""

import pytest

from core.errors import EncodingError, HeaderError, InputError
from ingest import read_table
from ingest.legacy_codecs import encode_cp1258, encode_tcvn3, encode_vni
from ingest.readers.csv import MAX_LINE

SENTENCE = "Đình Tân Lân, Người lập biểu, Chùa Bửu Phong, Văn miếu Trấn Biên, ở Việt Nam, Ông Đỗ Ư Ơ Ă Â Ê Ô Đ"
CSV_TEXT = (
    "Tên di tích,Địa chỉ,Ngày QĐ\n"
    f'"{SENTENCE}",Phường Trấn Biên,19/11/2020\n'
    "Nhà cổ Trần Ngọc Du,Xã Bình Minh,05/03/2001\n"
)


def _rows(table):
    return [frame for frame in table.batches()]


def test_utf8_csv_is_read_with_rows_numbered_like_frictionless(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    table = read_table(path, site_schema)
    (frame,) = _rows(table)
    assert table.format == "csv" and table.encoding == "utf-8"
    assert list(frame.columns) == [f["name"] for f in site_schema["fields"]] + ["_row"]
    assert frame["name"].tolist() == [SENTENCE, "Nhà cổ Trần Ngọc Du"]
    assert frame["_row"].tolist() == [2, 3]
    assert frame["decision_date"].tolist() == ["2020-11-19", "2001-03-05"]
    assert frame["code"].tolist() == [None, None]  # a missing field is all None
    assert table.rows_read == 2


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_bom_csv_is_decoded(tmp_path, site_schema, encoding):
    path = tmp_path / "sites.csv"
    path.write_bytes(CSV_TEXT.encode(encoding))
    table = read_table(path, site_schema)
    assert table.headers[0] == "Tên di tích"
    assert _rows(table)[0]["name"][0] == SENTENCE


def test_utf16_without_bom_is_decoded(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_bytes(CSV_TEXT.encode("utf-16-le"))
    assert _rows(read_table(path, site_schema))[0]["name"][1] == "Nhà cổ Trần Ngọc Du"


@pytest.mark.parametrize(
    "encoder, codec",
    [(encode_tcvn3, "tcvn3"), (encode_vni, "vni"), (encode_cp1258, "cp1258")],
)
def test_legacy_vietnamese_csv_decodes_to_nfc_vietnamese(tmp_path, site_schema, encoder, codec):
    path = tmp_path / "sites.csv"
    path.write_bytes(encoder(CSV_TEXT))
    table = read_table(path, site_schema)
    assert table.encoding == codec
    assert table.mapping["Tên di tích"] == "name"
    frame = _rows(table)[0]
    assert frame["name"][0] == SENTENCE  # character for character, NFC
    assert frame["address"].tolist() == ["Phường Trấn Biên", "Xã Bình Minh"]


def test_tcvn3_csv_decodes_to_nfc_vietnamese(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_bytes(encode_tcvn3(CSV_TEXT))
    assert _rows(read_table(path, site_schema))[0]["name"][0] == SENTENCE


def test_encoding_argument_overrides_detection(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_bytes(encode_vni(CSV_TEXT))
    table = read_table(path, site_schema, encoding="vni")
    assert table.encoding == "vni" and _rows(table)[0]["name"][0] == SENTENCE


def test_unknown_encoding_name_is_refused_with_file_name(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_text(CSV_TEXT, encoding="utf-8")
    with pytest.raises(EncodingError) as e:
        read_table(path, site_schema, encoding="klingon-8")
    assert e.value.context["file"] == str(path)


def test_undecidable_encoding_is_refused(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_bytes("Tên di tích,Ngày QĐ\n".encode() + "東京都の寺院,2020\n".encode("shift_jis"))
    with pytest.raises(EncodingError):
        read_table(path, site_schema)


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_delimiter_is_sniffed(tmp_path, site_schema, delimiter):
    path = tmp_path / "sites.csv"
    path.write_text(
        CSV_TEXT.replace(",", delimiter).replace(f'"{SENTENCE.replace(",", delimiter)}"', '"Đình; Tân Lân"'),
        encoding="utf-8",
    )
    frame = _rows(read_table(path, site_schema))[0]
    assert frame["decision_date"].tolist() == ["2020-11-19", "2001-03-05"]


def test_tsv_extension_means_tabs(tmp_path, site_schema):
    path = tmp_path / "sites.tsv"
    path.write_text("Tên di tích\tNgày QĐ\nĐình, chùa\t1/2/2003\n", encoding="utf-8")
    frame = _rows(read_table(path, site_schema))[0]
    assert frame["name"][0] == "Đình, chùa" and frame["decision_date"][0] == "2003-02-01"


def test_quoted_fields_with_newlines_and_quotes_are_one_row(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_text('Tên di tích,Địa chỉ\n"Đình ""Tân Lân""\ndòng 2",x\nChùa,y\n', encoding="utf-8")
    frame = _rows(read_table(path, site_schema))[0]
    assert frame["name"].tolist() == ['Đình "Tân Lân" dòng 2', "Chùa"]
    assert frame["_row"].tolist() == [2, 3]


def test_title_rows_above_header_and_notes_below_are_dropped(tmp_path, site_schema):
    path = tmp_path / "sites.csv"
    path.write_text(
        "UBND TỈNH ĐỒNG NAI,,\nDANH SÁCH DI TÍCH,,\n,,\n" + CSV_TEXT + ",,\nGhi chú: số liệu tạm,,\n"
        "Người lập biểu,,Thủ trưởng đơn vị\n",
        encoding="utf-8",
    )
    table = read_table(path, site_schema)
    frame = _rows(table)[0]
    assert frame["_row"].tolist() == [5, 6]
    assert table.rows_read == 2


def test_streaming_reads_in_batches(tmp_path, site_schema):
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("Mã số,Số phòng\n")
        for i in range(2500):
            fh.write(f"DT-{i},{i}\n")
    frames = list(read_table(path, site_schema).batches(size=1000))
    assert [len(f) for f in frames] == [1000, 1000, 500]
    assert frames[2]["_row"].iloc[-1] == 2501 and frames[2]["rooms"].iloc[-1] == "2499"


def test_empty_file_is_refused_with_file_name(tmp_path, site_schema):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "empty-file" and e.value.context["file"] == str(path)


def test_whitespace_only_file_is_refused_as_empty(tmp_path, site_schema):
    path = tmp_path / "blank.csv"
    path.write_bytes(b"\n\n  \n")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "empty-file"


def test_binary_garbage_is_refused(tmp_path, site_schema):
    path = tmp_path / "photo.csv"
    path.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.context["file"] == str(path)


def test_ten_megabyte_single_line_is_refused_before_any_row(tmp_path, site_schema):
    path = tmp_path / "oneline.csv"
    path.write_bytes(b"a" * 10_000_000)
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "line-too-long" and e.value.context["row"] == 1
    assert MAX_LINE < 10_000_000


def test_long_line_later_in_file_names_its_row(tmp_path, site_schema):
    path = tmp_path / "late.csv"
    path.write_text("Tên di tích\n" + "Đình\n" * 40 + "x" * (MAX_LINE + 10) + "\n", encoding="utf-8")
    table = read_table(path, site_schema)
    with pytest.raises(InputError) as e:
        list(table.batches())
    assert e.value.context["row"] == 42


def test_no_recognisable_header_is_refused(tmp_path, site_schema):
    path = tmp_path / "other.csv"
    path.write_text("foo,bar,baz\n1,2,3\n", encoding="utf-8")
    with pytest.raises(HeaderError) as e:
        read_table(path, site_schema)
    assert e.value.context["file"] == str(path)


def test_missing_file_and_unknown_format_are_input_errors(tmp_path, site_schema):
    with pytest.raises(InputError):
        read_table(tmp_path / "nope.csv", site_schema)
    path = tmp_path / "x.docx"
    path.write_bytes(b"PK")
    with pytest.raises(InputError) as e:
        read_table(path, site_schema)
    assert e.value.code == "unsupported-format"


def test_format_argument_overrides_extension(tmp_path, site_schema):
    path = tmp_path / "export.dat"
    path.write_text(CSV_TEXT, encoding="utf-8")
    assert read_table(path, site_schema, format="csv").format == "csv"


def test_bytes_invalid_late_in_utf8_file_name_the_row(tmp_path, site_schema):
    path = tmp_path / "mixed.csv"
    body = ("Tên di tích\n" + "Đình\n" * 100_000).encode() + encode_tcvn3("Người\n")
    path.write_bytes(body)
    table = read_table(path, site_schema)
    with pytest.raises(EncodingError) as e:
        list(table.batches())
    assert e.value.context["row"] > 100_000
