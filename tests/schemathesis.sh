#!/usr/bin/env bash
# Schemathesis over /api/openapi.json against a live server: every operation, generated
# requests, no 5xx and every answer as its schema says (status, type, headers, body).
# A bearer token goes on every request, so the checks that drop it (`ignored_auth`,
# `negative_data_rejection` of missing credentials) do not apply. Usage:
#   tests/schemathesis.sh [path/to/kanect]      (default: target/release/kanect)
# Needs `pip install schemathesis`. Runs a server of its own on a fresh data dir.
set -euo pipefail
cd "$(dirname "$0")/.."

kanect=$(realpath "${1:-target/release/kanect}")
port=${KANECT_ST_PORT:-18765}
base="http://127.0.0.1:$port"
dir=$(mktemp -d)
server=
cleanup() {
    if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; fi
    rm -rf "$dir"
}
trap cleanup EXIT

export KANECT_DATA_DIR="$dir/data" KANECT_PORT="$port" KANECT_ADDRESS=127.0.0.1
export KANECT_LOG_LEVEL=warn KANECT_POLL_WAIT_MAX_S=1 KANECT_SIGNUP=open
password='schemathesis-a-long-passphrase-7'
printf '%s\n' "$password" | "$kanect" createsuperuser --username tester \
    --email tester@example.com --password-stdin >/dev/null 2>&1
printf '%s\n' "$password" | "$kanect" createsuperuser --username bob \
    --email bob@example.com --password-stdin >/dev/null 2>&1
(cd "$dir" && exec "$kanect" serve) &
server=$!
for _ in $(seq 1 100); do
    curl -fsS "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

# Sign in as a browser does: the form's CSRF token, then the session cookie.
jar="$dir/cookies"
token() { grep -o 'name="csrf-token" content="[^"]*"' | head -n 1 | sed 's/.*content="//; s/"$//'; }
csrf=$(curl -fsS -c "$jar" -b "$jar" "$base/login" | token)
curl -fsS -c "$jar" -b "$jar" -o /dev/null \
    --data-urlencode "csrf_token=$csrf" --data-urlencode "username=tester" \
    --data-urlencode "password=$password" "$base/login"
csrf=$(curl -fsS -c "$jar" -b "$jar" "$base/" | token)
session=$(awk '$6 == "kanect_session" { print $7 }' "$jar")
[ -n "$session" ] || { echo "schemathesis: could not sign in"; exit 1; }

# Something to read and write: a group with a message.
curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"title": "general", "members": ["bob"]}' "$base/api/chats" >/dev/null
curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
    -d '{"body": "hello @bob"}' "$base/api/chats/1/messages" >/dev/null

# A personal API token for the run (a first one as a decoy: a generated DELETE of
# /api/me/tokens/1 revokes that one, not the run's).
for name in decoy schemathesis; do
    bearer=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
        -d "{\"name\": \"$name\"}" "$base/api/me/tokens" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
done

# From the temporary folder: Schemathesis keeps a cache where it runs.
cd "$dir"
st() {
    schemathesis run "$base/api/openapi.json" \
        --header "Authorization: Bearer $bearer" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
        --max-examples "${KANECT_ST_EXAMPLES:-25}" \
        --no-color "$@"
}
# Revoking a token last: a generated id may be the run's own.
st --exclude-name 'DELETE /api/me/tokens/{id}'
st --include-name 'DELETE /api/me/tokens/{id}'
