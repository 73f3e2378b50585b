#!/usr/bin/env python3
"""RSS of `preserve serve` under request patterns that could grow it past --memory.

  bench/bench_memory.py [--build DIR] [--seconds S] [--memory MB]

On a `medium` demo database (written to a temporary folder), with the list warm in memory:
  1. one client asks for the whole list indented (`Accept: application/json; indent=8`);
  2. ten clients ask for it and read nothing, held open for a few seconds;
  3. mixed load for S seconds (default 60): detail requests, the list every 400th request, and an
     invalidation of a Foo every 50th (admin endpoint), RSS sampled each second; prints the low
     points of each 10 s window, so growth and allocator slack can be told apart.
Prints RSS in MB at each step. Not a test: it prints figures.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time


def rss_mb(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def request(port, target, headers=(), read=True, method="GET"):
    s = socket.create_connection(("127.0.0.1", port))
    lines = ["%s %s HTTP/1.1" % (method, target), "Host: 127.0.0.1", "Connection: close"] + list(headers)
    s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    if not read:
        return s
    data = bytearray()
    while True:
        chunk = s.recv(1 << 20)
        if not chunk:
            break
        data += chunk
    s.close()
    return bytes(data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--memory", type=int, default=256)
    args = parser.parse_args()
    binary = os.path.join(os.path.abspath(args.build), "preserve")
    folder = tempfile.mkdtemp(prefix="preserve-bench-memory.")
    db = os.path.join(folder, "medium.sqlite3")
    subprocess.run([binary, "seed", "--scale", "medium", "--out", db], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "track", "install", "--db", db], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([binary, "warm", "--db", db], check=True, stdout=subprocess.DEVNULL)
    token_file = os.path.join(folder, "token")
    with open(token_file, "w") as f:
        f.write("bench-token\n")
    os.chmod(token_file, 0o600)
    server = subprocess.Popen([binary, "serve", "--db", db, "--port", "0", "--quiet", "--memory", str(args.memory),
                               "--token-file", token_file], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        port = int(re.search(r":(\d+)/api/foos/", line).group(1))
        request(port, "/api/foos/")  # the list into memory
        for pk in range(1, 401):
            request(port, "/api/foos/%d/" % pk)
        base = rss_mb(server.pid)
        print("serve --memory %d, medium, list and every Foo warm: RSS %.0f MB" % (args.memory, base))

        body = request(port, "/api/foos/", ["Accept: application/json; indent=8"])
        print("1. one indented list (%.0f MB answer): RSS %.0f MB" % (len(body) / 1e6, rss_mb(server.pid)))

        held = [request(port, "/api/foos/", ["Accept: application/json; indent=8"], read=False) for _ in range(10)]
        peak = 0.0
        for _ in range(30):
            peak = max(peak, rss_mb(server.pid))
            time.sleep(0.1)
        for s in held:
            s.close()
        time.sleep(1.0)
        print("2. ten indented lists not read: peak RSS %.0f MB, after they left %.0f MB" % (peak, rss_mb(server.pid)))

        auth = ["Authorization: Bearer bench-token"]
        start = time.time()
        samples = []
        n = 0
        next_sample = start
        while time.time() - start < args.seconds:
            n += 1
            if n % 400 == 0:
                request(port, "/api/foos/")
            elif n % 50 == 0:
                request(port, "/api/foos/%d/cache/" % (n % 400 + 1), auth, method="DELETE")
            else:
                request(port, "/api/foos/%d/" % (n % 400 + 1))
            if time.time() >= next_sample:
                samples.append((time.time() - start, rss_mb(server.pid)))
                next_sample += 1.0
        windows = {}
        for t, r in samples:
            windows.setdefault(int(t // 10), []).append(r)
        lows = " ".join("%.0f" % min(v) for _, v in sorted(windows.items()))
        highs = " ".join("%.0f" % max(v) for _, v in sorted(windows.items()))
        print("3. mixed load %d s, %d requests: RSS low per 10 s: %s MB; high: %s MB" % (args.seconds, n, lows, highs))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
