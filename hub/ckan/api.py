"""The HTTP side of the CKAN Action API: `/api/3/action/<name>` and `/api/action/<name>`, GET and POST.

As ckan/views/api.py: the body is {help, success, result} or {help, success: false, error: {__type,
message}}; request data comes from the JSON body, a form (multipart uploads too) or, for read actions, the
query string; an unknown action is a 400 whose body is a JSON string. No route here ever redirects: a
redirected POST loses its body (ckanapi posts JSON to /api/action/<name> and refuses redirects).
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from flask import Blueprint, Response, request

from core.errors import HubError
from core.text import input_problem
from hub.auth import current_viewer
from hub.ckan.errors import ckan_error_for
from hub.ckan.registry import ACTIONS, Ctx
from hub.context import current_hub, public_base
from publish.access import ANONYMOUS

__all__ = ["blueprint", "public_base"]

log = logging.getLogger("hub.ckan")
blueprint = Blueprint("ckan", __name__)
JSON_TYPE = "application/json;charset=utf-8"


def _json(body: Any, status: int) -> Response:
    return Response(json.dumps(body, ensure_ascii=False, default=str), status=status, content_type=JSON_TYPE)


def _bad_request(message: str) -> Response:
    return _json(f"Bad request - {message}", 400)  # CKAN 2.11's wording (ckan/views/api.py _finish_bad_request)


# a JavaScript name, or dotted names (`jQuery123_456`, `app.show`): nothing else is ever written before "("
CALLBACK = re.compile(r"^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*$", re.ASCII)


def _jsonp(response: Response, callback: str) -> Response:
    """A successful GET answer wrapped for JSONP, as CKAN does: `callback({...});`, application/javascript."""
    if response.status_code == 200:
        response.set_data(f"{callback}({response.get_data(as_text=True)});".encode())
        response.content_type = "application/javascript;charset=utf-8"
    return response


def _mixed(multi: Any) -> dict[str, Any]:
    """One value per key, or a list when the key came several times (CKAN's `mixed`)."""
    return {k: v[0] if len(v) == 1 else v for k, v in multi.to_dict(flat=False).items()}


def request_data(side_effect_free: bool) -> dict[str, Any]:
    """The action's parameters, read as CKAN's _get_request_data reads them. ValueError when unusable."""
    if request.method in ("GET", "HEAD") and not side_effect_free:  # HEAD is a GET without the body
        raise ValueError("Invalid request. Please use POST method for your request")
    data: Any = {}
    if request.method in ("POST", "PUT") and request.form:
        values = list(request.form.values())
        if len(values) == 1 and values[0] in ("1", ""):  # a JSON body posted as a form key
            try:
                data = json.loads(next(iter(request.form.keys())))
            except ValueError as exc:
                raise ValueError(f"Error decoding JSON data. Error: {exc!r}") from None
        else:
            data = _mixed(request.form)
    elif request.args and side_effect_free:
        data = _mixed(request.args)
    elif request.get_data(cache=True) and request.mimetype != "multipart/form-data":
        try:
            data = json.loads(request.get_data(cache=True))
        except (ValueError, RecursionError) as exc:
            raise ValueError(f"Error decoding JSON data. Error: {type(exc).__name__}") from None
    if not isinstance(data, dict):
        raise ValueError(f"Request data JSON decoded to {str(data)[:100]!r} but it needs to be a dictionary.")
    problem = input_problem(data)
    if problem:  # a lone surrogate, NUL or a nesting bomb would fail deep inside (500): refused here
        raise ValueError(f"Unusable request data: {problem}")
    return data


@blueprint.route("/api/action/<logic_function>", methods=["GET", "POST"])
@blueprint.route("/api/<int(min=3, max=3):ver>/action/<logic_function>", methods=["GET", "POST"])
def action(logic_function: str, ver: int = 3) -> Response:
    base = public_base()
    act = ACTIONS.get(logic_function)
    if act is None:
        return _bad_request(f"Action name not known: {logic_function} / Không có chức năng «{logic_function}»")
    body: dict[str, Any] = {"help": f"{base}/api/{ver}/action/help_show?name={logic_function}"}
    try:
        data = request_data(act.side_effect_free)
    except ValueError as exc:
        return _bad_request(f"JSON Error: {exc}")
    callback = request.args.get("callback") if request.method == "GET" else None
    if callback is not None and (len(callback) > 128 or not CALLBACK.match(callback)):
        return _bad_request("JSONP callback must be a JavaScript name / Tên hàm JSONP không hợp lệ")
    anonymous = "callback" in data
    if anonymous:
        # as CKAN: a JSONP request is answered as to an anonymous caller, whatever key comes with it (a page on
        # another site can make a browser send one); the hub never reads keys from cookies either
        data.pop("callback")
        if callback is not None:
            data.pop("_", None)  # jQuery's cache buster
    try:
        viewer = ANONYMOUS if anonymous else current_viewer()
        ctx = Ctx(current_hub(), viewer, base, files=dict(request.files))
        result = act.fn(ctx, data)
    except HubError as exc:
        error, status = ckan_error_for(exc)
        body.update(success=False, error=error)
        return _json(body, status)
    except Exception:  # noqa: BLE001 - CKAN answers every failure in its envelope
        log.exception("CKAN action %s failed", logic_function)
        body.update(success=False, error={"__type": "Internal Server Error", "message": "Internal Server Error"})
        return _json(body, 500)
    body.update(success=True, result=result)
    return _jsonp(_json(body, 200), callback) if callback else _json(body, 200)


@blueprint.get("/api/<int(min=1, max=3):ver>")
def api_version(ver: int) -> Response:
    return _json({"version": ver}, 200)
