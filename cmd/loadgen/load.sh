#!/bin/sh
# make load: start daisuso on the demo province (embedded FerretDB on SQLite,
# a redis-server of its own when one is installed), then put the campaign-day
# mix on it with cmd/loadgen. LOADFLAGS passes flags to loadgen, e.g.
# LOADFLAGS="-mix 30s -solo 5s" for a short run. LOAD_POSTGRES=1 runs the
# embedded FerretDB on this machine's PostgreSQL (a database of its own,
# dropped at the end) instead of SQLite.
set -eu
dir=$(mktemp -d)
port=${LOAD_PORT:-18080}
rport=${LOAD_REDIS_PORT:-16379}
go build -o "$dir/daisuso" ./cmd/daisuso
redis_url=""
stores="embedded FerretDB on SQLite"
if command -v redis-server >/dev/null 2>&1; then
	redis-server --bind 127.0.0.1 --port "$rport" --save '' --appendonly no --dir "$dir" >"$dir/redis.log" 2>&1 &
	rpid=$!
	redis_url="redis://127.0.0.1:$rport/0"
	redis_kind="a real redis-server"
else
	rpid=""
	redis_kind="the in-process Redis (no redis-server installed)"
	echo "load: no redis-server installed; the server uses its in-process Redis" >&2
fi
pg_url=""
pgdb="daisuso_load_$$"
if [ "${LOAD_POSTGRES:-}" = 1 ]; then
	createdb -h 127.0.0.1 -U postgres "$pgdb"
	pg_url="postgres://postgres@127.0.0.1:5432/$pgdb"
	stores="embedded FerretDB on PostgreSQL"
fi
FERRETDB_POSTGRES_URL="$pg_url" DATA_DIR="$dir/data" PORT="$port" REDIS_URL="$redis_url" QUIET_HOURS=off \
	RATE_LIMIT_USER=0 RATE_LIMIT_IP=0 LOG_LEVEL=warn LOG_FORMAT=json \
	"$dir/daisuso" demo >"$dir/server.log" 2>&1 &
pid=$!
cleanup() {
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	[ -n "$rpid" ] && kill "$rpid" 2>/dev/null || true
	[ -n "$pg_url" ] && dropdb -h 127.0.0.1 -U postgres "$pgdb" 2>/dev/null || true
	rm -rf "$dir"
}
trap cleanup EXIT INT TERM
echo "load: seeding the demo province and starting the server (about half a minute)" >&2
i=0
until curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ "$i" -gt 1200 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "load: the server did not become ready:" >&2
		tail -20 "$dir/server.log" >&2
		exit 1
	fi
	sleep 0.5
done
# shellcheck disable=SC2086
go run ./cmd/loadgen -url "http://127.0.0.1:$port" -stores "$stores, $redis_kind" ${LOADFLAGS:-}
