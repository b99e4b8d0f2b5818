"""On PostgreSQL the web app reads the hub's tables as a role that can only SELECT them
(deploy/postgres-init/10-web-role.sh, run here on Debian's PostgreSQL as written), and
keeps its own accounts, sessions and consultation log in tables it owns; its one write to the
hub's tables is queueing a read for the hub to report to a PSD (decision 0051)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.sql.report_queue import (
    DEFAULT_WEB_ROLE,
    grant_report_queue,
    may_queue,
    open_report_queue,
)
from crossforce.adapters.web.store import Role, WebStore
from crossforce.broker.domain.access import CaseRead, ReadChannel
from crossforce.broker.service.case_reads import new_report_id, queue_read

SCRIPT = Path(__file__).parents[3] / "deploy" / "postgres-init" / "10-web-role.sh"
PASSWORD = "a web role password"
NOW = datetime(2026, 11, 2, tzinfo=UTC)

pytestmark = pytest.mark.postgres


def _role_sql() -> str:
    """The script's SQL, with the password psql would substitute for :'web_password'."""
    sql = SCRIPT.read_text().split("<<'SQL'\n", 1)[1].split("\nSQL\n", 1)[0]
    return sql.replace(":'web_password'", f"'{PASSWORD}'")


def test_the_web_role_reads_the_hub_and_writes_only_its_own_tables(postgres_url: str) -> None:
    import psycopg

    owner_dsn = re.sub(r"^postgresql\+psycopg", "postgresql", postgres_url)
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        owner.execute(_role_sql())
    hub = make_engine(postgres_url)
    prepare_engine(hub, BROKER_SCHEMA)  # the hub makes its tables after the role exists
    with hub.begin() as db:
        db.execute(insert(schema.case_participants).values(case_ref="CF-RO-1", force="ESSEX"))
    web_url = postgres_url.replace(
        "crossforce@", f"crossforce_web:{PASSWORD.replace(' ', '%20')}@", 1
    )

    reader = open_read_only(web_url)
    with reader.connect() as db:
        forces = db.execute(
            select(schema.case_participants.c.force).where(
                schema.case_participants.c.case_ref == "CF-RO-1"
            )
        ).scalars()
        assert list(forces) == ["ESSEX"]
    # Even without the read-only session setting, the role itself may not write.
    plain = create_engine(web_url)
    with pytest.raises(DBAPIError, match="permission denied"), plain.begin() as db:
        db.execute(insert(schema.case_participants).values(case_ref="CF-RO-2", force="KENT"))

    store = WebStore(plain)  # the app's own tables, made and written through the same role
    store.add_account(
        "essex.sup", "ESSEX", Role.SUPERVISOR, "long enough password", datetime.now(UTC)
    )
    assert store.authenticate("essex.sup", "long enough password", NOW) is not None
    # And the read-only connection cannot write even those.
    with pytest.raises(DBAPIError, match="read-only transaction"), reader.begin() as db:
        db.execute(insert(schema.case_participants).values(case_ref="CF-RO-3", force="KENT"))
    plain.dispose()
    reader.dispose()
    hub.dispose()


def test_the_web_role_may_queue_access_reports_and_change_nothing_else(
    fresh_postgres_url: str,
) -> None:
    import psycopg

    owner_dsn = re.sub(r"^postgresql\+psycopg", "postgresql", fresh_postgres_url)
    with psycopg.connect(owner_dsn, autocommit=True) as owner:
        # Roles belong to the whole server: the test above may have made this one already.
        made = owner.execute("SELECT 1 FROM pg_roles WHERE rolname = 'crossforce_web'")
        existed = made.fetchone() is not None
        sql = _role_sql()
        if existed:
            sql = sql.replace("CREATE ROLE crossforce_web", "ALTER ROLE crossforce_web", 1)
        owner.execute(sql)
    hub = make_engine(fresh_postgres_url)
    prepare_engine(hub, BROKER_SCHEMA)
    web_url = fresh_postgres_url.replace(
        "crossforce@", f"crossforce_web:{PASSWORD.replace(' ', '%20')}@", 1
    )
    queue = open_report_queue(web_url)
    assert not may_queue(queue)  # `crossforce web serve` warns
    # The hub grants it at every start (crossforce.broker.runtime); twice changes nothing.
    assert grant_report_queue(hub, DEFAULT_WEB_ROLE) and grant_report_queue(hub, DEFAULT_WEB_ROLE)
    assert not grant_report_queue(hub, "no_such_role")
    assert may_queue(queue)
    read = CaseRead(
        new_report_id(NOW), "CF-RO-1", "ESSEX", "essex.sup", ReadChannel.WEB, True, "why", NOW
    )
    queue_read(queue, read)
    for statement in (
        update(schema.access_reports).values(relayed_at=NOW),
        delete(schema.access_reports),
        insert(schema.case_participants).values(case_ref="CF-RO-1", force="KENT"),
    ):
        with pytest.raises(DBAPIError, match="permission denied"), queue.begin() as db:
            db.execute(statement)
    with hub.connect() as db:
        queued = db.execute(select(schema.access_reports.c.report_id)).scalars()
        assert list(queued) == [read.report_id]
    queue.dispose()
    hub.dispose()
    if not existed:
        with psycopg.connect(owner_dsn, autocommit=True) as owner:
            owner.execute("DROP OWNED BY crossforce_web")
            owner.execute("DROP ROLE crossforce_web")
