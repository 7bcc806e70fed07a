#!/usr/bin/env python3
"""cortado_chat as a user runs it, with no browser: installed and started from another
directory it finds its static files; --static-path overrides them; --port 0 reports its port;
SIGTERM and SIGINT answer the waiting long polls, drain and exit 0.

  chat_binary.py --build-dir BUILD --binary BUILD/apps/chat/cortado_chat
"""

import argparse
import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_server import ChatServer, environment_without  # noqa: E402

CLEAN_ENV = environment_without("CORTADO_CHAT_COOKIE_SECRET")


class Browser:
    """Just enough of one: cookies, and the _xsrf field chat.js sends."""

    def __init__(self, base_url):
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def get(self, path):
        with self.opener.open(urllib.parse.urljoin(self.base_url, path), timeout=10) as r:
            return r.status, r.read().decode()

    def post(self, path, fields, timeout=10):
        xsrf = next(c.value for c in self.cookies if c.name == "_xsrf")
        body = urllib.parse.urlencode({**fields, "_xsrf": xsrf}).encode()
        with self.opener.open(urllib.parse.urljoin(self.base_url, path), body, timeout=timeout) as r:
            return r.status, r.read().decode()


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def static_url(page, name):
    match = re.search(r'"(/static/' + re.escape(name) + r'\?v=[0-9a-f]+)"', page)
    check(match, f"no versioned URL for {name} in the page")
    return match.group(1)


def serves_static_files_from(server, directory):
    browser = Browser(server.url)
    status, page = browser.get("/")
    check(status == 200, f"GET / answered {status}")
    _, css = browser.get(static_url(page, "chat.css"))
    with open(os.path.join(directory, "chat.css"), encoding="utf-8") as f:
        check(css == f.read(), f"chat.css is not the one in {directory}")
    check(f"static files from {directory}" in server.logs(), server.logs())


def test_installed_binary_from_another_directory(build_dir):
    with tempfile.TemporaryDirectory(prefix="cortado_chat_prefix_") as prefix:
        subprocess.run(["cmake", "--install", build_dir, "--component", "chat", "--prefix", prefix],
                       check=True, stdout=subprocess.DEVNULL)
        binary = os.path.join(prefix, "bin", "cortado_chat")
        static = os.path.join(prefix, "share", "cortado", "chat", "static")
        check(os.path.isfile(os.path.join(static, "chat.js")), "chat.js is not installed")
        with ChatServer(binary, cwd="/", env=CLEAN_ENV) as server:
            serves_static_files_from(server, os.path.realpath(static))
            check("no --cookie-secret: using a random one" in server.logs(), server.logs())
            check(server.stop() [0] == 0, "exit status after SIGTERM")
    print("ok: the installed binary, started from /, serves its installed static files")


def test_static_path_flag(binary):
    with tempfile.TemporaryDirectory(prefix="cortado_chat_static_") as static:
        for name, text in {"chat.css": "body { color: teal; }\n", "chat.js": "// custom\n"}.items():
            with open(os.path.join(static, name), "w", encoding="utf-8") as f:
                f.write(text)
        with ChatServer(binary, "--static-path", static, "--cookie-secret", "s", cwd="/",
                        env=CLEAN_ENV) as server:
            serves_static_files_from(server, static)
            check("no --cookie-secret" not in server.logs(), "a secret was given")
    print("ok: --static-path overrides where the static files come from")


def test_missing_static_path(binary):
    result = subprocess.run([binary, "--port", "0", "--static-path", "/nonexistent"],
                            capture_output=True, text=True, timeout=10, env=CLEAN_ENV)
    check(result.returncode == 1, f"exit status {result.returncode}")
    check("pass --static-path" in result.stderr, result.stderr)
    print("ok: a missing static directory is an error with exit status 1")


def test_signal_answers_long_polls_and_exits_0(binary, sig):
    with ChatServer(binary, "--debug", cwd="/", env=CLEAN_ENV) as server:
        browser = Browser(server.url)
        browser.get("/")
        answer = {}

        def long_poll():
            answer["response"] = browser.post("/a/message/updates", {"cursor": ""}, timeout=20)

        poller = threading.Thread(target=long_poll)
        poller.start()
        check(server.wait_for_log("waits for messages"), "the long poll never started waiting")
        status, seconds = server.stop(sig)
        poller.join(timeout=10)
        check(status == 0, f"exit status {status} after {sig!r}")
        check(seconds < 3, f"took {seconds:.1f} s to exit after {sig!r}")
        check(answer.get("response") == (200, '{"messages":[]}'), f"the poll got {answer}")
    print(f"ok: {signal.Signals(sig).name} answers waiting polls and exits 0 in {seconds:.2f} s")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build-dir", required=True)
    parser.add_argument("--binary", required=True)
    args = parser.parse_args()
    test_installed_binary_from_another_directory(args.build_dir)
    test_static_path_flag(args.binary)
    test_missing_static_path(args.binary)
    test_signal_answers_long_polls_and_exits_0(args.binary, signal.SIGTERM)
    test_signal_answers_long_polls_and_exits_0(args.binary, signal.SIGINT)


if __name__ == "__main__":
    main()
