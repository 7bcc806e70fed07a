#!/usr/bin/python3
"""Tornado's side of the benchmark: the same routes as apps/hello, as a Tornado user writes them.

    python3 tornado_hello.py --address 127.0.0.1 --port 8082

GET /plaintext -> "Hello, World!" (text/plain), GET /json -> {"message": "Hello, World!"}.
One process, one IOLoop, Tornado's defaults otherwise (so Etag computation stays on, as it does
for every Tornado app). The listen backlog is 1024 like cortado's, so that the 4096-connection
runs compare servers rather than accept queues. SIGTERM/SIGINT stop the loop and exit 0.
"""
import argparse
import asyncio
import signal

import tornado.httpserver
import tornado.ioloop
import tornado.netutil
import tornado.web


class PlaintextHandler(tornado.web.RequestHandler):
    def get(self):
        self.set_header("Content-Type", "text/plain")
        self.write("Hello, World!")


class JsonHandler(tornado.web.RequestHandler):
    def get(self):
        # A dict is serialised as JSON with Content-Type application/json.
        self.write({"message": "Hello, World!"})


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--backlog", type=int, default=1024)
    args = parser.parse_args()

    app = tornado.web.Application([
        (r"/plaintext", PlaintextHandler),
        (r"/json", JsonHandler),
    ])
    server = tornado.httpserver.HTTPServer(app)
    server.add_sockets(tornado.netutil.bind_sockets(args.port, args.address, backlog=args.backlog))

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"tornado {tornado.version} listening on http://{args.address}:{args.port}/plaintext",
          flush=True)
    await stop.wait()
    server.stop()


if __name__ == "__main__":
    asyncio.run(main())
