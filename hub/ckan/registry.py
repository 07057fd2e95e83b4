"""The table of CKAN actions we answer, and what every action receives.

An action is a plain function `(ctx, data) -> result`, registered with `@action`, like CKAN's
`ckan/logic/action/*.py`. Read actions are "side-effect free" and may be called with GET; write actions
need POST (CKAN answers 400 to a GET on them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.ckan.errors import NotFoundError
from publish.access import Viewer
from publish.context import Hub

__all__ = ["ACTIONS", "Action", "Ctx", "action", "get_or_bust"]


@dataclass
class Ctx:
    hub: Hub
    viewer: Viewer
    base: str  # public base URL, no trailing slash
    files: dict[str, Any] = field(default_factory=dict)  # multipart uploads (werkzeug FileStorage)
    cache: dict[str, Any] = field(default_factory=dict)  # per request: packages already built

    @property
    def lang(self) -> str:
        return self.hub.settings.language


@dataclass(frozen=True)
class Action:
    name: str
    fn: Callable[[Ctx, dict[str, Any]], Any]
    side_effect_free: bool

    @property
    def help(self) -> str:
        return (self.fn.__doc__ or "").strip()


ACTIONS: dict[str, Action] = {}


def action(*, read: bool) -> Callable[[Callable[[Ctx, dict[str, Any]], Any]], Callable[[Ctx, dict[str, Any]], Any]]:
    def register(fn: Callable[[Ctx, dict[str, Any]], Any]) -> Callable[[Ctx, dict[str, Any]], Any]:
        ACTIONS[fn.__name__] = Action(fn.__name__, fn, read)
        return fn

    return register


def get_or_bust(data: dict[str, Any], key: str) -> Any:
    """CKAN's _get_or_bust: the value, or a Validation Error {key: ['Missing value']}."""
    from hub.ckan.errors import ValidationError

    value = data.get(key)
    if value is None or value == "":
        raise ValidationError({key: ["Missing value"]}, f"Thiếu giá trị «{key}»", f"Missing value «{key}»")
    return value


def not_found(what_vi: str, what_en: str, key: Any) -> NotFoundError:
    return NotFoundError(f"Không có {what_vi} «{key}»", f"No {what_en} «{key}»", id=str(key))
