#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, the demo and benchmarks.
#   pg-cluster.sh start DIR [PORT] [extra postgres -c settings...]  -> prints the port
#   pg-cluster.sh stop DIR
#   pg-cluster.sh restart DIR
# Runs the server as the 'postgres' user when invoked as root (PostgreSQL refuses root).
# Listens on 127.0.0.1:PORT and on a Unix socket in DIR/socket. Local socket: trust;
# TCP: scram-sha-256 (the superuser 'postgres' gets the password 'postgres', set by initdb).
# Durability: fsync is off (a crash of the machine may lose the throwaway cluster, a crash of
# the server may not), but every commit reaches the WAL before it returns (synchronous_commit
# stays on), and stop is a fast shutdown: what a test committed survives a stop and restart.
# max_prepared_transactions is 20 (PostgreSQL's default of 0 refuses PREPARE TRANSACTION); a
# prepared transaction survives a stop and restart too, so whoever prepares one rolls it back.
set -euo pipefail
cmd=${1:?usage: pg-cluster.sh start|stop|restart DIR [PORT]}
dir=${2:?usage: pg-cluster.sh start|stop|restart DIR [PORT]}
shift 2 || true

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/initdb" ] || { echo "pg-cluster.sh: no PostgreSQL server found; run scripts/deps.sh test" >&2; exit 1; }

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# The server must not inherit the caller's descriptors (a pipe held open by the postmaster
# would keep whoever reads that pipe waiting forever).
close_inherited_fds() {
  local fd
  for fd in /proc/$$/fd/*; do
    fd=${fd##*/}
    [ "$fd" -gt 2 ] 2>/dev/null && eval "exec $fd>&-" 2>/dev/null || true
  done
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
  port=${1:-}
  [ $# -gt 0 ] && shift
  [ -n "$port" ] && [ "$port" != 0 ] || port=$(free_port)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir"
  chmod 700 "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    as_pg sh -c "umask 077; echo postgres > '$dir/pwfile'"
    as_pg "$bindir/initdb" -D "$dir/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      --pwfile="$dir/pwfile" -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$dir/pwfile"
    as_pg mkdir -p "$dir/socket"
    {
      echo "listen_addresses = '127.0.0.1'"
      echo "unix_socket_directories = '$dir/socket'"
      echo "fsync = off"
      echo "full_page_writes = off"
      echo "shared_buffers = 32MB"
      echo "max_connections = 300"
      # Prepared transactions (off by default) for the tests of pg_prepared_transactions & co.
      echo "max_prepared_transactions = 20"
      echo "logging_collector = off"
      echo "log_min_messages = warning"
      for setting in "$@"; do echo "$setting"; done
    } | as_pg tee -a "$dir/data/postgresql.conf" >/dev/null
  fi
  ( close_inherited_fds; as_pg "$bindir/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/server.log" -w -t 60 start >/dev/null ) \
    || { cat "$dir/server.log" >&2; exit 1; }
  echo "$port" > "$dir/port"
  echo "$port"
  ;;
stop)
  [ -f "$dir/data/postmaster.pid" ] || exit 0
  as_pg "$bindir/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  ;;
restart)
  port=$(cat "$dir/port")
  ( close_inherited_fds; as_pg "$bindir/pg_ctl" -D "$dir/data" -o "-p $port" -l "$dir/server.log" -w -t 60 start >/dev/null )
  ;;
*)
  echo "pg-cluster.sh: unknown command '$cmd' (start, stop or restart)" >&2; exit 2 ;;
esac
