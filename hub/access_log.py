"""gunicorn's logger, less the access-log fields it built for a log that is off (deploy/gunicorn.conf.py's
`logger_class`).

The hub writes one JSON line per request itself (hub/observability.py), so gunicorn's access log is off
(`accesslog = None`, its logger silenced in `logconfig_dict`). gunicorn still counts its access log as on
whenever a logging configuration is given (ours is, for gunicorn's own messages), so for every request it built
some twenty access-log fields (headers, times, sizes) and handed them to a logger that dropped them: about 5% of
a worker's CPU on a keyed page served from the answer cache (py-spy, wrk -c32). An operator who sets `accesslog`
gets gunicorn's access log as before.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

from gunicorn import glogging

__all__ = ["Logger"]


class Logger(glogging.Logger):
    def access(self, resp: Any, req: Any, environ: MutableMapping[str, Any], request_time: Any) -> None:
        if self.cfg.accesslog:
            super().access(resp, req, environ, request_time)
