#!/usr/bin/python3
"""Sends exactly N requests over C keep-alive connections, and checks every response.

    python3 fixed_requests.py --port 18080 --requests 10000 [--connections 16] [--path /plaintext]
                              [--pipeline 16]

wrk runs for a time, not a count; per-request costs (allocations, syscalls, instructions) need a
known number of requests, so test/bench/profile uses this instead. One request in flight per
connection by default, like wrk without a script; with --pipeline N, each connection sends N
requests in one write and waits for their N responses, like wrk with test/bench/wrk.lua. Exits
non-zero if any response is not a 200 or a connection fails. Standard library only, one thread,
selectors/epoll.
"""
import argparse
import selectors
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree for this one import
from idle_conns import response_complete  # noqa: E402  (the same status check)


def take_responses(buf):
    """Removes the whole responses at the front of buf; returns how many there were.

    Pipelined responses need their length to be told apart, so each must carry Content-Length
    (the benchmark routes do); raises ValueError on a non-200 status or a missing length."""
    count = 0
    while (end := buf.find(b"\r\n\r\n")) >= 0:
        response_complete(buf[:end + 4])  # checks the status line
        head = bytes(buf[:end]).decode("latin-1").lower().split("\r\n")[1:]
        lengths = [int(v) for n, _, v in (h.partition(":") for h in head) if n == "content-length"]
        if not lengths:
            raise ValueError("a pipelined response without Content-Length")
        if len(buf) < end + 4 + lengths[0]:
            break
        del buf[:end + 4 + lengths[0]]
        count += 1
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--requests", type=int, required=True)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--path", default="/plaintext")
    parser.add_argument("--pipeline", type=int, default=1, help="requests per write")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()

    request = (f"GET {args.path} HTTP/1.1\r\nHost: {args.host}:{args.port}\r\n\r\n").encode()
    sel = selectors.DefaultSelector()
    sent = done = 0
    bufs = {}
    waiting = {}  # responses still due on each connection

    def send_batch(s):
        nonlocal sent
        n = min(args.pipeline, args.requests - sent)
        if n > 0:
            s.sendall(request * n)
            sent += n
        waiting[s] = n

    # Blocking connects: a handful of connections, made before the clock starts.
    for _ in range(min(args.connections, args.requests)):
        s = socket.create_connection((args.host, args.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setblocking(False)
        bufs[s] = bytearray()
        sel.register(s, selectors.EVENT_READ)
    t0 = time.monotonic()
    for s in bufs:
        send_batch(s)
    while done < args.requests:
        if time.monotonic() - t0 > args.timeout:
            sys.exit(f"timed out after {done} of {args.requests} responses")
        for key, _ in sel.select(timeout=5.0):
            s = key.fileobj
            data = s.recv(65536)
            if not data:
                sys.exit(f"the server closed a connection after {done} responses")
            bufs[s] += data
            got = take_responses(bufs[s])  # raises ValueError on a non-200 status
            done += got
            waiting[s] -= got
            if waiting[s] == 0:
                send_batch(s)
    elapsed = time.monotonic() - t0
    for s in bufs:
        s.close()
    print(f"{done} responses in {elapsed:.2f} s ({done / elapsed:.0f}/s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
