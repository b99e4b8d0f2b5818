#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# The supervisors' web app gets its own role: SELECT on every table the hub creates, and
# its own tables (accounts, sessions, the s.62 consultation log), never a write to the hub's
# but one: the hub, once it has made its tables, grants INSERT on access_reports (reads of a
# case it reports to a PSD; docs/decisions/0051).
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v web_password="$(cat /run/secrets/web_db_password)" <<'SQL'
CREATE ROLE crossforce_web LOGIN PASSWORD :'web_password';
GRANT CONNECT ON DATABASE crossforce TO crossforce_web;
GRANT USAGE, CREATE ON SCHEMA public TO crossforce_web;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO crossforce_web;
ALTER DEFAULT PRIVILEGES FOR ROLE crossforce IN SCHEMA public GRANT SELECT ON TABLES TO crossforce_web;
SQL
