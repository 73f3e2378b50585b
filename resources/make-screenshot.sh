#!/usr/bin/env bash
# Regenerates resources/screenshot.png from the real program: a copy of the medium demo, warmed with
# change tracking installed, then a Bar, a Zab and a Baz renamed (so Foo 28, the largest, is stale
# with real differences) and ten entries invalidated (so some requests miss); the console opens it,
# serves it while a client fetches bodies, selects the largest Foo and grabs its own window
# (PRESERVE_SCREENSHOT). Needs xvfb-run, sqlite3 and curl. OUT=file.png SCREEN=1024x700 for a
# small screen's view.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${PRESERVE_BUILD_DIR:-build}
preserve=$BUILD_DIR/preserve
port=${PORT:-18731}
work=$(mktemp -d)
client=
cleanup() {
    [ -n "$client" ] && kill "$client" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

db=$work/demo.sqlite3
"$preserve" seed --scale medium --out "$db" >/dev/null
"$preserve" track install --db "$db" >/dev/null
"$preserve" warm --db "$db" --jobs 2 >/dev/null
sqlite3 "$db" "UPDATE api_bar SET name = 'bar-970 (renamed)' WHERE id = 970;
               UPDATE api_zab SET name = 'zab-10641 v2' WHERE id = 10641;
               UPDATE api_baz SET name = 'Baz \"seventeen\"' WHERE id = 17;"
"$preserve" invalidate --db "$db" 50 51 52 53 54 55 56 57 58 59 >/dev/null
# The client asks only for fresh and missing entries: a stale one would be refreshed on read, and
# the screenshot is meant to show the stale ones.
mapfile -t pks < <("$preserve" status --db "$db" | awk '$2 == "fresh" || $2 == "missing" { print $1 }' | head -40)

# A client that keeps asking for bodies while the console serves them: hits, and misses at first.
(
    until curl -s -o /dev/null "http://127.0.0.1:$port/healthz"; do sleep 0.2; done
    for round in $(seq 1 2000); do
        for pk in "${pks[@]:0:6}" "${pks[$((round % ${#pks[@]}))]}"; do
            curl -s -o /dev/null "http://127.0.0.1:$port/api/foos/$pk/" || true
        done
        sleep 0.05
    done
) &
client=$!

HOME=$work/home XDG_CONFIG_HOME=$work/config PRESERVE_SCREENSHOT=${OUT:-resources/screenshot.png} \
    PRESERVE_SCREENSHOT_DELAY=${DELAY:-40000} \
    xvfb-run -a -s "-screen 0 ${SCREEN:-1600x1000}x24" "$preserve" gui --db "$db" --serve "$port"
