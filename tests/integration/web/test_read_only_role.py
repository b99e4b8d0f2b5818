"""On PostgreSQL the web app reads the hub's tables as a role that can only SELECT them
(deploy/postgres-init/10-web-role.sh, run here on Debian's PostgreSQL as written), and
keeps its own accounts, sessions and consultation log in tables it owns."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert, select
from sqlalchemy.exc import DBAPIError

from crossforce.adapters.sql import schema
from crossforce.adapters.sql.engine import make_engine, open_read_only
from crossforce.adapters.sql.migrate import BROKER_SCHEMA, prepare_engine
from crossforce.adapters.web.store import Role, WebStore

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
