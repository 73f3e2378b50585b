#!/usr/bin/env bash
# The command line at three scales (issue 18): medium and large (few, big Foos) and wide (100,000
# mostly small Foos). For each: the seed, `status` with nothing cached, `warm --jobs 2` from nothing
# cached, `status` and `status --json` after it, `verify --jobs 2`, and, on wide, `serve
# --page-size 100` answering pages from the store and then from memory, and the whole list unpaged
# (three plain, two gzip, with RSS and peak RSS). Each figure is one run,
# with the process's peak RSS; MB/s is the bodies' bytes over the wall time. Prints a Markdown
# table. Needs about 2 GB of scratch space for wide (in $TMPDIR: the file and the list's copies).
#
#   bench/bench_scale.sh [--build DIR] [--scales "medium large wide"]
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${PRESERVE_BUILD_DIR:-$ROOT_DIR/build}
SCALES="medium large wide"
while [ $# -gt 0 ]; do
    case "$1" in
    --build) BUILD_DIR=$2; shift 2 ;;
    --scales) SCALES=$2; shift 2 ;;
    *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
PRESERVE="$BUILD_DIR/preserve"
for tool in curl sqlite3 python3; do
    command -v "$tool" > /dev/null || { echo "bench_scale.sh needs $tool (apt-get install $tool)" >&2; exit 2; }
done
SCRATCH=$(mktemp -d)
SERVER=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$SCRATCH"
}
trap cleanup EXIT

# Runs a command; prints "seconds peak-RSS-MB".
timed() {
    /usr/bin/time -f "%e %M" -o "$SCRATCH/time" "$@" > "$SCRATCH/out" 2> "$SCRATCH/err" || {
        echo "failed: $*" >&2; cat "$SCRATCH/err" >&2; exit 1; }
    awk '{ printf "%.2f %d\n", $1, $2 / 1024 }' "$SCRATCH/time"
}
row() { printf '| %s | %s | %s s | %s MB | %s |\n' "$1" "$2" "$3" "$4" "$5"; }

echo "Preserve at scale, $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
echo
echo "| scale | step | time | peak RSS | note |"
echo "|---|---|---|---|---|"
for scale in $SCALES; do
    db="$SCRATCH/$scale.sqlite3"
    read -r s m < <(timed "$PRESERVE" seed --scale "$scale" --out "$db" --force)
    row "$scale" "seed" "$s" "$m" "$(grep -o '[0-9]* Foo.*links' "$SCRATCH/out" || true)"
    # The seed's pages on their way to disk: the warm's first fdatasync would wait for all of them
    # (wide's warm took 12.3 s right after its seed, 10.5-10.9 s on a synced copy).
    sync
    read -r s m < <(timed "$PRESERVE" status --db "$db")
    row "$scale" "status, nothing cached" "$s" "$m" ""
    read -r s m < <(timed "$PRESERVE" warm --db "$db" --jobs 2)
    mb=$(sqlite3 "$db" "SELECT round(sum(length(CAST(pre_serialized AS BLOB))) / 1e6, 1) FROM api_foo")
    row "$scale" "warm --jobs 2" "$s" "$m" "$mb MB of bodies, $(awk -v b="$mb" -v t="$s" 'BEGIN { printf "%.0f", b / t }') MB/s"
    read -r s m < <(timed "$PRESERVE" status --db "$db")
    row "$scale" "status, all cached" "$s" "$m" "$(tail -2 "$SCRATCH/out" | head -1)"
    read -r s m < <(timed "$PRESERVE" status --db "$db" --json)
    row "$scale" "status --json" "$s" "$m" "$(wc -c < "$SCRATCH/out") bytes"
    read -r s m < <(timed "$PRESERVE" verify --db "$db" --jobs 2)
    row "$scale" "verify --jobs 2" "$s" "$m" "$(awk -v b="$mb" -v t="$s" 'BEGIN { printf "%.0f", b / t }') MB/s"
    if [ "$scale" = wide ]; then
        port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        "$PRESERVE" serve --db "$db" --port "$port" --quiet --page-size 100 --memory 256 > "$SCRATCH/serve.log" 2>&1 &
        SERVER=$!
        for _ in $(seq 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break; sleep 0.2; done
        # Every tenth page through one kept-alive curl: the time to the first byte (the server's
        # work) and to the last (with the transfer; pages of wide's largest Foos reach 4.5 MB).
        # Python's client took 10 ms more than curl to read such a page.
        pages=()
        for page in $(seq 1 10 1000); do pages+=(-o /dev/null "http://127.0.0.1:$port/api/foos/?page=$page"); done
        for label in "from the store (first time)" "from memory (again)"; do
            curl -sf -w '%{http_code} %{time_starttransfer} %{time_total}\n' "${pages[@]}" > "$SCRATCH/pages"
            if grep -qv '^200 ' "$SCRATCH/pages"; then echo "a page failed: $(grep -v '^200 ' "$SCRATCH/pages" | head -1)" >&2; exit 1; fi
            stats=$(for column in 2 3; do sort -g -k$column "$SCRATCH/pages" | awk -v c=$column '{ t[NR] = $c * 1000 }
                END { printf "%s median %.1f ms, p90 %.1f ms, max %.1f ms", c == 2 ? "first byte" : "; last byte", t[int(NR / 2) + 1], t[int(NR * 0.9)], t[NR] }'; done)
            printf '| wide | serve --page-size 100, 100 pages %s | %s | %s MB (--memory 256) | target: each page ≤ 5 ms |\n' \
                "$label" "$stats" "$(awk '/VmRSS/ { print int($2 / 1024) }' "/proc/$SERVER/status")"
        done
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
        # The whole list, unpaged: longer than half of --memory, so it goes out from a temporary file.
        "$PRESERVE" serve --db "$db" --port "$port" --quiet --memory 256 > "$SCRATCH/serve.log" 2>&1 &
        SERVER=$!
        python3 - "$port" "$SERVER" <<'PY'
import http.client, sys, time
port, pid = int(sys.argv[1]), int(sys.argv[2])
def memory(field):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) // 1024 for l in f if l.startswith(field))
for _ in range(100):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port); c.request("GET", "/healthz"); c.getresponse().read(); break
    except OSError:
        time.sleep(0.2)
for label, headers in (("plain", {}), ("plain", {}), ("plain", {}), ("gzip", {"Accept-Encoding": "gzip"}), ("gzip", {"Accept-Encoding": "gzip"})):
    start = time.perf_counter(); c.request("GET", "/api/foos/", headers=headers); r = c.getresponse(); size = len(r.read())
    assert r.status == 200, r.status
    print(f"| wide | serve, the whole list, {label} ({size / 1e6:.1f} MB) | {time.perf_counter() - start:.2f} s "
          f"| {memory('VmRSS')} MB, peak {memory('VmHWM')} MB (--memory 256) | |")
PY
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
    fi
    rm -f "$db"
done
