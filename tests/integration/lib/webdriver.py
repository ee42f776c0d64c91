"""A small W3C WebDriver client for the browser test: starts Debian's
chromedriver on a loopback port, opens one headless Chromium session with a
fresh profile directory, and wraps the few commands the test uses
(navigate, find elements, click, type, run a script, screenshot, cookies,
the browser's console log). Python 3 standard library only.

Trusts: the chromedriver and chromium binaries it is given, and the test that
calls it. Talks only to 127.0.0.1.

Why WebDriver rather than the DevTools protocol: chromedriver is packaged by
Debian next to chromium (chromium-driver), launches and stops the browser
itself, and speaks plain HTTP+JSON, so urllib suffices; the DevTools protocol
needs a WebSocket client, which Python's standard library lacks.
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

# The W3C element reference key in JSON answers.
ELEMENT_KEY = "element-6066-11e4-a52e-4f735466cecf"

# How long a chromedriver start and a single WebDriver command may take.
DRIVER_START_TIMEOUT_S = 20
COMMAND_TIMEOUT_S = 60
# How long find()/wait_for() poll for an element or a condition.
WAIT_TIMEOUT_S = 10
WAIT_STEP_S = 0.1
# The tallest full-page screenshot, in CSS pixels.
SCREENSHOT_MAX_HEIGHT = 4000


class WebDriverError(Exception):
    """A WebDriver command failed: `error` is the W3C error code."""

    def __init__(self, error, message):
        super().__init__("%s: %s" % (error, message))
        self.error = error


def _free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Element:
    def __init__(self, browser, ref):
        self.browser = browser
        self.ref = ref

    def _cmd(self, method, what, body=None):
        return self.browser._cmd(method, "/element/%s/%s" % (self.ref, what), body)

    def click(self):
        self._cmd("POST", "click", {})

    def clear(self):
        self._cmd("POST", "clear", {})

    def send_keys(self, text):
        self._cmd("POST", "value", {"text": text})

    @property
    def text(self):
        return self._cmd("GET", "text")

    def attribute(self, name):
        return self._cmd("GET", "attribute/%s" % name)

    def property(self, name):
        return self._cmd("GET", "property/%s" % name)

    def find(self, css):
        r = self._cmd("POST", "element", {"using": "css selector", "value": css})
        return Element(self.browser, r[ELEMENT_KEY])

    def find_all(self, css):
        r = self._cmd("POST", "elements", {"using": "css selector", "value": css})
        return [Element(self.browser, e[ELEMENT_KEY]) for e in r]

class Browser:
    """chromedriver + one headless Chromium session. Use as a context manager:
    the session, the browser, chromedriver and the profile directory are gone
    when it exits."""

    def __init__(self, chromedriver="chromedriver", chromium="/usr/bin/chromium",
                 width=1280, height=900, log_dir=None, lang="en-US"):
        self.port = _free_port()
        self.profile = tempfile.mkdtemp(prefix="emogate-chromium.")
        log = os.path.join(log_dir or self.profile, "chromedriver.log")
        self.driver = subprocess.Popen(
            [chromedriver, "--port=%d" % self.port, "--allowed-ips=127.0.0.1",
             "--log-path=%s" % log],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = "http://127.0.0.1:%d" % self.port
        self.session = None
        deadline = time.monotonic() + DRIVER_START_TIMEOUT_S
        while True:
            try:
                if self._http("GET", "/status")["ready"]:
                    break
            except (OSError, WebDriverError):
                pass
            if time.monotonic() > deadline or self.driver.poll() is not None:
                self.close()
                raise WebDriverError("driver", "chromedriver did not start (log: %s)" % log)
            time.sleep(WAIT_STEP_S)
        args = [
            "--headless=new",
            # Chromium refuses to start as root with its sandbox on; the test
            # runs as root (it starts Postfix), so the sandbox is off there.
            # The pages it loads are ours, from loopback.
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-sync",
            "--disable-component-update",
            "--disable-features=Translate,OptimizationHints,MediaRouter",
            "--user-data-dir=%s" % os.path.join(self.profile, "profile"),
            "--window-size=%d,%d" % (width, height),
            "--lang=%s" % lang,
        ]
        caps = {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args,
                                   "prefs": {"intl.accept_languages": lang}},
            "goog:loggingPrefs": {"browser": "ALL"},
            "pageLoadStrategy": "normal",
        }
        try:
            r = self._http("POST", "/session", {"capabilities": {"alwaysMatch": caps}})
        except Exception:
            self.close()
            raise
        self.session = r["sessionId"]
        self.capabilities = r.get("capabilities", {})

    # ---- plumbing
    def _http(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=COMMAND_TIMEOUT_S) as r:
                payload = json.loads(r.read().decode() or "{}")
        except urllib.error.HTTPError as e:
            try:
                v = json.loads(e.read().decode()).get("value", {})
            except ValueError:
                v = {}
            raise WebDriverError(v.get("error", "http %d" % e.code), v.get("message", ""))
        return payload.get("value")

    def _cmd(self, method, path, body=None):
        return self._http(method, "/session/%s%s" % (self.session, path), body)

    def close(self):
        if self.session:
            try:
                self._http("DELETE", "/session/%s" % self.session)
            except (OSError, WebDriverError):
                pass
            self.session = None
        if self.driver.poll() is None:
            self.driver.terminate()
            try:
                self.driver.wait(5)
            except subprocess.TimeoutExpired:
                self.driver.kill()
                self.driver.wait()
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- commands
    def get(self, url):
        self._cmd("POST", "/url", {"url": url})

    @property
    def url(self):
        return self._cmd("GET", "/url")

    @property
    def title(self):
        return self._cmd("GET", "/title")

    def find(self, css, timeout=WAIT_TIMEOUT_S):
        """The first element matching css, waiting up to timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                r = self._cmd("POST", "/element", {"using": "css selector", "value": css})
                return Element(self, r[ELEMENT_KEY])
            except WebDriverError as e:
                if e.error != "no such element" or time.monotonic() > deadline:
                    raise
            time.sleep(WAIT_STEP_S)

    def find_all(self, css):
        r = self._cmd("POST", "/elements", {"using": "css selector", "value": css})
        return [Element(self, e[ELEMENT_KEY]) for e in r]

    def execute(self, script, *args):
        """Runs `script` (a function body) in the page and returns its value."""
        return self._cmd("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, predicate, timeout=WAIT_TIMEOUT_S, what="condition"):
        deadline = time.monotonic() + timeout
        while True:
            v = predicate()
            if v:
                return v
            if time.monotonic() > deadline:
                raise WebDriverError("timeout", "waiting for %s" % what)
            time.sleep(WAIT_STEP_S)

    def screenshot(self, path):
        """A PNG of the viewport."""
        with open(path, "wb") as f:
            f.write(base64.b64decode(self._cmd("GET", "/screenshot")))

    def full_screenshot(self, path, max_height=SCREENSHOT_MAX_HEIGHT):
        """A PNG of the whole page (up to max_height pixels tall): the window
        is made as tall as the document, shot, and set back."""
        rect = self._cmd("GET", "/window/rect")
        h = self.execute("return Math.ceil(document.documentElement.scrollHeight);")
        h = min(max(int(h or 0), 200), max_height)
        chrome = rect["height"] - self.execute("return window.innerHeight;")  # the window's own bars
        self._cmd("POST", "/window/rect", {"width": rect["width"], "height": h + chrome})
        try:
            self.screenshot(path)
        finally:
            self._cmd("POST", "/window/rect", {"width": rect["width"], "height": rect["height"]})

    def add_cookie(self, cookie):
        """cookie: a W3C cookie object (name, value, path, ...) for the
        current page's site."""
        self._cmd("POST", "/cookie", {"cookie": cookie})

    def console_log(self):
        """The browser's console entries since the last call (chromedriver's
        goog:loggingPrefs log): dicts with level, message, source."""
        return self._cmd("POST", "/se/log", {"type": "browser"}) or []
