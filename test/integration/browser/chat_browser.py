#!/usr/bin/env python3
"""apps/chat in a real browser: Debian's headless Chromium, driven by Selenium through
chromedriver. Two users open the page; what one posts shows up in the other's page within a
second, escaped; a screenshot of it is saved as a test artifact.

  chat_browser.py --binary BUILD/apps/chat/cortado_chat --screenshot BUILD/test-artifacts/chat.png

Fails (never skips) when Chromium, chromedriver or Selenium is missing: `./dev test` installs
chromium, chromium-driver and python3-selenium.
"""

import argparse
import os
import shutil
import signal
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from chat_server import ChatServer  # noqa: E402

CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--window-size=900,640",
]


def fail(message):
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def require_tools():
    chromium = shutil.which("chromium")
    chromedriver = shutil.which("chromedriver")
    if not chromium or not chromedriver:
        fail("chromium and chromedriver are needed: apt-get install chromium chromium-driver")
    try:
        import selenium  # noqa: F401
    except ImportError:
        fail("Selenium is needed: apt-get install python3-selenium")
    return chromium, chromedriver


class Page:
    """One browser, with a profile of its own (so its own cookies: its own user)."""

    def __init__(self, chromium, chromedriver):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.profile = tempfile.TemporaryDirectory(prefix="cortado_chromium_")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for flag in CHROMIUM_FLAGS + [f"--user-data-dir={self.profile.name}"]:
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)

    def find(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def set_name(self, name):
        # A plain form post, answered by a redirect back to the page: mark this document so
        # that the wait below sees the new page, not this one with the name typed into it.
        self.driver.execute_script("document.documentElement.dataset.old = 'yes'")
        field = self.find("#name")
        field.clear()
        field.send_keys(name)
        self.find("#nameform button").click()
        script = """return document.documentElement.dataset.old ? null
                                                               : document.getElementById("name").value;"""
        self.wait(5, lambda: self.driver.execute_script(script) == name, "the page shows the name")

    def post(self, text):
        """Posts `text` as a user does; returns when the page sent it (Date.now(), in ms)."""
        self.driver.execute_script("""
            document.getElementById("messageform").addEventListener(
                "submit", () => { window.submittedAt = Date.now(); }, { once: true });""")
        self.find("#message").send_keys(text)
        self.find("#messageform button").click()
        return self.driver.execute_script("return window.submittedAt")

    def record_arrivals(self):
        """From now on, window.arrivals[body] is when a message first appeared (Date.now())."""
        self.driver.execute_script("""
            window.arrivals = {};
            new MutationObserver((changes) => {
              for (const change of changes) {
                for (const node of change.addedNodes) {
                  const body = node.querySelector && node.querySelector(".body");
                  if (body && !(body.textContent in window.arrivals)) {
                    window.arrivals[body.textContent] = Date.now();
                  }
                }
              }
            }).observe(document.getElementById("inbox"), { childList: true });""")

    def arrival(self, body):
        return self.driver.execute_script("return window.arrivals[arguments[0]]", body)

    def messages(self):
        """(user, body) of every message shown, as the reader sees them (one round trip, so
        that polling for a message costs little of the second it is given)."""
        script = """return Array.from(document.querySelectorAll("#inbox .message"), (m) =>
            [m.querySelector(".user").textContent, m.querySelector(".body").textContent]);"""
        return [tuple(m) for m in self.driver.execute_script(script)]

    def wait(self, seconds, condition, what):
        from selenium.common.exceptions import TimeoutException, WebDriverException
        from selenium.webdriver.support.ui import WebDriverWait
        try:
            # WebDriverException: the page may be between two documents while it navigates.
            WebDriverWait(self.driver, seconds, poll_frequency=0.02,
                          ignored_exceptions=(WebDriverException,)).until(lambda _: condition())
        except TimeoutException:
            fail(f"not within {seconds} s: {what}; the page shows {self.messages()}")

    def console_errors(self):
        return [e for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def close(self):
        self.driver.quit()
        self.profile.cleanup()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", required=True)
    parser.add_argument("--screenshot", required=True)
    args = parser.parse_args()
    chromium, chromedriver = require_tools()

    with ChatServer(args.binary, "--cookie-secret", "browser-test") as server:
        pages = []
        try:
            ann = Page(chromium, chromedriver)
            pages.append(ann)
            bob = Page(chromium, chromedriver)
            pages.append(bob)
            ann.driver.get(server.url)
            bob.driver.get(server.url)
            ann.set_name("Ann")
            bob.set_name("Bob")

            # What Ann posts reaches Bob's open page, through his long poll, within a second:
            # measured in the browsers (both read the machine's clock), from Ann's submit to
            # the message in Bob's page, and also waited for from here once she has posted.
            bob.record_arrivals()
            text = "Hello from Ann!"
            submitted = ann.post(text)
            bob.wait(1.0, lambda: ("Ann", text) in bob.messages(), "Ann's message in Bob's page")
            latency = (bob.arrival(text) - submitted) / 1000
            if not 0 <= latency < 1.0:
                fail(f"Ann's message took {latency:.3f} s to reach Bob's page")
            print(f"ok: Bob's page showed Ann's message {latency:.3f} s after she posted it")
            ann.wait(5, lambda: ann.messages().count(("Ann", text)) == 1,
                     "Ann's message once in her own page")

            # Markup in a message is text, not HTML, in every page.
            markup = "<b>bold?</b> <img src=x onerror=alert(1)>"
            bob.post(markup)
            ann.wait(5, lambda: ("Bob", markup) in ann.messages(), "Bob's message in Ann's page")
            if ann.find_all("#inbox b") or ann.find_all("#inbox img"):
                fail("a message's markup became HTML elements")
            print("ok: markup in a message is shown as text")
            bob.post("Hi Ann, nice to see you here.")
            ann.wait(5, lambda: len(ann.messages()) == 3, "three messages in Ann's page")

            for page, who in ((ann, "Ann"), (bob, "Bob")):
                errors = page.console_errors()
                if errors:
                    fail(f"errors in {who}'s console: {errors}")

            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            if not ann.driver.save_screenshot(args.screenshot):
                fail("could not save the screenshot")
            print(f"screenshot: {os.path.abspath(args.screenshot)}")

            # Both pages are still polling: SIGTERM answers their polls, drains and exits 0.
            status, seconds = server.stop(signal.SIGTERM)
            if status != 0:
                fail(f"exit status {status} after SIGTERM; log:\n{server.logs()}")
            print(f"ok: SIGTERM with two pages open: exit 0 in {seconds:.2f} s")
        finally:
            for page in pages:
                page.close()


if __name__ == "__main__":
    main()
