#!/bin/sh
# Entrypoint of the hub image (deploy/hub.Dockerfile): `crossforce-entrypoint COMMAND...`.
#
# `crossforce` reads its key passphrase and database URL from environment variables only.
# So that neither has to be written into a container definition, NAME_FILE=/path is turned
# into NAME=<the file's contents> here (trailing newlines dropped), then COMMAND runs.
# The ledger secrets need no help: crossforce reads their _FILE forms itself.
set -eu

for name in CROSSFORCE_KEY_PASSPHRASE CROSSFORCE_DB_URL; do
    eval "file=\${${name}_FILE:-}"
    [ -n "$file" ] || continue
    eval "given=\${${name}:-}"
    if [ -n "$given" ]; then
        echo "crossforce-entrypoint: set ${name} or ${name}_FILE, not both" >&2
        exit 64
    fi
    if [ ! -r "$file" ]; then
        echo "crossforce-entrypoint: ${name}_FILE=${file} is not a readable file" >&2
        exit 66
    fi
    value=$(cat "$file")
    export "$name=$value"
    unset "${name}_FILE"
done

exec "$@"
