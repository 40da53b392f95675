"""The simulation page: candidate structures against today, run in the background with progress.

Why a background job (as the import page): a comparison replicates every chosen structure and
takes seconds to minutes (the small demo's five structures × 10 runs × 12 months: about two
minutes on a busy 2-core machine); the page shows which structure is being simulated and how
many runs are done (HTMX polls the job every half second) instead of hanging. Without HTMX the
form still works: the answer is the page with the job and a link to its result. The job's state
is also written to the workspace folder (:mod:`eigyo.app._simulate_jobs`), so a poll that
reaches another server process (``--workers N``) finds it.

Why one simulation at a time per server process (:data:`_RUNNER`, one worker thread): the model is
CPU-bound Python. Its calibration reads the engine, so it takes a fair turn of the gate
(:meth:`~eigyo.app._state.AppState.exclusive`) like any heavy page; the replications read no
data and run beside the pages, so a long comparison never holds everyone's cold pages. A person
with a comparison still running gets that one back instead of starting another; beyond
:data:`MAX_PENDING` waiting comparisons the server answers "busy".

Why every check before the job starts: a request over the limits
(:func:`~eigyo.simulate.check_limits`) is refused at once, in one sentence, before any work.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from eigyo.analysis.availability import NotAvailable
from eigyo.app._limits import Busy
from eigyo.app._scope import Principal
from eigyo.app._simulate_jobs import (
    NotAvailableError,
    SimJob,
    folder_of,
    load,
    missing_json,
    prune,
)
from eigyo.app._simulate_view import comparison_view
from eigyo.app._state import AppState
from eigyo.app._web import PageUser, check_csrf, lang_of, render, require_role, state
from eigyo.base.vocabulary import DASH
from eigyo.errors import EigyoError, InputError
from eigyo.i18n import t

router = APIRouter(include_in_schema=False)
log = logging.getLogger(__name__)
#: Runs behind each structure's intervals (the CLI's default).
REPLICATIONS = 10
#: The candidates a manager may tick (every structure of ``eigyo simulate`` but today's).
CANDIDATES = ("generalist", "assembly_line", "pod", "hybrid")
#: Comparisons waiting or running in this process, everyone together; beyond: "busy".
MAX_PENDING = 4
#: Finished jobs remembered (oldest forgotten first).
MAX_JOBS = 200
_RUNNER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="eigyo-simulate")
_JOBS: OrderedDict[str, SimJob] = OrderedDict()
_JOBS_LOCK = threading.Lock()


def _sim() -> Any:
    """``eigyo.simulate`` when installed and importable, else None (the form says so)."""
    try:
        from eigyo import simulate
    except ImportError:
        return None
    return simulate


def _work(st: AppState, who: Principal, job: SimJob, options: list[Any]) -> None:
    """Calibrate once (a fair turn of the gate), then simulate each structure with it."""
    from eigyo.analysis.availability import unavailable
    from eigyo.simulate import NotEnoughToSimulate, calibrate, default_window, simulate

    job.stage = "calibrating"
    job.save()
    try:
        ws = st.scoped(who)  # this worker's own connection, to the request's generation

        def prepare() -> tuple[Any, dict[str, NotAvailable]]:
            missing = unavailable(ws, ["simulate", "simulate.cost_per_won_deal",
                                       "simulate.lead_response_minutes"])  # fmt: skip
            if na := missing.pop("simulate", None):
                raise NotAvailableError(na)
            return calibrate(ws, default_window(ws)), missing

        cal, missing = st.exclusive(prepare)
        job.missing, job.currency = missing_json(missing), ws.settings.currency
        job.stage = "running"
        job.docs = [simulate(ws, o, lambda s, k, n: job.tick(s), cal) for o in options]
    except NotEnoughToSimulate as e:
        job.too_little(e.what, e.window or DASH)
    except (NotAvailableError, EigyoError) as e:
        job.fail(e)
    except Exception as e:  # the page must always end; the log keeps the traceback
        log.exception("simulation job %s failed", job.id)
        job.fail(e)
    finally:
        job.stage = "done"
        job.save()


def _options(sim: Any, chosen: list[str], headcount: str, horizon: int, seed: int) -> list[Any]:
    """Today's and each candidate's options, checked against the limits (before any work)."""
    bad = [s for s in chosen if s not in CANDIDATES]
    if bad:
        raise InputError(
            key="simulate.page.bad_structure", name=bad[0], known=", ".join(CANDIDATES)
        )
    chosen = list(dict.fromkeys(chosen)) or list(CANDIDATES)  # none ticked: all, as --compare
    hc = sim.parse_headcount(headcount) or None
    if hc and len(chosen) > 1:
        raise InputError(key="simulate.page.headcount_one")
    opts = [sim.Options("current", None, horizon, seed, REPLICATIONS, None)]
    opts += [sim.Options(s, hc, horizon, seed, REPLICATIONS, None) for s in chosen]
    sim.check_limits(opts[-1], len(opts))
    return opts


def _start(request: Request, who: Principal, owner: str, options: list[Any]) -> SimJob:
    """The person's running comparison, or a new one queued on :data:`_RUNNER`."""
    with _JOBS_LOCK:
        for job in _JOBS.values():
            if job.owner == owner and not job.finished:
                return job
        if sum(not j.finished for j in _JOBS.values()) >= MAX_PENDING:
            raise Busy(state(request).limits.retry_after_s)
        folder = folder_of(state(request).workspace)
        job = SimJob(uuid.uuid4().hex, owner, [o.structure for o in options],
                     total=sum(o.replications for o in options), folder=folder)  # fmt: skip
        _JOBS[job.id] = job
        while len(_JOBS) > MAX_JOBS:
            oldest = next(iter(_JOBS))
            if not _JOBS[oldest].finished:
                break
            _JOBS.pop(oldest)
    job.save()
    job.beating()  # queued or calibrating, it makes no progress for a while: its heartbeat
    prune(folder)
    ctx = contextvars.copy_context()  # the request's generation and requester go with it
    _RUNNER.submit(ctx.run, _work, state(request), who, job, options)
    return job


def _job_context(job: SimJob | None, lang: str) -> dict[str, Any]:
    view = None
    if job is not None and job.finished and job.docs:
        view = comparison_view(job.docs, job.missing_reasons(), lang, job.currency)
    return {"job": job, "view": view, "job_error": job.error_text(lang) if job else None}


@router.get("/simulate", response_class=HTMLResponse)
def simulate_page(request: Request, s: PageUser) -> HTMLResponse:
    return render(request, "simulate.html.j2", s, available=_sim() is not None,
                  candidates=CANDIDATES, replications=REPLICATIONS, error=None,
                  **_job_context(None, lang_of(request)))  # fmt: skip


@router.post("/simulate", response_class=HTMLResponse)
def simulate_run(
    request: Request,
    s: PageUser,
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    structure: Annotated[list[str] | None, Form()] = None,
    headcount: Annotated[str, Form(max_length=200)] = "",
    horizon: Annotated[int, Form(ge=1, le=36)] = 12,
    seed: Annotated[int, Form(ge=0, le=2**31)] = 0,
) -> HTMLResponse:
    check_csrf(request, s, csrf_token)
    lang = lang_of(request)
    require_role(s, "admin", "manager", lang=lang)
    sim = _sim()
    fragment = bool(request.headers.get("hx-request"))
    page = "simulate_result.html.j2" if fragment else "simulate.html.j2"
    ctx: dict[str, Any] = {"available": sim is not None, "candidates": CANDIDATES,
                           "replications": REPLICATIONS}  # fmt: skip
    if sim is None:
        return render(request, page, s, error=t("app.simulate.unavailable", lang), **ctx,
                      **_job_context(None, lang))  # fmt: skip
    try:
        opts = _options(sim, [x[:40] for x in (structure or [])][:10], headcount, horizon, seed)
    except InputError as e:
        return render(request, page, s, 400, error=e.localized(lang), **ctx,
                      **_job_context(None, lang))  # fmt: skip
    try:
        job = _start(request, s.user.principal(), s.user.username, opts)
    except Busy as e:  # one sentence in the page, not the error page inside the fragment
        busy = render(request, page, s, 503, error=t("simulate.page.busy", lang), **ctx,
                      **_job_context(None, lang))  # fmt: skip
        busy.headers["Retry-After"] = str(e.retry_after)
        return busy
    return render(request, page, s, error=None, **ctx, **_job_context(job, lang))


@router.get("/simulate/jobs/{job_id}", response_class=HTMLResponse)
def simulate_job(request: Request, s: PageUser, job_id: str) -> HTMLResponse:
    """The job's progress, then its comparison (a fragment for HTMX, else the whole page)."""
    lang = lang_of(request)
    # this process's job, else the file of the process that runs it (``--workers N``)
    job = _JOBS.get(job_id) or load(folder_of(state(request).workspace), job_id)
    page = "simulate_result.html.j2" if request.headers.get("hx-request") else "simulate.html.j2"
    if job is None or job.owner != s.user.username:  # e.g. the server restarted meanwhile
        return render(request, page, s, 404, available=True, candidates=CANDIDATES,
                      replications=REPLICATIONS, error=t("app.error.not_found", lang),
                      **_job_context(None, lang))  # fmt: skip
    return render(request, page, s, available=True, candidates=CANDIDATES,
                  replications=REPLICATIONS, error=None, **_job_context(job, lang))  # fmt: skip
