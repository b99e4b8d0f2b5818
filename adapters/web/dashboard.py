"""A read-only web dashboard for a force's supervisors: late parts and the force's cases.

It shows one force's view only (need-to-know), binds to localhost by default, and is meant
to sit behind the force's own single sign-on when exposed further. Standard library only.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from html import escape
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from sqlalchemy import Engine

from broker.domain.calendar import LONDON
from broker.escalation.overdue import overdue_parts
from broker.service.queries import case_view, list_cases
from contracts.errors import ContractError

Clock = Callable[[], datetime]

_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{border:1px solid #bbb;padding:.3rem .6rem;text-align:left}
th{background:#eef} .late{color:#b00;font-weight:bold} .red{background:#fdd}
"""


class Dashboard:
    def __init__(self, engine: Engine, force: str, clock: Clock | None = None) -> None:
        self.engine = engine
        self.force = force
        self.clock = clock or (lambda: datetime.now(UTC))

    def overdue_json(self) -> list[dict[str, Any]]:
        return [
            {
                "case_ref": p.case_ref,
                "part_id": p.part_id,
                "owner_force": p.owner_force,
                "step": p.step,
                "due_at": p.due_at.isoformat(),
                "working_days_late": p.working_days_late,
                "late": p.late,
                "red": p.red,
            }
            for p in self._overdue()
        ]

    def _overdue(self) -> list[Any]:
        # A supervisor sees late parts their force owns, and parts of cases it co-ordinates.
        mine = {
            c.case_ref
            for c in list_cases(self.engine, self.force)
            if c.coordinating_force == self.force
        }
        return [
            p
            for p in overdue_parts(self.engine, self.clock())
            if p.owner_force == self.force or p.case_ref in mine
        ]

    def home_page(self) -> str:
        now = self.clock().astimezone(LONDON)
        rows = (
            "".join(
                f'<tr class="{"red" if p.red else ""}"><td><a href="/case/{escape(p.case_ref)}">'
                f"{escape(p.case_ref)}</a></td><td>{escape(p.part_id)}</td>"
                f"<td>{escape(p.owner_force)}</td><td>{escape(p.step)}</td>"
                f"<td>{p.due_at.astimezone(LONDON):%a %d %b %Y %H:%M}</td>"
                f'<td class="{"late" if p.late else ""}">{p.working_days_late}</td></tr>'
                for p in self._overdue()
            )
            or "<tr><td colspan=6>Nothing late or due soon.</td></tr>"
        )
        cases = (
            "".join(
                f'<tr class="{"red" if c.red else ""}"><td><a href="/case/{escape(c.case_ref)}">'
                f"{escape(c.case_ref)}</a></td><td>{escape(c.status)}</td>"
                f"<td>{escape(c.receiving_force)}</td><td>{escape(c.coordinating_force)}</td></tr>"
                for c in list_cases(self.engine, self.force)
            )
            or "<tr><td colspan=4>No cases.</td></tr>"
        )
        return _page(
            f"{self.force}: responses to track",
            f"<p>As at {now:%a %d %b %Y %H:%M} UK time. Refreshes every 30 seconds.</p>"
            '<h2>Late and soon-due parts</h2><table id="overdue"><tr><th>case</th><th>part</th>'
            "<th>owner</th><th>step</th><th>due</th><th>working days late</th></tr>"
            f'{rows}</table><h2>Cases</h2><table id="cases"><tr><th>case</th><th>status</th>'
            f"<th>receiving</th><th>co-ordinating</th></tr>{cases}</table>",
        )

    def case_page(self, case_ref: str) -> str:
        view = case_view(self.engine, case_ref, self.force)
        parts = "".join(
            f"<tr><td>{escape(p.part_id)}</td><td>{escape(p.kind.value)}</td>"
            f"<td>{escape(p.owner)}</td><td>{escape(p.status.value)}</td>"
            f"<td>{p.due_at.astimezone(LONDON):%a %d %b %Y %H:%M}</td></tr>"
            if p.due_at
            else f"<tr><td>{escape(p.part_id)}</td><td>{escape(p.kind.value)}</td>"
            f"<td>{escape(p.owner)}</td><td>{escape(p.status.value)}</td><td></td></tr>"
            for p in view.parts
        )
        return _page(
            f"Case {view.case_ref}",
            f"<p>{escape(view.status.value)} · receiving {escape(view.receiving_force)} · "
            f"co-ordinating {escape(view.coordinating_force)} · viewed as {escape(self.force)}"
            f"{' · <strong>IMMEDIATE RISK</strong>' if view.priority else ''}</p>"
            '<table id="parts"><tr><th>part</th><th>kind</th><th>owner</th><th>status</th>'
            f'<th>due</th></tr>{parts}</table><p><a href="/">back</a></p>',
        )

    def serve(self, host: str = "127.0.0.1", port: int = 8400) -> ThreadingHTTPServer:
        dashboard = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                try:
                    status, kind, body = dashboard.route(unquote(self.path))
                except ContractError as refused:
                    status, kind, body = HTTPStatus.NOT_FOUND, "text/plain", refused.message
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return  # request lines name case references: not logged

        return ThreadingHTTPServer((host, port), Handler)

    def route(self, path: str) -> tuple[HTTPStatus, str, str]:
        if path in ("/", "/index.html"):
            return HTTPStatus.OK, "text/html", self.home_page()
        if path.startswith("/case/"):
            return HTTPStatus.OK, "text/html", self.case_page(path.removeprefix("/case/"))
        if path == "/api/overdue":
            return HTTPStatus.OK, "application/json", json.dumps(self.overdue_json())
        if path == "/healthz":
            return HTTPStatus.OK, "text/plain", "ok"
        return HTTPStatus.NOT_FOUND, "text/plain", "not found"


def _page(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="refresh" content="30">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )
