#!/usr/bin/python3
"""Opens N keep-alive connections to a server, makes one request on each, and keeps them open.

    python3 idle_conns.py --port 8080 --count 10000 [--path /plaintext]

Used by test/bench/run to measure what an idle keep-alive connection costs a server in memory.
Each connection: non-blocking connect, one "GET <path> HTTP/1.1", read the whole response
(Content-Length or chunked), then leave it idle. At most --in-flight connections are being set
up at once, so the server's accept queue (backlog 1024 everywhere) is not what gets measured.

Protocol with the parent, line by line on stdout/stdin:
  prints  "READY open=<n> failed=<n> seconds=<s>"  once every connection is idle or has failed
  reads   "status"  -> prints "OPEN <n>"  (connections the server has not closed meanwhile)
  on EOF of stdin: closes everything and exits 0.
Standard library only (Debian's python3), one thread, selectors/epoll.
"""
import argparse
import errno
import os
import resource
import selectors
import socket
import sys
import time

CONNECTING, READING, IDLE = range(3)


class Conn:
    __slots__ = ("sock", "state", "buf")

    def __init__(self, sock):
        self.sock = sock
        self.state = CONNECTING
        self.buf = bytearray()


def response_complete(buf):
    """True once buf holds one whole HTTP response; raises ValueError on a non-200 status."""
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return False
    head = bytes(buf[:end]).decode("latin-1").split("\r\n")
    if len(head[0].split(" ")) < 2 or head[0].split(" ")[1] != "200":
        raise ValueError(head[0])
    body = len(buf) - (end + 4)
    for line in head[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            return body >= int(value.strip())
        if name == "transfer-encoding" and "chunked" in value.lower():
            return buf.endswith(b"0\r\n\r\n")
    return True  # no body framing: a body-less response (not expected from these routes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--path", default="/plaintext")
    parser.add_argument("--in-flight", type=int, default=256)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds for the set-up phase")
    args = parser.parse_args()

    # One descriptor per connection, plus a margin.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.count + 1024
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(want, soft), max(want, hard)))

    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    conns = {}  # fd -> Conn
    started = failed = idle = closed_later = 0
    t0 = time.monotonic()

    def fail(c):
        nonlocal failed
        failed += 1
        sel.unregister(c.sock)
        del conns[c.sock.fileno()]
        c.sock.close()

    def start_one():
        nonlocal started
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        rc = s.connect_ex((args.host, args.port))
        started += 1
        c = Conn(s)
        conns[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE, c)
        if rc not in (0, errno.EINPROGRESS):
            fail(c)

    # Set-up phase: keep --in-flight connections in progress until all are idle or failed.
    while idle + failed < args.count and time.monotonic() - t0 < args.timeout:
        while started < args.count and started - idle - failed < args.in_flight:
            start_one()
        for key, events in sel.select(timeout=1.0):
            c = key.data
            if c.state == CONNECTING:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) != 0:
                    fail(c)
                    continue
                try:
                    c.sock.sendall(request)  # 60 bytes: fits any fresh socket buffer
                except OSError:
                    fail(c)
                    continue
                c.state = READING
                sel.modify(c.sock, selectors.EVENT_READ, c)
            elif c.state == READING:
                try:
                    data = c.sock.recv(65536)
                except OSError:
                    fail(c)
                    continue
                if not data:
                    fail(c)
                    continue
                c.buf += data
                try:
                    done = response_complete(c.buf)
                except ValueError as e:
                    print(f"non-200 response: {e}", file=sys.stderr)
                    fail(c)
                    continue
                if done:
                    c.state = IDLE
                    c.buf = None  # keep nothing per idle connection on our side
                    idle += 1
            else:  # IDLE and readable: the server closed it (or sent something unasked)
                try:
                    data = c.sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    closed_later += 1
                    idle -= 1
                    fail(c)
    # Connections still being set up when the time ran out count as failed, and go.
    for c in [c for c in conns.values() if c.state != IDLE]:
        fail(c)
    failed = args.count - idle
    print(f"READY open={idle} failed={failed} seconds={time.monotonic() - t0:.2f}", flush=True)

    # Idle phase: notice closures by the server, answer status queries, exit on stdin EOF.
    stdin = sys.stdin.buffer
    os.set_blocking(stdin.fileno(), True)
    sel.register(stdin, selectors.EVENT_READ, None)
    while True:
        for key, _ in sel.select():
            if key.data is None:
                line = stdin.readline()
                if not line:
                    for c in list(conns.values()):
                        c.sock.close()
                    return 0
                if line.strip() == b"status":
                    open_now = sum(1 for c in conns.values() if c.state == IDLE)
                    print(f"OPEN {open_now}", flush=True)
                continue
            c = key.data
            try:
                data = c.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                sel.unregister(c.sock)
                del conns[c.sock.fileno()]
                c.sock.close()


if __name__ == "__main__":
    sys.exit(main())
