"""Import by upload: files in, a background import with progress, then the import report.

Why a background thread: a real export takes seconds to minutes, and the page should show where
it is (HTMX polls the job every half second) instead of hanging. The import itself is the
library's :func:`eigyo.ingest.import_path` — atomic, with rejects and a report — run on its own
connection; one import at a time. Only admins import: an import replaces rows of every rep.
Uploaded files keep only their canonical base name (``opportunities.csv``), so a crafted file
name can never write outside the job's temporary folder. The job's state is also written beside
the workspace (:mod:`eigyo.app._import_jobs`), so a poll reaching another worker process of
``eigyo serve --workers N`` finds it, and a job whose process died reads as failed, not running.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from eigyo.app import _import_jobs as jobs
from eigyo.app._import_jobs import Job
from eigyo.app._state import AppState
from eigyo.app._web import PageUser, check_csrf, lang_of, render, require_role, state
from eigyo.errors import EigyoError
from eigyo.i18n import t
from eigyo.ingest import import_path
from eigyo.schema import TABLES
from eigyo.workspace import open_workspace

router = APIRouter(include_in_schema=False)
_FILE = re.compile(r"^([a-z_]+)\.(csv|tsv|txt|xlsx|parquet)$")


#: This process's jobs (the others' are read from their files: :mod:`._import_jobs`).
_JOBS: dict[str, Job] = {}


def _save(files: list[UploadFile], folder: Path, lang: str) -> list[str]:
    """Write the uploads under their canonical names; refuse any other name."""
    names = []
    tables = {tb.name for tb in TABLES}
    for f in files:
        name = Path((f.filename or "").replace("\\", "/")).name.lower()
        m = _FILE.match(name)
        if m is None or m.group(1) not in tables:
            raise EigyoError(t("app.import.bad_name", lang, name=name or "?",
                               tables=", ".join(sorted(tables))))  # fmt: skip
        with (folder / name).open("wb") as out:
            shutil.copyfileobj(f.file, out, length=1024 * 1024)
        names.append(name)
    return names


def _run(st: AppState, job: Job, folder: Path, strict: bool, lang: str) -> None:
    """Import the folder (one file alone is imported as that table, so a single ``leads.csv``
    can update a workspace without the required ``reps`` and ``opportunities``)."""
    target = folder / job.files[0] if len(job.files) == 1 else folder

    job.beating()
    try:
        with st.import_lock, open_workspace(st.workspace) as ws:
            rep = import_path(ws, target, strict=strict, progress=job.tick, lang=lang)
        job.report = rep.to_json()
    except EigyoError as e:
        job.error = e.localized(lang).replace(f"{folder}/", "").replace(str(folder), "")
    except Exception as e:  # the page must always end; the message names the failure, never
        # the server's temporary folder (issue 19)
        text = f"{type(e).__name__}: {e}".replace(f"{folder}/", "").replace(str(folder), "")
        job.error = text
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        job.finished = True
        job.save()


@router.get("/import", response_class=HTMLResponse)
def import_page(request: Request, s: PageUser) -> HTMLResponse:
    require_role(s, "admin", lang=lang_of(request))
    return render(request, "import.html.j2", s, job=None, error=None)


@router.post("/import", response_class=HTMLResponse)
def upload(
    request: Request,
    s: PageUser,
    files: Annotated[list[UploadFile], File()],
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    strict: Annotated[bool, Form()] = False,
) -> HTMLResponse:
    check_csrf(request, s, csrf_token)
    lang = lang_of(request)
    require_role(s, "admin", lang=lang)
    st = state(request)
    folder = Path(tempfile.mkdtemp(prefix="eigyo-upload-"))
    try:
        names = _save(files, folder, lang)
    except EigyoError as e:
        shutil.rmtree(folder, ignore_errors=True)
        return render(request, "import_job.html.j2", s, 400, job=None, error=e.localized(lang))
    job = Job(uuid.uuid4().hex, s.user.username, names, folder=jobs.folder_of(st.workspace))
    jobs.prune(jobs.folder_of(st.workspace))
    job.save()
    _JOBS[job.id] = job
    threading.Thread(target=_run, args=(st, job, folder, strict, lang), daemon=True).start()
    return render(request, "import_job.html.j2", s, job=job, error=None)


@router.get("/import/jobs/{job_id}", response_class=HTMLResponse)
def job_status(request: Request, s: PageUser, job_id: str) -> HTMLResponse:
    lang = lang_of(request)
    require_role(s, "admin", lang=lang)
    job = find(state(request), job_id, lang)
    if job is None or job.owner != s.user.username:
        return render(request, "import_job.html.j2", s, 404, job=None,
                      error=t("app.error.not_found", lang))  # fmt: skip
    return render(request, "import_job.html.j2", s, job=job, error=None)


def find(st: AppState, job_id: str, lang: str) -> Job | None:
    """The job, held by this process or read from its file (another worker's)."""
    return _JOBS.get(job_id) or jobs.load(jobs.folder_of(st.workspace), job_id, lang)


def job_json(job: Job) -> dict[str, Any]:
    return {"id": job.id, "finished": job.finished, "step": job.step, "done": job.done,
            "total": job.total, "report": job.report, "error": job.error}  # fmt: skip
