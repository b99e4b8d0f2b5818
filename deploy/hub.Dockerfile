# The Crossforce hub. Build from the repository root:
#   docker build -f deploy/hub.Dockerfile -t crossforce/hub:0.1.0 .
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY contracts ./contracts
COPY broker ./broker
COPY adapters ./adapters
COPY ledger ./ledger
# The postgres extra brings the psycopg driver for the production database path.
RUN pip install ".[postgres]"

# No root at run time: the hub needs no privileges.
RUN useradd --system --uid 10001 --home-dir /var/lib/crossforce --create-home crossforce
USER crossforce
WORKDIR /var/lib/crossforce

ENTRYPOINT ["crossforce"]
CMD ["--help"]
