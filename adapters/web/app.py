"""The supervisors' web app: Starlette, Jinja2 (autoescaped), htmx and server-sent events.

One composition function, `create_app`, wires the read-only hub connection, the app's own
store, the clocks and the optional action sender. Every asset is served from the package.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import Engine, func, select
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crossforce.adapters.sql import schema
from crossforce.adapters.web import pages
from crossforce.adapters.web.actions import (
    ActionSender,
    actor_of,
    assignable_parts,
    chase,
    chaseable_parts,
    delay_notice,
    escalation_acknowledgement,
    reassignment,
)
from crossforce.adapters.web.oidc import OidcSettings, OidcSignIn
from crossforce.adapters.web.reads import ReadNotReported, open_case
from crossforce.adapters.web.store import SESSION_LIFETIME, Account, Role, WebStore
from crossforce.broker.domain.calendar import LONDON
from crossforce.broker.domain.parts import OPEN_STATUSES
from crossforce.broker.domain.views import CaseView
from crossforce.broker.service.queries import case_timeline, case_view, escalation_notices
from crossforce.broker.service.statistics import OUTCOMES, case_counts, counts_csv
from crossforce.contracts.errors import ContractError
from crossforce.contracts.forces import FORCES
from crossforce.contracts.messages.base import Message as Payload

HERE = Path(__file__).parent
# s.62: why a supervisor consults a case through this app.
JUSTIFICATION = "supervision of a cross-force DVDS/DSDAS case the force takes part in"
CSRF_FIELD = "csrf_token"

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class WebConfig:
    hub: Engine  # read-only: see adapters.sql.engine.open_read_only
    store: WebStore
    secret_key: str
    tls: bool = False
    # Views as at this time (demos, tests, `--at`); None: now. Sessions always use `clock`.
    as_at: datetime | None = None
    clock: Clock = field(default=_utcnow)
    poll_seconds: float = 1.0
    actions: ActionSender | None = None
    oidc: OidcSettings | None = None
    # May only queue reads of cases with a police employee among the parties, for the hub to
    # report to the PSD (adapters.sql.report_queue). None: such cases are never shown.
    reports: Engine | None = None


_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)


class SecurityHeaders:
    """Pure ASGI, so streamed responses (server-sent events) pass through untouched."""

    def __init__(self, app: ASGIApp, tls: bool) -> None:
        self.app = app
        self.tls = tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                extra = {
                    b"content-security-policy": _CSP.encode(),
                    b"x-content-type-options": b"nosniff",
                    b"x-frame-options": b"DENY",
                    b"referrer-policy": b"no-referrer",
                    b"permissions-policy": b"camera=(), microphone=(), geolocation=()",
                    b"cross-origin-opener-policy": b"same-origin",
                    b"cross-origin-resource-policy": b"same-origin",
                }
                if not static:
                    extra[b"cache-control"] = b"no-store"
                if self.tls:
                    extra[b"strict-transport-security"] = b"max-age=31536000"
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in extra.items() if k not in present]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _uk(value: datetime | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
    return "" if value is None else value.astimezone(LONDON).strftime(fmt)


def _days(n: int) -> str:
    return f"{n} working day{'s' if abs(n) != 1 else ''}"


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["uk"] = _uk
    env.filters["days"] = _days
    env.globals["force_name"] = lambda code: FORCES[code].name if code in FORCES else code
    return env


def create_app(config: WebConfig) -> Starlette:
    env = _environment()
    store = config.store
    oidc = OidcSignIn(config.oidc) if config.oidc else None

    def view_now() -> datetime:
        return config.as_at or config.clock()

    def csrf_token(request: Request) -> str:
        token = request.session.get("csrf")
        if not isinstance(token, str):
            token = secrets.token_urlsafe(32)
            request.session["csrf"] = token
        return token

    def render(
        request: Request,
        name: str,
        account: Account | None,
        status: int = 200,
        **context: Any,
    ) -> HTMLResponse:
        html = env.get_template(name).render(
            account=account,
            csrf=csrf_token(request),
            as_at=config.as_at,
            now=view_now(),
            path=request.url.path,
            oidc=oidc is not None,
            role_label="Senior officer"
            if account and account.role is Role.SENIOR_OFFICER
            else "Supervisor",
            **context,
        )
        return HTMLResponse(html, status_code=status)

    def signed_in(request: Request, touch: bool = True) -> Account | None:
        session_id = request.session.get("sid")
        if not isinstance(session_id, str):
            return None
        return store.session_account(session_id, config.clock(), touch=touch)

    async def account_or_redirect(request: Request) -> Account | Response:
        account = await run_in_threadpool(signed_in, request)
        if account is None:
            if request.headers.get("hx-request"):
                return PlainTextResponse("signed out", status_code=401)
            return RedirectResponse("/sign-in", status_code=303)
        return account

    async def checked_form(request: Request) -> dict[str, str] | Response:
        """The posted form, or a refusal when its CSRF token is missing or wrong."""
        form = await request.form()
        sent = form.get(CSRF_FIELD)
        expected = request.session.get("csrf")
        if (
            not isinstance(sent, str)
            or not isinstance(expected, str)
            or not hmac.compare_digest(sent.encode(), expected.encode())
        ):
            account = await run_in_threadpool(signed_in, request)
            return render(request, "refused.html", account, status=403)
        return {k: v for k, v in form.items() if isinstance(v, str)}

    def not_found(request: Request, account: Account | None) -> HTMLResponse:
        return render(request, "not_found.html", account, status=404)

    # sign in and out ---------------------------------------------------------------------
    async def sign_in_page(request: Request) -> Response:
        if await run_in_threadpool(signed_in, request):
            return RedirectResponse("/cases", status_code=303)
        signed_out = request.query_params.get("signed-out") == "1"
        return render(request, "sign_in.html", None, signed_out=signed_out, error=False)

    async def sign_in(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        username = form.get("username", "").strip()
        account = await run_in_threadpool(
            store.authenticate, username, form.get("password", ""), config.clock()
        )
        if account is None:
            return render(request, "sign_in.html", None, status=400, error=True, username=username)
        return await start_session(request, account)

    async def start_session(request: Request, account: Account) -> Response:
        session_id = await run_in_threadpool(store.start_session, account.username, config.clock())
        request.session.clear()  # a fresh session and token: no fixation
        request.session["sid"] = session_id
        request.session["csrf"] = secrets.token_urlsafe(32)
        return RedirectResponse("/cases", status_code=303)

    async def oidc_start(request: Request) -> Response:
        if oidc is None:
            return not_found(request, None)
        response: Response = await oidc.start(request)
        return response

    async def oidc_callback(request: Request) -> Response:
        if oidc is None:
            return not_found(request, None)
        username = await oidc.username(request)
        account = await run_in_threadpool(store.account, username) if username else None
        if account is None or account.disabled:
            return render(request, "sign_in.html", None, status=403, oidc_refused=True, error=False)
        return await start_session(request, account)

    async def sign_out(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        session_id = request.session.get("sid")
        if isinstance(session_id, str):
            await run_in_threadpool(store.end_session, session_id)
        request.session.clear()
        return RedirectResponse("/sign-in?signed-out=1", status_code=303)

    # pages ---------------------------------------------------------------------------------
    async def home(request: Request) -> Response:
        return RedirectResponse("/cases", status_code=303)

    async def cases_page(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        try:
            show = pages.CaseFilter(request.query_params.get("show", "all"))
        except ValueError:
            show = pages.CaseFilter.ALL
        rows, _ = await run_in_threadpool(
            pages.case_rows, config.hub, account.force, view_now(), show
        )
        return render(
            request,
            "cases.html",
            account,
            rows=rows,
            show=show,
            filters=pages.FILTER_LABELS,
        )

    async def late_page(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        now = view_now()

        def load() -> list[Any]:
            _, overdue = pages.case_rows(config.hub, account.force, now, pages.CaseFilter.ALL)
            return overdue

        overdue = await run_in_threadpool(load)
        return render(
            request,
            "late.html",
            account,
            late=[p for p in overdue if p.late],
            soon=[p for p in overdue if not p.late],
            within=pages.DUE_SOON_WORKING_DAYS,
        )

    async def owed_page(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        rows = await run_in_threadpool(pages.owed_by, config.hub, account.force, view_now())
        return render(request, "owed.html", account, rows=rows)

    def case_context(account: Account, case_ref: str) -> dict[str, Any] | None:
        """What the case page shows `account`, logged as a consultation; None (logged as
        refused) for a case that does not exist or is not the force's."""
        now = view_now()
        # Logged, and first queued for the PSD when a party is a police employee (0051):
        # raises ReadNotReported, having shown nothing, when that cannot be done.
        view = open_case(
            config.hub, store, config.reports, account, case_ref, JUSTIFICATION, config.clock()
        )
        if view is None:
            return None
        coordinated = {case_ref} if view.coordinating_force == account.force else set()
        overdue = pages.visible_overdue(
            config.hub, account.force, now, coordinated, pages.EVERYTHING_AHEAD
        )
        parts = pages.part_rows(view, overdue, now)
        timeline = case_timeline(config.hub, case_ref, account.force, until=now)
        if view.former and view.left_at is not None:
            timeline = [line for line in timeline if line.at <= view.left_at]
        notices = [
            n for n in escalation_notices(config.hub, case_ref, account.force) if n.sent_at <= now
        ]
        escalations = pages.escalation_rows(view, notices)
        can_act = (
            config.actions is not None
            and config.actions.can_sign(account.force)
            and not view.former
            and view.status.value == "open"
        )
        return {
            "view": view,
            "parts": parts,
            "timeline": timeline,
            "tasks": pages.tasks_for(view, parts, timeline, escalations),
            "kind": pages.timeline_kind,
            "escalations": escalations,
            "acknowledged_elsewhere": pages.acknowledged_elsewhere(view),
            "can_act": can_act,
            "waiting": [row.notice for row in escalations if row.acknowledged is None],
            "chaseable": chaseable_parts(view),
            "assignable": assignable_parts(view),
            "late_parts": [r.part for r in parts if r.late and r.part.status in OPEN_STATUSES],
            "applicant": next((p for p in view.parties if p.is_applicant), None),
        }

    async def case_page(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        case_ref = request.path_params["case_ref"]
        try:
            context = await run_in_threadpool(case_context, account, case_ref)
        except ReadNotReported:
            return render(request, "not_reported.html", account, status=503)
        if context is None:
            return not_found(request, account)
        flash = request.session.pop("flash", None)
        return render(request, "case.html", account, flash=flash, **context)

    Build = Callable[[CaseView, dict[str, str], Account], Payload]

    def action(build: Build) -> Callable[[Request], Any]:
        """A POST that sends one signed message for the signed-in force, naming the account
        as its actor. Without JavaScript it redirects back to the case page (post, redirect,
        get); from htmx it answers with the page as it now stands, for the actions region."""

        async def endpoint(request: Request) -> Response:
            account = await account_or_redirect(request)
            if isinstance(account, Response):
                return account
            form = await checked_form(request)
            if isinstance(form, Response):
                return form
            case_ref = request.path_params["case_ref"]
            actions = config.actions
            try:
                view = await run_in_threadpool(case_view, config.hub, case_ref, account.force)
            except ContractError:
                return not_found(request, account)
            if actions is None or not actions.can_sign(account.force) or view.former:
                return render(request, "refused.html", account, status=403)
            try:
                actor = actor_of(account)
                message = await run_in_threadpool(build, view, form, account)
                outcome = await actions.submit(account.force, case_ref, message, actor)
            except ContractError as refused:
                flash = f"Not sent: {refused.code}: {refused.message}"
            except ValueError as invalid:  # the message's own validation (e.g. an empty reason)
                first = str(invalid).splitlines()
                flash = f"Not sent: {first[2] if len(first) > 2 else first[0]}"
            else:
                flash = (
                    f"Sent and accepted by the hub: envelope {outcome.envelope_id}"
                    if outcome.accepted
                    else f"Refused by the hub: {outcome.reason}"
                )
            if request.headers.get("hx-request"):
                try:
                    context = await run_in_threadpool(case_context, account, case_ref)
                except ReadNotReported:
                    return render(request, "not_reported.html", account, status=503)
                if context is None:
                    return not_found(request, account)
                return render(request, "case.html", account, flash=flash, swapped=True, **context)
            request.session["flash"] = flash
            return RedirectResponse(f"/cases/{case_ref}#actions", status_code=303)

        return endpoint

    def build_delay(view: CaseView, form: dict[str, str], account: Account) -> Payload:
        return delay_notice(
            view,
            account,
            part_id=form.get("part_id", ""),
            reason=form.get("reason", ""),
            expected_by=form.get("expected_by", ""),
            now=config.clock(),
        )

    def build_acknowledgement(view: CaseView, form: dict[str, str], account: Account) -> Payload:
        acknowledged = {a.escalation_id for a in view.escalation_acknowledgements}
        waiting = [
            n
            for n in escalation_notices(config.hub, view.case_ref, account.force)
            if n.envelope_id not in acknowledged
        ]
        return escalation_acknowledgement(waiting, escalation_id=form.get("escalation_id", ""))

    def build_chase(view: CaseView, form: dict[str, str], account: Account) -> Payload:
        return chase(view, part_id=form.get("part_id", ""), note=form.get("note", ""))

    def build_reassignment(view: CaseView, form: dict[str, str], account: Account) -> Payload:
        return reassignment(
            view,
            part_id=form.get("part_id", ""),
            assigned_to=form.get("assigned_to", ""),
            assignee_kind=form.get("assignee_kind", ""),
        )

    async def statistics_page(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        start, end, error = _range(request, view_now())
        rows = await run_in_threadpool(case_counts, config.hub, account.force, start, end)
        by_route: dict[str, int] = {}
        by_outcome: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        for row in rows:
            by_route[row.route] = by_route.get(row.route, 0) + row.cases
            by_outcome[row.outcome] = by_outcome.get(row.outcome, 0) + row.cases
        return render(
            request,
            "statistics.html",
            account,
            rows=rows,
            start=start,
            end=end,
            error=error,
            by_route=by_route,
            by_outcome=by_outcome,
            total=sum(r.cases for r in rows),
        )

    async def statistics_csv(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account
        start, end, _ = _range(request, view_now())
        rows = await run_in_threadpool(case_counts, config.hub, account.force, start, end)
        name = f"crossforce-{account.force}-{start}-{end}.csv"
        return Response(
            counts_csv(rows),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    async def events(request: Request) -> Response:
        account = await account_or_redirect(request)
        if isinstance(account, Response):
            return account

        async def changes() -> AsyncIterator[dict[str, str]]:
            last = await run_in_threadpool(_stamp, config.hub, account.force)
            while True:
                await asyncio.sleep(config.poll_seconds)
                if await run_in_threadpool(signed_in, request, False) is None:
                    return  # signed out or expired: stop streaming
                stamp = await run_in_threadpool(_stamp, config.hub, account.force)
                if stamp != last:
                    last = stamp
                    yield {"event": "changed", "data": "1"}

        return EventSourceResponse(changes(), ping=15)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        account = await run_in_threadpool(signed_in, request)
        if status == 404:
            return not_found(request, account)
        return PlainTextResponse(str(getattr(exc, "detail", "error")), status_code=status)

    routes = [
        Route("/", home),
        Route("/sign-in", sign_in_page, methods=["GET"]),
        Route("/sign-in", sign_in, methods=["POST"]),
        Route("/sign-in/oidc", oidc_start, methods=["GET"]),
        Route("/sign-in/oidc/callback", oidc_callback, methods=["GET"]),
        Route("/sign-out", sign_out, methods=["POST"]),
        Route("/cases", cases_page),
        Route("/cases/{case_ref}", case_page),
        Route("/cases/{case_ref}/delay-notified", action(build_delay), methods=["POST"]),
        Route(
            "/cases/{case_ref}/escalation-acknowledged",
            action(build_acknowledgement),
            methods=["POST"],
        ),
        Route("/cases/{case_ref}/part-chased", action(build_chase), methods=["POST"]),
        Route("/cases/{case_ref}/part-reassigned", action(build_reassignment), methods=["POST"]),
        Route("/late", late_page),
        Route("/owed", owed_page),
        Route("/statistics", statistics_page),
        Route("/statistics.csv", statistics_csv),
        Route("/events", events),
        Route("/healthz", healthz),
        Mount("/static", app=StaticFiles(directory=HERE / "static"), name="static"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if config.actions is not None:
                await config.actions.aclose()  # its NATS connections

    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[
            Middleware(SecurityHeaders, tls=config.tls),
            Middleware(
                SessionMiddleware,
                secret_key=config.secret_key,
                session_cookie="crossforce_session",
                max_age=int(SESSION_LIFETIME.total_seconds()),
                same_site="lax",
                https_only=config.tls,
            ),
        ],
        exception_handlers={HTTPException: http_error},
    )


def _stamp(hub: Engine, force: str) -> tuple[Any, ...]:
    """Changes when anything this force may see changes: a delivery to it, a message it sent,
    or a case it takes part in."""
    log, done, cases, members = (
        schema.disclosure_log,
        schema.processed_envelopes,
        schema.cases,
        schema.case_participants,
    )
    with hub.connect() as db:
        delivered = db.execute(
            select(func.max(log.c.id)).where(log.c.disclosed_to == force)
        ).scalar()
        sent = db.execute(
            select(func.count()).select_from(done).where(done.c.sender == force)
        ).scalar()
        touched = db.execute(
            select(func.max(cases.c.updated_at)).where(
                cases.c.case_ref.in_(select(members.c.case_ref).where(members.c.force == force))
            )
        ).scalar()
    return (delivered, sent, str(touched))


def _range(request: Request, now: datetime) -> tuple[date, date, bool]:
    """The statistics period: the financial year to date unless both ends are given."""
    today = now.astimezone(LONDON).date()
    default_start = date(today.year if today.month >= 4 else today.year - 1, 4, 1)
    try:
        start = date.fromisoformat(request.query_params.get("from") or default_start.isoformat())
        end = date.fromisoformat(request.query_params.get("to") or today.isoformat())
    except ValueError:
        return default_start, today, True
    if end < start:
        return default_start, today, True
    return start, end, False
