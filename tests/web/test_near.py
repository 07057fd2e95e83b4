"""`near=`: records within a distance, each with `distance_m`, sortable by it (API, both backends), and "near
this place" / the preview's distance column on the site."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from pyproj import Geod

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
GEOD = Geod(ellps="WGS84")


def _sample(name: str) -> list[dict[str, str]]:
    with (SAMPLES / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _metres(lat: float, lon: float, row: dict[str, str]) -> float:
    return GEOD.inv(lon, lat, float(row["lon"]), float(row["lat"]))[2]


def _around(name: str, lat: float, lon: float, radius: float) -> list[tuple[float, str, dict[str, str]]]:
    rows = [r for r in _sample(name) if r.get("lat") and r.get("lon")]
    return sorted((_metres(lat, lon, r), r["code"], r) for r in rows if _metres(lat, lon, r) <= radius)


def test_api_near_gives_distance_m_and_sorts_by_it(sample_client) -> None:  # noqa: ANN001
    site = next(s for s in _sample("heritage-sites.csv") if s["code"] == "DT-0001")
    lat, lon = float(site["lat"]), float(site["lon"])
    expected = _around("accommodation.csv", lat, lon, 20_000)
    assert len(expected) >= 3
    body = sample_client.get("/api/v1/datasets/accommodation/records",
                             query_string={"near": f"{lat},{lon},20000", "sort": "distance_m"}).get_json()
    assert "distance_m" in body["fields"]
    assert [r["code"] for r in body["records"]] == [code for _, code, _ in expected]
    for record, (metres, _, _) in zip(body["records"], expected, strict=True):
        assert abs(record["distance_m"] - metres) < 1.0  # the ellipsoid's distance on both backends
    farthest = sample_client.get("/api/v1/datasets/accommodation/records",
                                 query_string={"near": f"{lat},{lon},20000", "sort": "-distance_m", "limit": 1}).get_json()
    assert farthest["records"][0]["code"] == expected[-1][1]
    plain = sample_client.get("/api/v1/datasets/accommodation/records?limit=1").get_json()
    assert "distance_m" not in plain["records"][0]
    assert sample_client.get("/api/v1/datasets/accommodation/records?sort=distance_m").status_code == 400


def test_hotels_of_three_stars_near_this_place_sorted_by_distance(sample_client) -> None:  # noqa: ANN001
    site = next(s for s in _sample("heritage-sites.csv") if s["commune_code"] == "26041" and s["lat"])
    lat, lon = float(site["lat"]), float(site["lon"])
    record = sample_client.get(f"/datasets/heritage-sites/records/{site['code']}").get_data(as_text=True)
    nearby = record.split('id="nearby-title"', 1)[1].split("</section>", 1)[0]
    link = re.search(r'href="(/datasets/accommodation\?[^"]+)"', nearby).group(1).replace("&amp;", "&")
    assert "sort=distance_m" in link and "near=" in link and "Cơ sở lưu trú du lịch trong vòng 5 km" in nearby
    html = sample_client.get(link.split("#")[0] + "&f.star_rank__gte=3&per=100").get_data(as_text=True)
    expected = [(m, code) for m, code, r in _around("accommodation.csv", lat, lon, 5000)
                if r["star_rank"] and int(r["star_rank"]) >= 3]
    assert expected
    assert re.findall(r'records/(LT-\d{4})"', html) == [code for _, code in expected]
    assert "Trong vòng 5 km quanh" in html
    shown = re.findall(r'<td class="distance"[^>]*>([^<]+)</td>', html)
    assert len(shown) == len(expected) and all(t.endswith((" m", " km")) for t in shown)
    # the map follows the distance
    geojson = re.search(r'data-geojson="([^"]+)"', html).group(1).replace("&amp;", "&")
    features = sample_client.get(geojson).get_json()["features"]
    assert sorted(f["properties"]["key"] for f in features) == sorted(code for _, code in expected)


def test_the_curl_example_follows_the_preview(sample_client) -> None:  # noqa: ANN001
    import html as html_lib

    page = sample_client.get("/datasets/accommodation", query_string={"f.star_rank__gte": "3", "f.commune_code": "tran bien",
                                                                      "sort": "-star_rank"}).get_data(as_text=True)
    example = html_lib.unescape(re.search(r'<code id="api-example">(.*?)</code>', page, re.S).group(1))
    url = example.split("'")[1]
    assert "star_rank__gte=3" in url and "commune_code=26041" in url and "sort=-star_rank" in url and "labels=on" in url
    body = sample_client.get(url.replace("http://localhost", "")).get_json()
    hotels = [h for h in _sample("accommodation.csv")
              if h["commune_code"] == "26041" and h["star_rank"] and int(h["star_rank"]) >= 3]
    assert body["total"] == len(hotels) and all(r["commune_name"] == "Phường Trấn Biên" for r in body["records"])
