#!/usr/bin/env bash
# CI smoke of examples/http_server (issue 9 item 5): for each pool mode, start
# it on 127.0.0.1 (ephemeral port), check keep-alive requests, a
# "Connection: close" request and a small concurrent burst with a tiny
# Python client (no curl needed), stop it with SIGTERM and check its exit
# status and counters. Budget: well under a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-build-ci-server}
[ -d "$dir" ] || meson setup "$dir" -Dwerror=true -Dtests=false -Dbench=false >/dev/null
ninja -C "$dir" examples/http_server >/dev/null
tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$tmp"' EXIT

for mode in stealing mutex pthread; do
    "$dir/examples/http_server" -a 127.0.0.1 -p 0 -q -m "$mode" -c 3 -w 2 >"$tmp/out" &
    pid=$!
    for _ in $(seq 100); do grep -q '^listening on' "$tmp/out" && break; sleep 0.05; done
    port=$(sed -n 's/^listening on 127\.0\.0\.1:\([0-9]*\)$/\1/p' "$tmp/out")
    [ -n "$port" ] || { echo "server ($mode) did not start" >&2; exit 1; }
    timeout 30 python3 - "$port" <<'PY'
import socket, sys, threading
port = int(sys.argv[1])

def request(sock, path, close=False):
    extra = "Connection: close\r\n" if close else ""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        assert chunk, "connection closed before the headers"
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 200 OK", lines[0]
    hdrs = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(hdrs["content-length"])
    while len(body) < n:
        chunk = sock.recv(4096)
        assert chunk, "connection closed inside the body"
        body += chunk
    assert len(body) == n, (len(body), n)
    text = body.decode()
    assert path in text and "sha256^3: " in text, text
    return hdrs

s = socket.create_connection(("127.0.0.1", port), timeout=10)
for i in range(5):  # keep-alive: one connection, several requests
    request(s, f"/keepalive/{i}")
h = request(s, "/last", close=True)
assert h.get("connection") == "close", h
assert s.recv(1) == b"", "server kept a Connection: close socket open"
s.close()

errors = []
def burst(t):
    try:
        c = socket.create_connection(("127.0.0.1", port), timeout=10)
        for i in range(50):
            request(c, f"/burst/{t}/{i}")
        c.close()
    except Exception as e:  # reported below
        errors.append(repr(e))
ts = [threading.Thread(target=burst, args=(t,)) for t in range(8)]
for t in ts: t.start()
for t in ts: t.join()
assert not errors, errors
PY
    kill -TERM "$pid"
    wait "$pid"
    pid=
    tail -n 1 "$tmp/out"
    grep -qE '^requests 406, bad 0, completions 406,' "$tmp/out" ||
        { echo "server ($mode): unexpected counters" >&2; exit 1; }
done
echo "server smoke: ok"
