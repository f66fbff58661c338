"""The route template a request matched, e.g. `/api/v1/content/{content_id}`.

Metrics and the access log name a request by its template, never by its raw path, so
that the number of label values stays that of the routes. Routing leaves the matched
route in `scope["route"]`; a route of an included router is the router's own object
(its path without the prefix), so the full templates are learned once from the app's
routes when the app starts, keyed by the route object, and looked up per request.
"""

from __future__ import annotations

from typing import Any

from fastapi.routing import iter_route_contexts
from starlette.routing import Mount
from starlette.types import Scope

UNMATCHED = "unmatched"


class RouteTemplates:
    def __init__(self) -> None:
        self._by_route: dict[int, str] = {}
        self.learned = False

    def of(self, scope: Scope, entry_root_path: str) -> str:
        """The template of the route `scope` was routed to; `entry_root_path` is the scope's
        `root_path` before routing (mounted apps extend it with their prefix)."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        template = self._by_route.get(id(route))
        if template is None:
            template = self._mounted(scope, route, entry_root_path)
        return template

    def learn(self, app: Any) -> None:
        """Read the full template of every route of `app` (its routers' included)."""
        self.learned = True
        for context in iter_route_contexts(app.routes):
            if context.path_format is not None:
                self._by_route.setdefault(id(context.original_route), context.path_format)

    def _mounted(self, scope: Scope, route: Any, entry_root_path: str) -> str:
        # A route of an app mounted somewhere below: its path follows the mount's.
        path_format = getattr(route, "path_format", None)
        mount_prefix = scope.get("root_path", "")[len(entry_root_path) :]
        if not isinstance(path_format, str):
            template = UNMATCHED
        elif isinstance(route, Mount):
            template = path_format
        else:
            template = mount_prefix + path_format
        self._by_route[id(route)] = template
        return template
