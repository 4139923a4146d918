# Shared by the benchmarks (sourced, after scripts/lib/common.sh): the bench database, the
# release binary, and a server to measure. Each function says what it sets.

# Sets db, url (DATABASE_URL of dd_bench_<N>) and maintenance (the server's postgres database).
bench_database() {
  db="dd_bench_$1"
  url=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$DATABASE_URL" "$db")
  maintenance=$(python3 -c 'import sys, urllib.parse as u; p = u.urlsplit(sys.argv[1]); print(u.urlunsplit(p._replace(path="/postgres")))' "$DATABASE_URL")
}

# Builds the release binary; sets bin.
bench_build() {
  say "building the release binary..."
  cargo build --release --quiet --bin diaspora-directory
  bin=target/release/diaspora-directory
}

# Seeds N synthetic organizations into a fresh dd_bench_<N> (needs bench_database and
# bench_build first). With `reuse`, keeps the database when it already holds N organizations.
bench_seed() {
  local organizations=$1 mode=${2:-fresh} have
  if [[ "$mode" == reuse ]]; then
    have=$(psql "$url" -qAtc "SELECT count(*) FROM organizations" 2>/dev/null || echo 0)
    if [[ "$have" -eq "$organizations" ]]; then
      say "reusing $db ($organizations organizations)"
      return
    fi
  fi
  say "recreating $db and seeding $organizations organizations..."
  psql "$maintenance" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null
  DATABASE_URL="$url" RUST_LOG=warn "$bin" seed --synthetic "$organizations"
  psql "$url" -qc "VACUUM ANALYZE" >/dev/null
}

# Serves dd_bench_<N> on a free port, logging to target/bench/<name>.log, and waits until it is
# ready; stops it on exit. Extra arguments are environment assignments for the server. Sets
# port and server (its pid). Migrations the seeded database lacks are applied by `serve`.
bench_serve() {
  local name=$1
  shift
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  mkdir -p target/bench
  local log=target/bench/$name.log
  env "$@" DATABASE_URL="$url" LISTEN_ADDR="127.0.0.1:$port" RUST_LOG=warn "$bin" serve >"$log" 2>&1 &
  server=$!
  trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do
    curl -fsS "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && return
    kill -0 "$server" 2>/dev/null || { cat "$log" >&2; die "the server exited (log above)"; }
    sleep 0.5
  done
  cat "$log" >&2
  die "the server did not become ready in 30 s"
}
