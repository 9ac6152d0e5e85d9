#!/usr/bin/env bash
# Where the time goes under the HTTP load (#16 part 3): `./dev profile [OPTIONS]`.
#
#   --seconds N   measured seconds (20)            --clients N  load clients (16)
#   --bin PATH    the service binary to profile (target/release/operations): an older build
#                 gives the "before" of a change, measured by the same load and the same counts
#   --out DIR     where the results go (target/profile/<binary>-<time>)
#   --rate N      commands/s of the load (0, as fast as it goes); with it, every command's
#                 answer is read back with its consistent_with token and the wait reported
#
# The script starts a PostgreSQL cluster of its own (initdb on a free port, under /tmp) with
# pg_stat_statements loaded, runs the service binary on it as its own process, drives it with
# the HTTP load benchmark (`http_load --url`), and over the measured seconds records:
#   - the service's CPU with perf (cpu-clock samples, DWARF call graphs) -> flame.svg, and the
#     share of samples under each part of the service (parts.txt) and the hottest functions;
#   - PostgreSQL's own statistics: every statement's calls, rows and time per command
#     (statements.txt), transactions and tuples per command (pg_stat_database);
#   - CPU seconds of the service, of PostgreSQL's processes and of the load, per command;
#   - the service's RSS.
# summary.txt has the figures; the cluster is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
seconds=20 clients=16 rate=0 bin="$ROOT/target/release/operations" out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --bin) bin=$(readlink -f "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    *) echo "profile: unknown option $1" >&2; exit 2 ;;
  esac
done
say() { printf '\033[1m[profile]\033[0m %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
[ -x "$bin" ] || die "no service binary at $bin"
[ -n "${PG_BIN:-}" ] && [ -x "$PG_BIN/initdb" ] || die "PG_BIN must name PostgreSQL's bin directory (./dev profile sets it)"
[ -n "${LOAD_BIN:-}" ] && [ -x "$LOAD_BIN" ] || die "LOAD_BIN must name the http_load benchmark's binary (./dev profile sets it)"
command -v perf >/dev/null || die "perf is not installed (Debian: apt-get install linux-perf)"
out=${out:-"$ROOT/target/profile/$(basename "$bin")-$(date +%Y%m%d-%H%M%S)"}
mkdir -p "$out"
out=$(readlink -f "$out")

# inferno turns perf's stacks into a flame graph; installed into target/tools on first use.
tools="$ROOT/target/tools/bin"
if [ ! -x "$tools/inferno-flamegraph" ]; then
  say "installing inferno (flame graphs) into target/tools"
  cargo install -q --locked inferno --root "$ROOT/target/tools"
fi

as_owner() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg=$(mktemp -d /tmp/operations-profile-XXXXXX)
chmod 755 "$pg"
[ "$(id -u)" -eq 0 ] && chown postgres: "$pg"
service_pid="" load_pid=""
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null && wait "$service_pid" 2>/dev/null || true
  as_owner "$PG_BIN/pg_ctl" stop -D "$pg/data" -m immediate >/dev/null 2>&1 || true
  rm -rf "$pg"
}
trap cleanup EXIT
as_owner "$PG_BIN/initdb" -D "$pg/data" -U postgres --auth=trust -E UTF8 --no-locale >"$out/initdb.log" 2>&1
port=""
for _ in $(seq 20); do
  try=$((20000 + RANDOM % 30000))
  if as_owner "$PG_BIN/pg_ctl" start -D "$pg/data" -l "$pg/postgres.log" -w -t 60 -o "-c listen_addresses=127.0.0.1 -p $try -k $pg \
      -c max_connections=300 -c shared_buffers=256MB -c shared_preload_libraries=pg_stat_statements \
      -c pg_stat_statements.track=top -c pg_stat_statements.max=10000" >/dev/null 2>&1; then
    port=$try; break
  fi
done
[ -n "$port" ] || die "PostgreSQL did not start; see $pg/postgres.log"
psql_() { "$PG_BIN/psql" -h "$pg" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE DATABASE operations"
psql_ -d operations -c "CREATE EXTENSION pg_stat_statements"
export DATABASE_URL="postgres://postgres@localhost/operations?host=$pg&port=$port"
"$bin" migrate >/dev/null 2>&1 || "$bin" migrate
key=$("$bin" keys create --name profile --role admin 2>/dev/null | tail -n 1)
[ -n "$key" ] || die "cannot issue a key"
http_port=$((20000 + RANDOM % 30000))
OPERATIONS_ADDR="127.0.0.1:$http_port" RUST_LOG=warn "$bin" serve >"$out/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$http_port/readyz" >/dev/null || die "the service did not start; see $out/service.log"
say "service $(basename "$bin") (pid $service_pid) on :$http_port, PostgreSQL on :$port"

warmup=5
# The load outlasts the measured window by five seconds, so that every counter is read under it;
# commands in the window are the load's rate times the window.
load_args=(--url "http://127.0.0.1:$http_port" --key "$key" --clients "$clients" --seconds "$((seconds + 5))" --warmup "$warmup")
[ "$rate" != 0 ] && load_args+=(--rate "$rate" --read-own-write)
"$LOAD_BIN" --bench "${load_args[@]}" >"$out/load.txt" 2>"$out/load.log" &
load_pid=$!
until grep -q '^driving' "$out/load.log" 2>/dev/null; do
  kill -0 "$load_pid" 2>/dev/null || die "the load stopped; see $out/load.log"
  sleep 0.05
done
sleep "$warmup"

# The measured window: counters before, perf over it, counters after.
ticks=$(getconf CLK_TCK)
postmaster=$(head -n 1 "$pg/data/postmaster.pid")
cpu_of() { # utime+stime of the processes named, in ticks
  local total=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] || continue
    total=$((total + $(awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$p/stat")))
  done
  echo "$total"
}
pg_pids() { echo "$postmaster" $(pgrep -P "$postmaster" || true); }
counters() {
  psql_ -d operations -tA -F ' ' -c "SELECT xact_commit + xact_rollback, tup_returned, tup_fetched,
    (SELECT coalesce(max(global_position), 0) FROM events) FROM pg_stat_database WHERE datname = 'operations'"
}
psql_ -d operations -tA -c "SELECT pg_stat_statements_reset()" >/dev/null
read -r xacts0 returned0 fetched0 position0 <<<"$(counters)"
# Backends started during the window are not counted by their parent; the pool is made first.
pg_before=$(cpu_of $(pg_pids)) service_before=$(cpu_of "$service_pid") load_before=$(cpu_of "$load_pid")
tables() {
  psql_ -d operations -tA -F ' ' -c "SELECT relname, seq_scan, seq_tup_read, coalesce(idx_scan, 0), coalesce(idx_tup_fetch, 0),
    n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
}
tables >"$out/tables.before"
start=$(date +%s.%N)
# System calls and context switches of the service, and context switches of the machine.
perf stat -x ';' -e syscalls:sys_enter_sendto,syscalls:sys_enter_recvfrom,syscalls:sys_enter_writev,syscalls:sys_enter_epoll_wait,syscalls:sys_enter_futex,context-switches \
  -p "$service_pid" -o "$out/syscalls.csv" -- sleep "$seconds" 2>>"$out/perf.log" &
stat_pid=$!
perf stat -x ';' -a -e context-switches -o "$out/switches.csv" -- sleep "$seconds" 2>>"$out/perf.log" &
switches_pid=$!
perf record -q -e cpu-clock -F 250 --call-graph dwarf,16384 -p "$service_pid" -o "$out/perf.data" \
  -- sleep "$seconds" 2>"$out/perf.log" || die "perf record failed; see $out/perf.log"
elapsed=$(echo "$(date +%s.%N) - $start" | bc)
wait "$stat_pid" "$switches_pid" || die "perf stat failed; see $out/perf.log"
pg_after=$(cpu_of $(pg_pids)) service_after=$(cpu_of "$service_pid") load_after=$(cpu_of "$load_pid")
read -r xacts1 returned1 fetched1 position1 <<<"$(counters)"
echo "ticks before/after: service $service_before $service_after, PostgreSQL $pg_before $pg_after, load $load_pid $load_before $load_after" >"$out/cpu.raw"
tables >"$out/tables.after"
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$service_pid/status")
hwm_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$service_pid/status")
psql_ -d operations -tA -F $'\t' -c "SELECT calls, rows, round(total_exec_time::numeric, 1),
    regexp_replace(query, '\s+', ' ', 'g') FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database
    WHERE datname = 'operations') ORDER BY calls DESC" >"$out/statements.raw"
wait "$load_pid" || die "the load failed; see $out/load.log"
load_pid=""
commands=$(awk -v elapsed="$elapsed" '/^throughput:/ { printf "%d", $2 * elapsed }' "$out/load.txt")
[ "${commands:-0}" -gt 0 ] || die "the load committed no command; see $out/load.txt"

say "folding $(basename "$out")/perf.data into a flame graph"
perf script -i "$out/perf.data" 2>/dev/null | "$tools/inferno-collapse-perf" --kernel >"$out/stacks.folded"
"$tools/inferno-flamegraph" --title "operations serve: $commands commands in ${seconds}s" \
  <"$out/stacks.folded" >"$out/flame.svg"

# CPU by part: each sample goes to the innermost frame a part claims (so the parts add up to
# the service's CPU); by work: to what the sample's task was doing (its outermost frames).
# A folded stack's count is its cpu-clock weight: nanoseconds of CPU.
awk -F ';' -v ns_per_second=1000000000 '
  BEGIN {
    n = split("kernel (system calls, scheduling)|memory (malloc, free, copies)|hashing (sha2, ring)|JSON (serde_json)|PostgreSQL driver (sqlx)|HTTP (hyper, axum, tower)|logs and metrics (tracing, metrics)|async runtime (tokio)|domain (aggregates, cqrs-es)|projectors (projections)|service (operations)|other", part, "|")
    pattern[1] = "_\\[k\\]$"
    pattern[2] = "malloc|^_?_?free|realloc|memcpy|memmove|memset|_int_|cfree|unlink_chunk|consolidate"
    pattern[3] = "sha2::|ring::"
    pattern[4] = "serde_json::|serde::"
    pattern[5] = "sqlx_postgres::|sqlx_core::"
    pattern[6] = "hyper::|hyper_util::|httparse|axum::|axum_core::|tower::|tower_http::|http::"
    pattern[7] = "tracing|metrics"
    pattern[8] = "tokio::"
    pattern[9] = "aggregates::|cqrs_es::"
    pattern[10] = "projections::"
    pattern[11] = "operations::"
    m = split("the feed reader|projectors and processes|HTTP requests (commands, reads)|runtime alone (idle, wake-ups)", work, "|")
  }
  {
    match($0, / [0-9]+$/); count = substr($0, RSTART + 1); $0 = substr($0, 1, RSTART - 1)
    total += count
    hit = n
    for (f = NF; f >= 1 && hit == n; f--)
      for (i = 1; i < n; i++) if ($f ~ pattern[i]) { hit = i; break }
    cpu[hit] += count
    if (hit == 1) { # a system call or the scheduler: who asked for it
      for (g = f; g >= 1; g--) if ($g !~ /_\[k\]$/) break
      asker = "other"
      for (; g >= 1 && asker == "other"; g--)
        for (i = 2; i < n; i++) if ($g ~ pattern[i]) { asker = part[i]; break }
      kernel[asker] += count
    }
    line = $0
    if (line ~ /projections::runner::reader/) w = 1
    else if (line ~ /projections::runner|operations::process::/) w = 2
    else if (line ~ /hyper::|axum::/) w = 3
    else w = 4
    by_work[w] += count
  }
  END {
    printf "%-44s %8s %6s\n", "CPU by part (innermost frame)", "seconds", "share"
    for (i = 1; i <= n; i++) printf "%-44s %8.2f %5.1f%%\n", part[i], cpu[i] / ns_per_second, 100 * cpu[i] / total
    printf "%-44s %8.2f\n", "the service, all samples", total / ns_per_second
    printf "\n%-44s %8s %6s\n", "kernel time, by who made the call", "seconds", "share"
    for (k in kernel) printf "%-44s %8.2f %5.1f%%\n", k, kernel[k] / ns_per_second, 100 * kernel[k] / total
    printf "\n%-44s %8s %6s\n", "CPU by work (the task a sample is in)", "seconds", "share"
    for (i = 1; i <= m; i++) printf "%-44s %8.2f %5.1f%%\n", work[i], by_work[i] / ns_per_second, 100 * by_work[i] / total
  }' "$out/stacks.folded" >"$out/parts.txt"
perf report -i "$out/perf.data" --no-children --sort symbol --stdio -g none --percent-limit 0.7 2>/dev/null \
  | grep -v '^#' | grep -v '^$' | head -n 30 >"$out/hottest.txt" || true

awk -F '\t' -v commands="$commands" '
  BEGIN { printf "%9s %9s %9s %9s  %s\n", "calls", "per cmd", "rows/call", "ms/call", "statement" }
  { calls += $1; time += $3
    printf "%9d %9.2f %9.1f %9.3f  %s\n", $1, $1 / commands, ($1 ? $2 / $1 : 0), ($1 ? $3 / $1 : 0), substr($4, 1, 150) }
  END { printf "%9d %9.2f %9s %9s  every statement (%.0f ms in all)\n", calls, calls / commands, "", "", time }
' "$out/statements.raw" >"$out/statements.txt"
statements=$(awk -F '\t' '{ s += $1 } END { print s }' "$out/statements.raw")

# Tuples read and written per command, table by table (the busiest first).
awk -v commands="$commands" '
  FNR == NR { for (i = 2; i <= 7; i++) before[$1, i] = $i; next }
  { for (i = 2; i <= 7; i++) d[i] = $i - before[$1, i]
    read = d[3] + d[5]; if (read + d[6] + d[7] == 0) next
    printf "%-34s %9.2f %9.2f %9.2f %9.2f %9.2f\n", $1, d[2] / commands, d[3] / commands, d[5] / commands, d[6] / commands, d[7] / commands }
' "$out/tables.before" "$out/tables.after" | sort -k3,3nr -k4,4nr \
  | { printf "%-34s %9s %9s %9s %9s %9s\n" "table (per command)" "seq scans" "seq read" "idx fetch" "inserted" "updated"; cat; } >"$out/tables.txt"
syscall() { awk -F ';' -v e="$1" -v commands="$commands" '$3 == e { printf "%.2f", $1 / commands }' "$out/$2"; }
events=$((position1 - position0))
per() { echo "scale=2; $1 / $commands" | bc; }
cpu_ms() { echo "scale=3; ($1) * 1000 / $ticks / $commands" | bc; }
{
  echo "binary:      $bin"
  echo "load:        $clients clients, $(grep -E '^throughput' "$out/load.txt" | sed 's/throughput: *//'): $commands in the ${elapsed%???????}s measured"
  grep -E '^(latency|own-write)' "$out/load.txt"
  echo "events:      $events appended in the window ($(echo "scale=2; $events / $commands" | bc) per command)"
  echo "per command, in PostgreSQL (statements of the service and its projectors together):"
  echo "  statements:     $(per "$statements")   (each one round trip; BEGIN and COMMIT included)"
  echo "  transactions:   $(per "$((xacts1 - xacts0))")"
  echo "  tuples read:    $(per "$((returned1 - returned0 + fetched1 - fetched0))")   (returned + fetched)"
  echo "per command, CPU (ms) over ${elapsed%???????}s on $(nproc) cores:"
  echo "  service:        $(cpu_ms "$service_after - $service_before")"
  echo "  PostgreSQL:     $(cpu_ms "$pg_after - $pg_before")"
  echo "  load (client):  $(cpu_ms "$load_after - $load_before")"
  echo "per command, system calls of the service (perf stat):"
  echo "  send (to PostgreSQL):  $(syscall syscalls:sys_enter_sendto syscalls.csv)    recv: $(syscall syscalls:sys_enter_recvfrom syscalls.csv)"
  echo "  writev (HTTP answers): $(syscall syscalls:sys_enter_writev syscalls.csv)    epoll_wait: $(syscall syscalls:sys_enter_epoll_wait syscalls.csv)    futex: $(syscall syscalls:sys_enter_futex syscalls.csv)"
  echo "  context switches: $(syscall context-switches syscalls.csv) of the service, $(syscall context-switches switches.csv) of the machine"
  echo "service RSS:    $((rss_kb / 1024)) MiB at the end (peak $((hwm_kb / 1024)) MiB)"
  echo
  cat "$out/parts.txt"
  echo
  head -n 12 "$out/tables.txt"
} >"$out/summary.txt"
cat "$out/summary.txt"
say "results in ${out#"$ROOT"/}: summary.txt, flame.svg, parts.txt, hottest.txt, statements.txt, tables.txt"
