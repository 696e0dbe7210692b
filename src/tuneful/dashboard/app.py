"""The dashboard's web application: the page, its scripts, and the JSON it reads.

Routes (every one a GET; nothing here writes to the storage):

- ``/`` the page; ``/static/...`` its own script and style; ``/static/plotly.min.js`` the
  copy of plotly.js inside the installed ``plotly`` package (no CDN: the page works offline);
- ``/api/info`` the storage (password masked), the plot kinds, the server's run id;
- ``/api/studies`` every study: directions, trials by state, best value, last activity;
- ``/api/study?study=NAME`` one study's summary; ``/api/trials?study=NAME`` a page of its
  table (see :mod:`tuneful.dashboard.table` for sorting and filters);
  ``/api/trial?study=NAME&number=N`` one trial;
- ``/api/changes?study=NAME&since=V&run=R`` what changed after version ``V`` (the page
  polls it each second: see :mod:`tuneful.dashboard.live`);
- ``/api/plot?kind=K&study=A[&study=B...]`` a figure as plotly JSON with its notes;
- ``/api/importance?study=NAME&method=fanova`` the importance of each parameter.

A study is named in the query string, not the path, so that any name (slashes included)
reaches the server as it is.

A user's error (an unknown study, a bad filter, nothing to plot) is a JSON ``{"error": ...}``
with status 400 or 404, shown on the page as text.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from importlib import util
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tuneful.dashboard import figures
from tuneful.dashboard.live import LiveStorage, LiveStudy
from tuneful.dashboard.security import TokenGuard
from tuneful.dashboard.table import TrialQuery, jsonable, select, trial_detail, trial_row
from tuneful.errors import MissingDependencyError, StudyError, StudyNotFoundError, TunefulError
from tuneful.records import TrialRecord

if TYPE_CHECKING:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["create_app", "STATIC", "plotly_script", "import_starlette"]

#: The page's own files.
STATIC = Path(__file__).resolve().parent / "static"
_STATIC_FILES = {"app.js": "text/javascript", "app.css": "text/css", "favicon.svg": "image/svg+xml"}
_SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def import_starlette() -> Any:
    """The starlette package, or the one-line error naming the extra."""
    try:
        import starlette.applications
    except ImportError:
        raise MissingDependencyError(
            "the dashboard needs starlette and uvicorn: pip install 'tuneful[dashboard]'"
        ) from None
    return starlette


def plotly_script() -> Path:
    """The plotly.js file that ships inside the installed plotly package.

    Raises:
        MissingDependencyError: plotly is not installed (or its copy of plotly.js is gone).
    """
    spec = util.find_spec("plotly")
    if spec is not None and spec.origin is not None:
        path = Path(spec.origin).parent / "package_data" / "plotly.min.js"
        if path.is_file():
            return path
    raise MissingDependencyError(
        "the dashboard's plots need plotly (its plotly.min.js): pip install 'tuneful[dashboard]'"
    )


def _json(payload: Any, status: int = 200) -> Response:
    from starlette.responses import Response

    body = json.dumps(payload, allow_nan=False, separators=(",", ":"))
    return Response(body, status, media_type="application/json", headers=_no_store())


def _no_store() -> dict[str, str]:
    return {"cache-control": "no-store", **_SECURITY_HEADERS}


def _error(exc: Exception) -> Response:
    status = 404 if isinstance(exc, StudyNotFoundError) else 400
    if isinstance(exc, MissingDependencyError):
        status = 501
    return _json({"error": str(exc)}, status)


class _Api:
    """The handlers, over one :class:`LiveStorage`."""

    def __init__(self, live: LiveStorage) -> None:
        self.live = live
        self.run = secrets.token_hex(4)  # tells a page that the server was restarted

    def info(self, request: Request) -> Response:
        return _json(
            {"storage": self.live.shown_url, "kinds": list(figures.kinds()), "run": self.run}
        )

    def studies(self, request: Request) -> Response:
        return _json({"studies": [s.summary() for s in self.live.studies()], "run": self.run})

    def _study(self, request: Request) -> LiveStudy:
        name = request.query_params.get("study")
        if not name:
            raise StudyError("study: expected ?study=NAME")
        return self.live.study(name)

    def study(self, request: Request) -> Response:
        live = self._study(request)
        return _json({**live.summary(), "run": self.run})

    def trials(self, request: Request) -> Response:
        live = self._study(request)
        query = TrialQuery.parse(request.query_params)
        trials = live.trials()
        order = live.cached(("order", query.order_key()), lambda: select(trials, query))
        page = order[query.offset : query.offset + query.limit]
        optimizer = live.strategy("optimizer")
        return _json(
            {
                "total": len(order),
                "n_trials": len(trials),
                "offset": query.offset,
                "limit": query.limit,
                "version": live.version,
                "run": self.run,
                "rows": [trial_row(trials[p], optimizer) for p in page],
            }
        )

    def trial(self, request: Request) -> Response:
        live = self._study(request)
        raw = request.query_params.get("number", "")
        if not raw.isdigit():
            raise StudyError(f"number {raw!r}: expected a trial number (0, 1, ...)")
        record = _by_number(live.trials(), int(raw))
        if record is None:
            raise StudyNotFoundError(f"study {live.name!r} has no trial {raw}")
        detail = trial_detail(
            record, live.info.directions, live.strategy("optimizer"), live.strategy("scheduler")
        )
        return _json({**detail, "version": live.version})

    def changes(self, request: Request) -> Response:
        live = self._study(request)
        since = TrialQuery.parse({"offset": request.query_params.get("since", "0")}).offset
        run = request.query_params.get("run")
        changes = live.changes_since(since)
        reset = changes.reset or (run is not None and run != self.run)
        trials = live.trials()
        shown = [] if reset else changes.numbers[:200]
        found = (_by_number(trials, n) for n in shown)
        optimizer = live.strategy("optimizer")
        rows = [trial_row(t, optimizer) for t in found if t is not None]
        return _json(
            {
                "version": changes.version,
                "run": self.run,
                "reset": reset,
                "changed": list(changes.numbers) if not reset else [],
                "rows": rows,
                "summary": live.summary(),
            }
        )

    def plot(self, request: Request) -> Response:
        names = request.query_params.getlist("study")
        if not names:
            raise StudyError("study: expected at least one ?study=NAME")
        studies = [self.live.study(name) for name in names]
        options = figures.PlotRequest.parse(request.query_params)
        return _raw_json(figures.figure_json(studies, options))

    def importance(self, request: Request) -> Response:
        live = self._study(request)
        method = request.query_params.get("method", "fanova")
        objective = TrialQuery.parse({"objective": request.query_params.get("objective", "0")})
        return _json(jsonable(figures.importance_of(live, method, objective.objective)))


def _by_number(trials: list[TrialRecord], number: int) -> TrialRecord | None:
    """Trial ``number`` (trials are kept by number, so it is almost always at its index)."""
    if number < len(trials) and trials[number].number == number:
        return trials[number]
    return next((t for t in trials if t.number == number), None)


def _raw_json(body: str) -> Response:
    from starlette.responses import Response

    return Response(body, 200, media_type="application/json", headers=_no_store())


def _guarded(handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """The handler, with a user's error turned into a JSON message (no traceback)."""

    def run(request: Request) -> Response:
        try:
            return handler(request)
        except (TunefulError, NotImplementedError) as exc:
            return _error(exc)

    run.__name__ = handler.__name__
    return run


def _page(request: Request) -> Response:
    from starlette.responses import Response

    html = (STATIC / "index.html").read_text(encoding="utf-8")
    return Response(html, media_type="text/html", headers=_no_store())


def _static(request: Request) -> Response:
    from starlette.responses import FileResponse, JSONResponse

    name = request.path_params["file"]
    if name == "plotly.min.js":
        path = plotly_script()
        return FileResponse(path, media_type="text/javascript", headers=_SECURITY_HEADERS)
    if name not in _STATIC_FILES:  # only the page's own files: no path is joined
        return JSONResponse({"error": f"no file {name!r}"}, 404)
    headers = {"cache-control": "no-cache", **_SECURITY_HEADERS}
    return FileResponse(STATIC / name, media_type=_STATIC_FILES[name], headers=headers)


def create_app(
    live: LiveStorage,
    *,
    token: str | None = None,
    allowed_hosts: tuple[str, ...] | None = None,
) -> Starlette:
    """The dashboard's ASGI application over ``live`` (see module for its routes).

    Args:
        live: the storage's studies, read-only.
        token: the token every request must show (None: none).
        allowed_hosts: the ``Host`` names answered (None: any; see
            :class:`~tuneful.dashboard.security.TokenGuard`).

    Raises:
        MissingDependencyError: starlette is not installed.
    """
    import_starlette()
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Route

    api = _Api(live)
    routes = [
        Route("/", _page),
        Route("/static/{file}", _static),
        Route("/api/info", _guarded(api.info)),
        Route("/api/studies", _guarded(api.studies)),
        Route("/api/study", _guarded(api.study)),
        Route("/api/trials", _guarded(api.trials)),
        Route("/api/trial", _guarded(api.trial)),
        Route("/api/changes", _guarded(api.changes)),
        Route("/api/importance", _guarded(api.importance)),
        Route("/api/plot", _guarded(api.plot)),
    ]
    guard = Middleware(TokenGuard, token=token, allowed_hosts=allowed_hosts)
    app = Starlette(routes=routes, middleware=[guard])
    app.state.live = live
    return app
