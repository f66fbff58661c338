"""Cross-origin requests, as Starlette's CORS middleware answers them, with refusals as
problems."""

from __future__ import annotations

from fastapi.middleware.cors import CORSMiddleware
from starlette.datastructures import Headers
from starlette.responses import Response

from dreamlust.errors import problem


class ProblemCORS(CORSMiddleware):
    """Starlette's CORS middleware, whose refusal of a preflight (an origin not allowed)
    is a problem like every other 4xx rather than plain text."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        detail = bytes(response.body).decode()
        return problem(response.status_code, detail, headers={"Vary": response.headers["vary"]})
