#!/usr/bin/env bash
# `preserve serve` side by side with nginx serving the same bytes from files (issue 4's speed
# targets). Both servers run on 127.0.0.1 with the same number of workers/threads, wrk drives them
# on loopback. Prints: req/s and p99 per body size and connection count, the RSS growth of
# `preserve serve` while 64 connections pull the 2 MB body, and the time per request of the whole
# medium list. Stops both servers on exit, also on error or Ctrl-C.
#
#   bench/bench_http.sh [--build DIR] [--duration SECONDS] [--rounds R] [--threads N] [--sendfile-from KIB] [--sendfile-to KIB] [--nginx-only] [--keep]
# Each cell is R alternating rounds (nginx, preserve, nginx, ...); the table shows the medians, so a
# burst of other work on the machine hits both servers rather than one.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${PRESERVE_BUILD_DIR:-$ROOT_DIR/build}
DURATION=4        # seconds per wrk run
ROUNDS=5          # runs per server and cell: about 5 minutes in all
THREADS=2         # nginx worker_processes = preserve serve --threads
NGINX_ONLY=0
KEEP=0
SENDFILE_ARGS=()  # preserve serve --sendfile-from/--sendfile-to, when given (else the server's defaults)

usage() {
    sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD_DIR=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --sendfile-from | --sendfile-to) SENDFILE_ARGS+=("$1" "$2"); shift 2 ;;
    --nginx-only) NGINX_ONLY=1; shift ;;
    --keep) KEEP=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "bench_http: unknown option $1" >&2; usage >&2; exit 2 ;;
    esac
done
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR=$PWD/$BUILD_DIR ;; esac

PRESERVE=$BUILD_DIR/preserve
for tool in nginx wrk curl sqlite3; do
    command -v "$tool" >/dev/null || { echo "bench_http: $tool is missing (apt-get install ${tool/nginx/nginx-light})" >&2; exit 1; }
done
[ -x "$PRESERVE" ] || { echo "bench_http: no $PRESERVE (build first)" >&2; exit 1; }

WORK=$(mktemp -d /tmp/preserve-bench-http-XXXXXX)
NGINX_PID=
PRESERVE_PID=
SAMPLER_PID=

stop() {
    local pid=$1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
    stop "$SAMPLER_PID"
    stop "$PRESERVE_PID"
    stop "$NGINX_PID" # the master: it takes its workers with it
    if [ "$KEEP" = 1 ]; then echo "bench_http: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Bounded wait until something accepts connections on the port (the server prints nothing we rely on).
wait_listening() {
    local port=$1 pid=$2 name=$3
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || { echo "bench_http: $name exited; its log:" >&2; cat "$WORK/$name.log" >&2; exit 1; }
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.05
    done
    echo "bench_http: $name does not listen on $port after 10 s" >&2
    exit 1
}

# ---- data: the medium demo, one file per URL for nginx --------------------------------------
DB=$WORK/medium.sqlite3
echo "bench_http: seeding medium into $WORK ..."
"$PRESERVE" seed --scale medium --out "$DB" >/dev/null
# medium has no Foo near 1 KB (its small ones are 30 bytes or 2+ KB): one more Foo with 27 Bars
# without Zabs is about 1 KB. The list grows by those bytes, nothing else changes.
sqlite3 "$DB" "INSERT INTO api_foo (name) VALUES ('bench 1 KB');
    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 27)
    INSERT INTO api_bar (foo_id, name) SELECT (SELECT max(id) FROM api_foo), printf('bench bar %02d', i) FROM n;"
WWW=$WORK/www
mkdir -p "$WWW/api/foos"
"$PRESERVE" dump --db "$DB" --all >"$WWW/api/foos/index.json"
pks=$(sqlite3 "$DB" 'SELECT id FROM api_foo ORDER BY id')
for pk in $pks; do
    mkdir -p "$WWW/api/foos/$pk"
    "$PRESERVE" dump --db "$DB" "$pk" >"$WWW/api/foos/$pk/index.json"
done
chmod -R a+rX "$WORK" # nginx's workers run as nobody when started by root

# The pk whose body is closest to each target size.
closest() {
    local target=$1
    for pk in $pks; do
        local size
        size=$(stat -c %s "$WWW/api/foos/$pk/index.json")
        echo "$(( size > target ? size - target : target - size )) $pk"
    done | sort -n | head -1 | cut -d' ' -f2
}
declare -A PICK
PICK[1KB]=$(closest 1024)
PICK[100KB]=$(closest 102400)
PICK[2MB]=$(closest 2097152)
for size in 1KB 100KB 2MB; do
    printf 'bench_http: %-5s → Foo %s, %s bytes\n' "$size" "${PICK[$size]}" \
        "$(stat -c %s "$WWW/api/foos/${PICK[$size]}/index.json")"
done
printf 'bench_http: list  → %s bytes\n' "$(stat -c %s "$WWW/api/foos/index.json")"

# ---- servers ---------------------------------------------------------------------------------
NGINX_PORT=$(free_port)
sed -e "s|@WORKERS@|$THREADS|" -e "s|@PREFIX@|$WORK|g" -e "s|@PORT@|$NGINX_PORT|" -e "s|@ROOT@|$WWW|" \
    "$ROOT_DIR/bench/nginx/nginx.conf.in" >"$WORK/nginx.conf"
nginx -p "$WORK" -e "$WORK/error.log" -c "$WORK/nginx.conf" >"$WORK/nginx.log" 2>&1 &
NGINX_PID=$!
wait_listening "$NGINX_PORT" "$NGINX_PID" nginx

PRESERVE_PORT=
if [ "$NGINX_ONLY" = 0 ]; then
    echo "bench_http: warming the cache ..."
    "$PRESERVE" warm --db "$DB" --jobs 2 >/dev/null
    PRESERVE_PORT=$(free_port)
    # --quiet: no request log, as nginx runs with access_log off.
    "$PRESERVE" serve --db "$DB" --port "$PRESERVE_PORT" --threads "$THREADS" --quiet \
        "${SENDFILE_ARGS[@]}" >"$WORK/preserve.log" 2>&1 &
    PRESERVE_PID=$!
    wait_listening "$PRESERVE_PORT" "$PRESERVE_PID" preserve
fi

# Both must send the very same bytes, or the comparison means nothing. This also fills the
# memory tier: one request per pk (and the list).
check_same() {
    local path=$1 file=$2
    curl -sf "http://127.0.0.1:$NGINX_PORT$path" -o "$WORK/check.nginx"
    cmp -s "$WORK/check.nginx" "$file" || { echo "bench_http: nginx sends other bytes for $path" >&2; exit 1; }
    [ -z "$PRESERVE_PORT" ] && return 0
    curl -sf "http://127.0.0.1:$PRESERVE_PORT$path" -o "$WORK/check.preserve" \
        || { echo "bench_http: preserve serve failed on $path" >&2; exit 1; }
    cmp -s "$WORK/check.preserve" "$file" || { echo "bench_http: preserve serve sends other bytes for $path" >&2; exit 1; }
}
for pk in $pks; do check_same "/api/foos/$pk/" "$WWW/api/foos/$pk/index.json"; done
check_same /api/foos/ "$WWW/api/foos/index.json"
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$PRESERVE_PID/status"; }
[ -z "$PRESERVE_PORT" ] || RSS_WARM=$(rss_kb) # every body in the memory tier, before any load

# ---- wrk -------------------------------------------------------------------------------------
# "Requests/sec" and the 99% latency in ms from wrk --latency output.
requests_per_second() { awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$1"; }
p99_ms() {
    awk '$1 == "99%" {
        v = $2; unit = v; sub(/^[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        f = (unit == "us") ? 0.001 : (unit == "s") ? 1000 : (unit == "m") ? 60000 : 1
        printf "%.2f", v * f }' "$1"
}
errors() { awk '/Non-2xx|Socket errors/ { sub(/^ +/, ""); printf "%s; ", $0 }' "$1"; }

run_wrk() { # port path connections threads out
    wrk -t"$4" -c"$3" -d"${DURATION}s" --latency "http://127.0.0.1:$1$2" >"$5" 2>&1 || true
    local bad
    bad=$(errors "$5")
    [ -z "$bad" ] || echo "bench_http: wrk on :$1$2 -c$3: $bad" >&2
}

# CPU time (ns) the server's threads have run: nginx's workers, or every thread of preserve serve.
# Per request it is the noise-robust figure: wrk shares the two cores, so req/s and p99 move with
# how the scheduler places four busy threads, while the work per request stays.
server_ns() { # nginx|preserve
    local pids total=0 file run rest
    if [ "$1" = nginx ]; then pids=$(pgrep -P "$NGINX_PID"); else pids=$PRESERVE_PID; fi
    for pid in $pids; do
        for file in /proc/"$pid"/task/*/schedstat; do
            read -r run rest 2>/dev/null <"$file" || continue
            total=$((total + run))
        done
    done
    echo "$total"
}
requests_done() { awk '/requests in/ { print $1 }' "$1"; }
# run_wrk, plus the server's CPU µs per request into the variable named by $6.
run_measured() { # port path connections threads out variable server
    local before after n
    before=$(server_ns "$7")
    run_wrk "$1" "$2" "$3" "$4" "$5"
    after=$(server_ns "$7")
    n=$(requests_done "$5")
    printf -v "$6" '%s' "$(awk -v d=$((after - before)) -v n="${n:-0}" 'BEGIN { if (n > 0) printf "%.1f", d / n / 1000; else print "-" }')"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }

# Alternating rounds for one URL; sets N_RPS N_P99 N_CPU P_RPS P_P99 P_CPU to the medians.
measure_cell() { # path connections
    local round cpu n_rps=() n_p99=() n_cpu=() p_rps=() p_p99=() p_cpu=()
    for round in $(seq "$ROUNDS"); do
        run_measured "$NGINX_PORT" "$1" "$2" 2 "$WORK/wrk.nginx" cpu nginx
        n_rps+=("$(requests_per_second "$WORK/wrk.nginx")") n_p99+=("$(p99_ms "$WORK/wrk.nginx")") n_cpu+=("$cpu")
        [ -n "$PRESERVE_PORT" ] || continue
        run_measured "$PRESERVE_PORT" "$1" "$2" 2 "$WORK/wrk.preserve" cpu preserve
        p_rps+=("$(requests_per_second "$WORK/wrk.preserve")") p_p99+=("$(p99_ms "$WORK/wrk.preserve")") p_cpu+=("$cpu")
    done
    N_RPS=$(printf '%s\n' "${n_rps[@]}" | median) N_P99=$(printf '%s\n' "${n_p99[@]}" | median)
    N_CPU=$(printf '%s\n' "${n_cpu[@]}" | median)
    P_RPS=- P_P99=- P_CPU=-
    [ -n "$PRESERVE_PORT" ] || return 0
    P_RPS=$(printf '%s\n' "${p_rps[@]}" | median) P_P99=$(printf '%s\n' "${p_p99[@]}" | median)
    P_CPU=$(printf '%s\n' "${p_cpu[@]}" | median)
}

echo
echo "wrk on loopback, 2 wrk threads, median of $ROUNDS alternating ${DURATION} s runs per server and cell;" \
    "nginx worker_processes $THREADS, preserve serve --threads $THREADS;" \
    "µs/req: CPU time of the server's own threads per request"
printf '%-6s %5s %12s %14s %7s %10s %13s %14s %14s\n' size conns "nginx req/s" "preserve req/s" ratio "nginx p99" "preserve p99" \
    "nginx µs/req" "preserve µs/req"
for size in 1KB 100KB 2MB; do
    for connections in 8 64; do
        measure_cell "/api/foos/${PICK[$size]}/" "$connections"
        ratio=$(awk -v p="$P_RPS" -v n="$N_RPS" 'BEGIN { if (n > 0 && p != "-") printf "%.2f×", p / n; else print "-" }')
        printf '%-6s %5s %12s %14s %7s %8s ms %10s ms %13s %14s\n' "$size" "$connections" "$N_RPS" "$P_RPS" "$ratio" "$N_P99" "$P_P99" \
            "$N_CPU" "$P_CPU"
    done
done

# ---- the whole list, one connection ----------------------------------------------------------
ms_per_request() { awk -v r="$(requests_per_second "$1")" 'BEGIN { if (r > 0) printf "%.1f", 1000 / r; else print "-" }'; }
echo
run_wrk "$NGINX_PORT" /api/foos/ 1 1 "$WORK/wrk.list.nginx"
list_line="whole medium list ($(stat -c %s "$WWW/api/foos/index.json") bytes), one connection: nginx $(ms_per_request "$WORK/wrk.list.nginx") ms/request"
if [ -n "$PRESERVE_PORT" ]; then
    run_wrk "$PRESERVE_PORT" /api/foos/ 1 1 "$WORK/wrk.list.preserve"
    list_line+=", preserve $(ms_per_request "$WORK/wrk.list.preserve") ms/request (p99 $(p99_ms "$WORK/wrk.list.preserve") ms)"
fi
echo "$list_line"

# ---- memory of preserve serve under 64 connections pulling the 2 MB body ------------------------
[ -n "$PRESERVE_PORT" ] || exit 0
before=$(rss_kb)
(
    peak=0
    while kill -0 "$PRESERVE_PID" 2>/dev/null; do
        now=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PRESERVE_PID/status" 2>/dev/null || echo 0)
        [ "${now:-0}" -gt "$peak" ] && peak=$now && echo "$peak" >"$WORK/rss.peak"
        sleep 0.05
    done
) &
SAMPLER_PID=$!
run_wrk "$PRESERVE_PORT" "/api/foos/${PICK[2MB]}/" 64 2 "$WORK/wrk.rss"
stop "$SAMPLER_PID"
SAMPLER_PID=
peak=$(cat "$WORK/rss.peak" 2>/dev/null || echo "$before")
# Hits in the sendfile band are sent from in-memory files (memfd), which RSS does not show: count them too.
file_kb=$(( $(curl -sf "http://127.0.0.1:$PRESERVE_PORT/metrics" | awk '$1 == "preserve_http_response_file_bytes" { print $2 }') / 1024 ))
echo "preserve serve RSS: $((RSS_WARM / 1024)) MB after warm-up (every body cached, no load yet)," \
    "$((before / 1024)) MB after the runs above, peak $((peak / 1024)) MB while 64 connections pull" \
    "the 2 MB body ($(requests_per_second "$WORK/wrk.rss") req/s): +$(((peak - RSS_WARM) / 1024)) MB over warm-up;" \
    "in-memory files for sendfile $((file_kb / 1024)) MB; total above the cache $(((peak - RSS_WARM + file_kb) / 1024)) MB"
