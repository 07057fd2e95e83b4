"""The read side of the CKAN Action API: what harvesters, the national portal and `ckanapi dump` call.

Each action answers as CKAN's ckan/logic/action/get.py does, over our datasets (as the caller may see them,
publish.access) and the packages federated peers pushed (hub/ckan/federation.py).
"""

from __future__ import annotations

from typing import Any

from core.text import search_fold
from hub import audit
from hub.ckan import datastore, federation
from hub.ckan import organizations as orgs
from hub.ckan.errors import NotFoundError, ValidationError
from hub.ckan.registry import ACTIONS, Ctx, action, get_or_bust, not_found
from hub.ckan.search import package_search as search_packages
from hub.ckan.validation import Errors, as_bool, natural, raise_if
from publish.access import can_see_dataset
from publish.metadata import hub_id
from publish.packages import group_dict, our_packages, package_for, tag_dict

__all__ = ["all_packages", "find_package"]

CKAN_VERSION = "2.11.0"  # the CKAN whose API behaviour we follow


def all_packages(ctx: Ctx) -> list[dict[str, Any]]:
    """Our datasets and the federated packages the caller may see, built once per request."""
    if "packages" not in ctx.cache:
        ctx.cache["packages"] = our_packages(ctx.hub, ctx.viewer, ctx.base) + \
            federation.list_packages(ctx.hub, ctx.viewer, ctx.base)
    return ctx.cache["packages"]


def find_package(ctx: Ctx, key: Any) -> dict[str, Any]:
    """A package by name or id (ours first); Not Found also when the caller may not see it."""
    for ds in ctx.hub.catalog:
        if key in (ds.id, hub_id("dataset", ds.id)):
            if not can_see_dataset(ds, ctx.viewer):
                break  # hidden datasets are "not found", never "forbidden": their existence is not told
            return package_for(ctx.hub, ds, ctx.base)
    found = federation.find_package(ctx.hub, str(key), ctx.viewer, ctx.base) if isinstance(key, str) else None
    if found is None:
        raise not_found("bộ dữ liệu", "dataset", key)
    return found


def _page(items: list[Any], data: dict[str, Any], errors: Errors, limit_default: int | None = None) -> list[Any]:
    limit = natural(data.get("limit"), "limit", errors, limit_default)
    offset = natural(data.get("offset"), "offset", errors, 0) or 0
    raise_if(errors)
    return items[offset:offset + limit] if limit else items[offset:]


@action(read=True)
def status_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Thông tin về cổng / What this site is: title, description, URL, CKAN version followed, extensions."""
    site = ctx.hub.catalog.site
    title, description = site.get("title") or {}, site.get("description") or {}
    return {"site_title": title.get(ctx.lang) if isinstance(title, dict) else title,
            "site_description": description.get(ctx.lang) if isinstance(description, dict) else description,
            "site_url": ctx.base, "ckan_version": CKAN_VERSION, "error_emails_to": None,
            "locale_default": ctx.lang, "extensions": ["datastore", "dcat"]}


@action(read=True)
def site_read(ctx: Ctx, data: dict[str, Any]) -> bool:
    """Cổng có đọc được không / Whether the site may be read: always true."""
    return True


@action(read=True)
def help_show(ctx: Ctx, data: dict[str, Any]) -> str:
    """Hướng dẫn của một chức năng / The help text of an action: name."""
    name = get_or_bust(data, "name")
    if name not in ACTIONS:
        raise NotFoundError(f"Không có chức năng «{name}»", f"Action function not found: {name}")
    return ACTIONS[name].help


@action(read=True)
def package_list(ctx: Ctx, data: dict[str, Any]) -> list[str]:
    """Tên các bộ dữ liệu công khai / Names of the public datasets, sorted: limit, offset."""
    names = sorted(p["name"] for p in all_packages(ctx) if not p.get("private"))
    return _page(names, data, {})


@action(read=True)
def package_search(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Tìm bộ dữ liệu / Search datasets: q, fq, fq_list, rows, start, sort, facet.field, facet.limit,
    facet.mincount, include_private."""
    return search_packages(all_packages(ctx), data)


@action(read=True)
def package_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Một bộ dữ liệu và các tài nguyên / One dataset and its resources: id (id or name)."""
    key = data.get("id") or get_or_bust(data, "name_or_id")
    return find_package(ctx, key)


@action(read=True)
def current_package_list_with_resources(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Bộ dữ liệu mới sửa trước / Datasets with resources, most recently modified first: limit, offset."""
    errors: Errors = {}
    limit = natural(data.get("limit"), "limit", errors)
    offset = natural(data.get("offset"), "offset", errors)
    page = natural(data.get("page"), "page", errors)
    raise_if(errors)
    if offset is None and page and limit:
        offset = (page - 1) * limit
    query = {"q": "", "rows": limit, "start": offset or 0, "sort": "metadata_modified desc"}
    return search_packages(all_packages(ctx), query)["results"]


def _count(ctx: Ctx, field: str, value: str) -> int:
    return sum(1 for p in all_packages(ctx) if value in (
        [p.get("owner_org")] if field == "owner_org" else [g["name"] for g in p.get("groups", [])]))


def _list(ctx: Ctx, data: dict[str, Any], items: list[dict[str, Any]], key: str, full: Any) -> list[Any]:
    """group_list / organization_list: names, or dictionaries with all_fields."""
    errors: Errors = {}
    all_fields = as_bool(data.get("all_fields"), "all_fields", errors)
    wanted = data.get(key) or []
    wanted = wanted.split(",") if isinstance(wanted, str) else wanted
    q = search_fold(str(data.get("q") or ""))
    sort = (data.get("sort") or data.get("order_by") or "title asc").split()
    field, direction = sort[0], (sort[1] if len(sort) > 1 else "asc")
    if field == "packages":
        field, direction = "package_count", "desc"
    if field not in ("name", "title", "package_count") or direction not in ("asc", "desc"):
        raise ValidationError({"sort": [f"Cannot sort by field `{field}`"]}, f"Không sắp xếp được theo «{field}»",
                              f"Cannot sort by field `{field}`")
    chosen = [i for i in items if (not wanted or i["name"] in wanted)
              and (not q or q in search_fold(f"{i['name']} {i.get('title', '')} {i.get('description', '')}"))]
    for item in chosen:
        item["package_count"] = _count(ctx, "owner_org" if item.get("is_organization") else "groups",
                                       item["id"] if item.get("is_organization") else item["name"])
    chosen.sort(key=lambda i: i[field] if field == "package_count" else search_fold(i.get(field) or i["name"]),
                reverse=direction == "desc")
    limit_default = 25 if all_fields else 1000
    page = _page(chosen, data, errors, limit_default)
    if not all_fields:
        return [i["name"] for i in page]
    include_extras = as_bool(data.get("include_extras"), "include_extras", errors)
    return [full(i, include_extras) for i in page]


def _org_out(item: dict[str, Any], include_extras: bool = True) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k != "ours"}
    out.update(display_name=out.get("title") or out["name"], image_display_url=out.get("image_url") or "",
               num_followers=0)
    if not include_extras:
        out.pop("extras", None)
    return out


@action(read=True)
def organization_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Các đơn vị xuất bản / Organizations: sort, limit, offset, all_fields, q, organizations."""
    return _list(ctx, data, orgs.list_all(ctx.hub), "organizations", _org_out)


@action(read=True)
def organization_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Một đơn vị xuất bản / One organization: id (id or name), include_datasets."""
    key = get_or_bust(data, "id")
    found = orgs.find(ctx.hub, key)
    if found is None:
        raise not_found("đơn vị", "organization", key)
    out = _org_out(found, as_bool(data.get("include_extras"), "include_extras", {}, True))
    mine = [p for p in all_packages(ctx) if p.get("owner_org") == found["id"]]
    out["package_count"] = len(mine)
    out.update(users=[], groups=[], tags=[])
    if as_bool(data.get("include_datasets"), "include_datasets", {}):
        out["packages"] = search_packages(mine, {"rows": 10})["results"]
    return out


def _groups(ctx: Ctx) -> list[dict[str, Any]]:
    return [group_dict(ctx.hub, t, ctx.lang, full=True) for t in ctx.hub.catalog.themes]


def _group_out(item: dict[str, Any], include_extras: bool = True) -> dict[str, Any]:
    return item if include_extras else {k: v for k, v in item.items() if k != "extras"}


@action(read=True)
def group_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Các chủ đề / Themes, as CKAN groups: sort, limit, offset, all_fields, q, groups."""
    return _list(ctx, data, _groups(ctx), "groups", _group_out)


@action(read=True)
def group_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Một chủ đề / One theme, as a CKAN group: id (id or name), include_datasets."""
    key = get_or_bust(data, "id")
    found = next((g for g in _groups(ctx) if key in (g["id"], g["name"])), None)
    if found is None:
        raise not_found("chủ đề", "group", key)
    mine = [p for p in all_packages(ctx) if found["name"] in [g["name"] for g in p.get("groups", [])]]
    found["package_count"] = len(mine)
    if as_bool(data.get("include_datasets"), "include_datasets", {}):
        found["packages"] = search_packages(mine, {"rows": 1000})["results"]
    return found


@action(read=True)
def group_package_show(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Các bộ dữ liệu của một chủ đề / The datasets of a theme (a CKAN group), newest first: id (id or name),
    limit."""
    key = get_or_bust(data, "id")
    limit = data.get("limit")
    if limit not in (None, ""):
        try:
            limit = int(limit)
        except (TypeError, ValueError):
            limit = -1
        if limit < 0:
            raise ValidationError({}, "Giới hạn phải là số nguyên dương", "Limit must be a positive integer")
    found = next((g for g in _groups(ctx) if key in (g["id"], g["name"])), None)
    if found is None:
        raise not_found("chủ đề", "group", key)
    query = {"fq": f'groups:"{found["name"]}"', "rows": limit if limit not in (None, "") else 1000,
             "sort": "metadata_modified desc"}
    return search_packages(all_packages(ctx), query)["results"]


@action(read=True)
def tag_list(ctx: Ctx, data: dict[str, Any]) -> list[Any]:
    """Các từ khoá / Tags of the datasets the caller may see: query, all_fields, vocabulary_id."""
    if data.get("vocabulary_id"):
        return []  # our keywords are free tags, in no vocabulary
    wanted = search_fold(str(data.get("query") or data.get("q") or "").strip())
    names = sorted({t["name"] for p in all_packages(ctx) for t in p.get("tags", [])}, key=search_fold)
    names = [n for n in names if not wanted or wanted in search_fold(n)]
    if as_bool(data.get("all_fields"), "all_fields", {}):
        return [tag_dict(n) for n in names]
    return names


@action(read=True)
def tag_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Một từ khoá / One tag (name or id) and, with include_datasets, its public datasets: id, vocabulary_id,
    include_datasets."""
    key = get_or_bust(data, "id")
    names = {t["name"] for p in all_packages(ctx) for t in p.get("tags", [])}
    name = next((n for n in names if key in (n, tag_dict(n)["id"])), None)
    if name is None or data.get("vocabulary_id"):  # our keywords are free tags, in no vocabulary
        raise not_found("từ khoá", "tag", key)
    out = tag_dict(name)
    if as_bool(data.get("include_datasets"), "include_datasets", {}):
        public = [p for p in all_packages(ctx) if not p.get("private")]
        out["packages"] = search_packages(public, {"fq": f'tags:"{name}"', "rows": 1000})["results"]
    return out


@action(read=True)
def package_autocomplete(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Gợi ý bộ dữ liệu / Datasets whose name or title contains the words (diacritics ignored): q, limit."""
    errors: Errors = {}
    limit = natural(data.get("limit"), "limit", errors, 10)
    raise_if(errors)
    wanted = search_fold(str(get_or_bust(data, "q"))).strip()
    by_name, by_title = [], []
    for pkg in sorted(all_packages(ctx), key=lambda p: p["name"]):
        if wanted in search_fold(pkg["name"]):
            by_name.append({"name": pkg["name"], "title": pkg["title"], "match_field": "name",
                            "match_displayed": pkg["name"]})
        elif wanted in search_fold(pkg.get("title") or ""):
            by_title.append({"name": pkg["name"], "title": pkg["title"], "match_field": "title",
                             "match_displayed": f"{pkg['title']} ({pkg['name']})"})
    return (by_name + by_title)[:limit] if limit else by_name + by_title


# CKAN's roles and what they may do (ckan/authz.py ROLE_PERMISSIONS); the admin role may do everything
EDITOR_PERMISSIONS = {"read", "delete_dataset", "create_dataset", "update_dataset", "manage_group"}


@action(read=True)
def organization_list_for_user(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Đơn vị mà khoá được làm việc / Organizations the caller's key may act in, with its capacity: an admin key
    all of them (admin), a steward key those peers federated (editor; the hub's own publishers are read-only),
    anyone else none: id (the key's user name), permission, include_dataset_count."""
    user = data.get("id")
    if user and user != ctx.viewer.name:
        raise not_found("người dùng", "user", user)  # other keys' names are not told
    permission = str(data.get("permission") or "manage_group")
    if ctx.viewer.is_admin:
        chosen, capacity = orgs.list_all(ctx.hub), "admin"
    elif ctx.viewer.role == "steward" and permission in EDITOR_PERMISSIONS:
        chosen, capacity = [o for o in orgs.list_all(ctx.hub) if not o["ours"]], "editor"
    else:
        return []
    counts = as_bool(data.get("include_dataset_count"), "include_dataset_count", {})
    out = []
    for item in sorted(chosen, key=lambda o: o["name"]):
        entry = {**_org_out(item, include_extras=False), "capacity": capacity}
        if counts:
            entry["package_count"] = _count(ctx, "owner_org", item["id"])
        out.append(entry)
    return out


@action(read=True)
def resource_view_list(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Các cách xem tài nguyên / The views of a resource: id. None is configured here (the web site shows
    the data), so the list is empty for every resource the caller may see."""
    resource_show(ctx, data)  # Not Found as resource_show says it
    return []


@action(read=True)
def resource_show(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Một tài nguyên / One resource: id."""
    key = get_or_bust(data, "id")
    for pkg in all_packages(ctx):
        for resource in pkg.get("resources", []):
            if resource["id"] == key:
                return resource
    raise NotFoundError("Không tìm thấy tài nguyên", "Resource was not found.", id=str(key))


@action(read=True)
def license_list(ctx: Ctx, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Các giấy phép / The licences datasets use."""
    return [{"id": lic["id"], "title": lic.get("title") or lic["id"], "url": lic.get("url") or "",
             "od_conformance": "approved" if lic.get("open") else "not reviewed", "osd_conformance": "not reviewed",
             "status": "active", "maintainer": "", "family": "", "domain_content": bool(lic.get("open")),
             "domain_data": bool(lic.get("open")), "domain_software": False, "is_generic": False}
            for lic in ctx.hub.catalog.licences.values()]


@action(read=True)
def datastore_search(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Đọc bản ghi / Records of a dataset's CSV resource: resource_id (or the dataset id), filters, q, fields,
    sort, limit, offset, distinct, include_total, records_format."""
    result = datastore.datastore_search(ctx.hub, ctx.viewer, data, ctx.base)
    _audit_note(ctx, data, result)
    return result


def _audit_note(ctx: Ctx, data: dict[str, Any], result: dict[str, Any]) -> None:
    """Tell the request's audit entry (hub/audit.py, written by hub/security.py) what was read."""
    dataset = datastore.datastore_dataset(ctx.hub, ctx.viewer, data.get("resource_id") or data.get("id"))
    shown = {f["id"] for f in result["fields"]}
    audit.note(dataset=dataset.id, rows=len(result["records"]) if isinstance(result["records"], list) else None,
               personal=bool(shown & set(dataset.schema.personal_fields)))


@action(read=True)
def datastore_info(ctx: Ctx, data: dict[str, Any]) -> dict[str, Any]:
    """Mô tả các trường / The fields of a dataset's CSV resource and its record count: resource_id."""
    return datastore.datastore_info(ctx.hub, ctx.viewer, data)
