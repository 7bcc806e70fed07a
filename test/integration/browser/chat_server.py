"""Runs cortado_chat for a test: on a free port (--port 0), its log in a file, stopped by a
signal. Shared by chat_binary.py and chat_browser.py."""

import os
import re
import select
import signal
import subprocess
import tempfile
import time

URL_LINE = re.compile(r"^cortado chat on (http://\S+/)$")


class ChatServer:
    def __init__(self, binary, *args, cwd=None, env=None):
        self.log = tempfile.NamedTemporaryFile(mode="w+", prefix="cortado_chat_", suffix=".log")
        self.process = subprocess.Popen(
            [binary, "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=self.log, cwd=cwd, env=env, text=True)
        self.url = self._read_url(timeout=10)

    def _read_url(self, timeout):
        # The first line on stdout names the port it got; nothing else is printed there.
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline().strip() if ready else ""
        match = URL_LINE.match(line)
        if not match:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"no URL line from cortado_chat (got {line!r}); log:\n{self.logs()}")
        return match.group(1)

    def logs(self):
        self.log.flush()
        with open(self.log.name, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for_log(self, text, timeout=10.0):
        """True once `text` is in the log (a bounded poll)."""
        deadline = time.monotonic() + timeout
        while text not in self.logs():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        """Sends `sig`; returns (exit status, seconds it took to exit)."""
        start = time.monotonic()
        self.process.send_signal(sig)
        try:
            status = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"cortado_chat did not exit within {timeout} s of {sig!r}")
        return status, time.monotonic() - start

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.log.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def environment_without(*names):
    return {k: v for k, v in os.environ.items() if k not in names}
