#!/usr/bin/env bash
# batchcast reading a Django site's PostgreSQL database (--directory
# postgresql://...): starts a private PostgreSQL server in a temporary
# folder, on a free loopback port, runs the Django directory cases and the
# outage cases against it, and stops the server whatever happens.
#
# Usage: postgres_directory_test.sh PYTHON PATH_TO_BATCHCAST
# initdb refuses to run as root, so as root the cluster belongs to the
# `postgres` system user the Debian package creates.
set -euo pipefail

python=$1
binary=$(realpath "$2")
here=$(cd "$(dirname "$0")" && pwd)

bindirs=(/usr/lib/postgresql/*/bin)
bindir=$(printf '%s\n' "${bindirs[@]}" | sort -V | tail -n 1)
if [[ -z $bindir || ! -x $bindir/initdb ]]; then
  echo "postgres_directory_test: no PostgreSQL server under" \
    "/usr/lib/postgresql (scripts/install-deps installs it)" >&2
  exit 1
fi

# Whatever PG* the caller has set must not steer the test elsewhere.
while read -r name; do
  unset "$name"
done < <(compgen -e PG || true)

workdir=$(mktemp -d /tmp/batchcast-pg.XXXXXX)
data=$workdir/data
sockets=$workdir/sockets
server_log=$workdir/server.log
as_owner=()
if [[ $(id -u) -eq 0 ]]; then
  as_owner=(runuser -u postgres --)
  chown postgres: "$workdir"
fi

stop_server() {
  [[ -f $data/postmaster.pid ]] || return 0
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m fast -w -t 20 stop \
    >/dev/null 2>&1 && return 0
  # pg_ctl could not stop it in time: end the postmaster we started.
  local pid
  pid=$(head -n 1 "$data/postmaster.pid" 2>/dev/null || true)
  if [[ -n $pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

cleanup() {
  local code=$?
  stop_server
  if ((code != 0)) && [[ -f $server_log ]]; then
    echo "--- PostgreSQL log ---" >&2
    tail -n 40 "$server_log" >&2
  fi
  rm -rf "$workdir"
  exit "$code"
}
trap cleanup EXIT

"${as_owner[@]}" mkdir "$sockets"
"${as_owner[@]}" "$bindir/initdb" -D "$data" -U postgres --auth=trust \
  -E UTF8 --locale=C --no-sync >"$workdir/initdb.log" 2>&1 ||
  {
    cat "$workdir/initdb.log" >&2
    exit 1
  }

free_port() {
  "$python" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# The port is free when chosen but may be taken before the server binds
# it, so a failed start is tried again on another port, a few times.
start_server() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$server_log" -w -t 30 \
    -o "-h 127.0.0.1 -p $port -k $sockets -F" start >/dev/null
}
started=0
for _ in 1 2 3; do
  port=$(free_port)
  if start_server; then
    started=1
    break
  fi
done
if ((started == 0)); then
  echo "postgres_directory_test: PostgreSQL did not start" >&2
  exit 1
fi

"$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres batchcast

export BATCHCAST_TEST_PG_HOST=127.0.0.1
export BATCHCAST_TEST_PG_PORT=$port
export BATCHCAST_TEST_PG_USER=postgres
export BATCHCAST_TEST_PG_NAME=batchcast

echo "== Django sessions against PostgreSQL (port $port)"
timeout 90 "$python" "$here/django_directory_test.py" "$binary"

# The outage test stops and restarts this same server through these.
export BATCHCAST_TEST_PG_STOP="${as_owner[*]} $bindir/pg_ctl -D $data -m fast -w -t 20 stop"
export BATCHCAST_TEST_PG_START="${as_owner[*]} $bindir/pg_ctl -D $data -l $server_log -w -t 30 -o '-h 127.0.0.1 -p $port -k $sockets -F' start"
echo "== PostgreSQL unreachable"
timeout 60 "$python" "$here/postgres_outage_test.py" "$binary"
