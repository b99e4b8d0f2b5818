# The Crossforce hub. Build from the repository root:
#   docker build -f deploy/hub.Dockerfile -t crossforce/hub:0.1.0 .
# The same image runs `crossforce web serve` (see deploy/docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY crossforce ./crossforce
COPY contracts ./contracts
COPY broker ./broker
COPY adapters ./adapters
COPY ledger ./ledger
# The postgres extra brings the psycopg driver for the production database path.
RUN pip install ".[postgres]"

# No root at run time: the hub needs no privileges. /var/lib/crossforce/data is the data
# directory (`--data-dir`); it exists owned by the hub user so that a volume mounted there
# starts out writable by it. Secret files mounted into the container must be readable by
# uid 10001 (see deploy/README.md); crossforce reads them itself through the *_FILE variables.
RUN groupadd --system --gid 10001 crossforce \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/crossforce --create-home crossforce \
 && install -d -o crossforce -g crossforce -m 0700 /var/lib/crossforce/data
USER 10001:10001
WORKDIR /var/lib/crossforce

# `crossforce up --ops-port` (CROSSFORCE_OPS_PORT) serves /healthz; a container without an
# ops port (the dashboard) has nothing to probe and counts as healthy.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 CMD \
  python -c "import os, sys, urllib.request as u; p = os.environ.get('CROSSFORCE_OPS_PORT'); sys.exit(0 if not p else u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=2).status != 200)"

ENTRYPOINT ["crossforce"]
CMD ["--help"]
