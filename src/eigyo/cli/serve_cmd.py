"""``eigyo serve`` (the web dashboard) and ``eigyo users`` (its accounts).

Thin: the app lives in :mod:`eigyo.app`; users are stored by :mod:`eigyo.app._users` in the
workspace itself. The web stack is imported only when serving, so the rest of the CLI works
without it installed.
"""

# No ``from __future__ import annotations`` here: Typer reads the commands' annotations on every
# start-up, and string annotations would make it compile and evaluate each twice (issue 20);
# types imported only for checking are written in quotes.

import os
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from eigyo.cli._app import (
    FormatOpt,
    LangOpt,
    WorkspaceOpt,
    app,
    check_format,
    console,
    emit_json,
    err_console,
    lang_of,
)
from eigyo.errors import InputError
from eigyo.i18n import t

users_app = typer.Typer(help="Dashboard accounts: add, list, remove.", no_args_is_help=True)
app.add_typer(users_app, name="users")

WEB_EXTRA = "pip install 'fastapi>=0.110' 'uvicorn>=0.29' 'python-multipart>=0.0.9'"


@app.command("serve")
def serve_cmd(
    workspace: WorkspaceOpt = Path("."),
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8000,
    certfile: Annotated[
        Path | None, typer.Option("--certfile", help="TLS certificate (PEM): serve https.")
    ] = None,
    keyfile: Annotated[
        Path | None, typer.Option("--keyfile", help="TLS private key (PEM) of --certfile.")
    ] = None,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            "--forwarded-allow-ips",
            help="Proxies trusted for X-Forwarded-For/-Proto (comma-separated; docs/security.md).",
        ),
    ] = "127.0.0.1",
    max_body_mib: Annotated[
        int | None,
        typer.Option("--max-body-mib", min=1, max=1024, help="Request body limit, MiB (1)."),
    ] = None,
    max_upload_mib: Annotated[
        int | None,
        typer.Option("--max-upload-mib", min=1, max=16384, help="Upload limit, MiB (256)."),
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            "--workers", min=1, max=64, help="Server processes (they share sessions and data)."
        ),
    ] = 1,
    lang: LangOpt = "ja",
) -> None:
    """Serve the dashboard (login required; each user sees only their scope)."""
    lang = lang_of(lang)
    try:
        import uvicorn

        from eigyo.app import create_app, list_users
        from eigyo.app._limits import DEFAULT_LIMITS, MiB
    except ImportError as e:
        msg = f"The dashboard needs the web packages ({e.name}). Run: {WEB_EXTRA}"
        raise InputError(msg) from None
    if (certfile is None) != (keyfile is None):
        raise InputError(key="app.cli.tls_pair")
    from eigyo.workspace import open_workspace

    with open_workspace(workspace, read_only=True) as ws:  # never held: others write meanwhile
        if not list_users(ws):
            err_console.print(t("app.cli.no_users", lang, ws=workspace), highlight=False)
    limits = replace(
        DEFAULT_LIMITS,
        max_body_bytes=(max_body_mib * MiB) if max_body_mib else DEFAULT_LIMITS.max_body_bytes,
        max_upload_bytes=(max_upload_mib * MiB)
        if max_upload_mib
        else DEFAULT_LIMITS.max_upload_bytes,
        warm_up=True,  # each new generation's overviews computed before people ask
    )
    serving = "app.cli.serving_tls" if certfile else "app.cli.serving"
    err_console.print(t(serving, lang, host=host, port=port), highlight=False)
    cert, key = (str(certfile) if certfile else None), (str(keyfile) if keyfile else None)
    if workers > 1:  # uvicorn's supervisor starts each worker's app by its import name
        from eigyo.app._factory import worker_env

        os.environ.update(worker_env(workspace, limits))
        uvicorn.run("eigyo.app._factory:app_from_env", factory=True, workers=workers, host=host,
                    port=port, log_level="warning", proxy_headers=True,
                    forwarded_allow_ips=forwarded_allow_ips, timeout_graceful_shutdown=GRACE_S,
                    ssl_certfile=cert, ssl_keyfile=key)  # fmt: skip
        return
    config = uvicorn.Config(
        create_app(workspace, limits),
        host=host,
        port=port,
        log_level="warning",
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        timeout_graceful_shutdown=GRACE_S,
        ssl_certfile=cert,
        ssl_keyfile=key,
    )
    uvicorn.Server(config).run()
    _exit_when_threads_linger()


#: Seconds that SIGTERM (or Ctrl+C) leaves running requests to finish before the server closes.
GRACE_S = 10


def _exit_when_threads_linger() -> None:
    """After the server stopped: when a request's worker thread is still computing (threads of
    the pool are not daemons, so Python would wait for them), end the process now — SIGTERM must
    stop the server within :data:`GRACE_S` seconds, whatever a request is doing."""
    main = threading.main_thread()
    if any(th is not main and th.is_alive() and not th.daemon for th in threading.enumerate()):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _password(from_stdin: bool, lang: str) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(t("app.cli.password", lang), hide_input=True,
                            confirmation_prompt=True))  # fmt: skip


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option("--role", help="admin, manager or rep.")],
    workspace: WorkspaceOpt = Path("."),
    rep_id: Annotated[
        str | None, typer.Option("--rep-id", help="reps.rep_id of this user (rep: required).")
    ] = None,
    team: Annotated[
        str | None, typer.Option("--team", help="reps.team this manager sees (manager).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Reset an existing user.")] = False,
    lang: LangOpt = "ja",
) -> None:
    """Add a dashboard user (the password is prompted, or read with --password-stdin)."""
    from eigyo.app import add_user
    from eigyo.app._security import end_sessions
    from eigyo.app._users import check_scope_values
    from eigyo.workspace import open_workspace

    lang = lang_of(lang)
    # a scope the data does not hold: refused at once
    with open_workspace(workspace, read_only=True) as ws:
        check_scope_values(ws, rep_id, team)
    password = _password(password_stdin, lang)
    with open_workspace(workspace) as ws:  # a new generation, published when it closes
        user = add_user(ws, username, password, role, rep_id=rep_id, team=team, replace=replace)
    if replace:  # a reset password ends the sessions signed in with the old one
        end_sessions(workspace, username)
    err_console.print(t("app.cli.added", lang, name=user.username, role=user.role), highlight=False)


@users_app.command("list")
def users_list(
    workspace: WorkspaceOpt = Path("."), fmt: FormatOpt = "text", lang: LangOpt = "ja"
) -> None:
    """List dashboard users with their role and scope (never their password hashes)."""
    from eigyo.app import list_users
    from eigyo.workspace import open_workspace

    check_format(fmt)
    lang = lang_of(lang)
    with open_workspace(workspace, read_only=True) as ws:
        users = list_users(ws)
    if fmt == "json":
        emit_json({"users": [u.to_json() for u in users]})
        return
    table = Table()
    for key in ("user", "role", "rep", "team"):
        table.add_column(t(f"app.cli.col_{key}", lang))
    for u in users:
        table.add_row(u.username, t(f"app.role.{u.role}", lang), u.rep_id or "", u.team or "")
    console.print(table)


@users_app.command("remove")
def users_remove(
    username: Annotated[str, typer.Argument(help="Login name.")],
    workspace: WorkspaceOpt = Path("."),
    lang: LangOpt = "ja",
) -> None:
    """Remove a dashboard user."""
    from eigyo.app import remove_user
    from eigyo.app._security import end_sessions
    from eigyo.workspace import open_workspace

    lang = lang_of(lang)
    with open_workspace(workspace) as ws:
        found = remove_user(ws, username)
    end_sessions(workspace, username)  # signed in elsewhere: out at their next request
    if not found:
        raise InputError(t("app.cli.not_found", lang, name=username))
    err_console.print(t("app.cli.removed", lang, name=username), highlight=False)
