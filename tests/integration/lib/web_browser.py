#!/usr/bin/env python3
"""The browser half of web_browser.sh: headless Chromium (lib/webdriver.py)
against a running `emogate web`, acting as the help desk would. Prints one
"ok   - ..." or "FAIL - ..." line per check and exits 1 if any failed.

  web_browser.py --base http://127.0.0.1:PORT --user U --password P
                 --artifacts DIR --payload ID --sender S --sender-ids ID,ID
                 --release ID --release-rcpt ADDR --delete ID
                 --all-ids ID,ID,... --log-dir DIR

Steps: a page before login redirects to /login; log in; the list shows every
entry; filter by sender; open the message with the <script>/"onload= payloads
(shown as text, no element or handler from them, window.__pwned undefined);
release one message to one recipient; delete one; open the PPAP holds,
incidents and status pages from the navigation; the list in Japanese
(?lang=ja); log out, and a page redirects to login again. The console must stay free of errors throughout.
Screenshots (list, message pages) go to DIR/web-*.png.
Trusts: its arguments and the server it tests (loopback).
"""
import argparse
import http.cookiejar
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webdriver  # noqa: E402

SCRIPT = "<script>window.__pwned=1</script>"
ONLOAD = '"onload=window.__pwned=1 x="'

FAILS = 0
# The login form: the one with the password field (the page may have others).
LOGIN_FORM = "form:has(input[name=password])"


def ok(what):
    print("ok   - " + what, flush=True)


def bad(what):
    global FAILS
    FAILS += 1
    print("FAIL - " + what, flush=True)


def check(what, cond):
    ok(what) if cond else bad(what)
    return cond


def path_of(url):
    return urllib.parse.urlsplit(url).path


def row_ids(b):
    return [r.attribute("data-id") for r in b.find_all("#qlist tr[data-id]")]


def submit(b, form_css):
    """Clicks the submit button of the form (the first one) and waits for
    the next page to load (a marker set in this page is gone there)."""
    btn = b.find_all(form_css + " button[type=submit], " + form_css + " input[type=submit], "
                     + form_css + " button:not([type])")
    if not btn:
        b.find(form_css)  # raises "no such element" when the form itself is missing
        raise webdriver.WebDriverError("no such element", "no submit button in " + form_css)
    b.execute("window.__wd_nav = 1;")
    btn[0].click()
    b.wait_for(lambda: b.execute("return window.__wd_nav === undefined && document.readyState === 'complete';"),
               what="the page after submitting " + form_css)


def wait_loaded(b):
    b.wait_for(lambda: b.execute("return document.readyState === 'complete';"), what="page load")


# The DOM checks on a page showing attacker text. Returns a dict.
DOM_PROBE = r"""
const out = {pwned: typeof window.__pwned};
const scripts = Array.from(document.querySelectorAll('script'));
out.inline_scripts = scripts.filter(s => !s.hasAttribute('src')).length;
out.payload_scripts = scripts.filter(s => (s.textContent || '').includes('__pwned')).length;
out.handlers = [];
for (const el of document.querySelectorAll('*')) {
  for (const a of el.attributes) {
    if (a.name.toLowerCase().startsWith('on') || a.value.includes('javascript:'))
      out.handlers.push(el.tagName + ' ' + a.name + '=' + a.value);
  }
}
out.text = document.body ? document.body.innerText : '';
const f = document.getElementById('findings');
out.findings = f ? f.innerText : null;
out.attr_names = [];
for (const el of document.querySelectorAll('*'))
  for (const a of el.attributes) if (a.name.includes('x=') || a.name === 'onload') out.attr_names.push(a.name);
return out;
"""


def session_from_urllib(b, base, user, password):
    """Logs in with urllib (the login page's hidden fields, then user and
    password) and gives the browser the cookies it got."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login", timeout=10).read().decode("utf-8", "replace")
    form = re.search(r"<form[^>]*>(.*?)</form>", page, re.S)
    fields = dict(re.findall(r'<input[^>]*type="hidden"[^>]*name="([^"]*)"[^>]*value="([^"]*)"',
                             form.group(1) if form else ""))
    fields.update(user=user, password=password)
    try:
        opener.open(base + "/login", urllib.parse.urlencode(fields).encode(), timeout=10).read()
    except urllib.error.HTTPError:
        pass
    b.get(base + "/static/style.css")  # a page of the site, to set its cookies on
    for c in jar:
        b.add_cookie({"name": c.name, "value": c.value, "path": c.path or "/", "httpOnly": True})


def console_errors(b):
    errs = []
    for e in b.console_log():
        if e.get("level") != "SEVERE":
            continue
        # Chromium asks every site for /favicon.ico by itself; a 404 there is
        # not the page's doing.
        if "/favicon.ico" in e.get("message", "") and e.get("source") == "network":
            continue
        errs.append(e.get("message", ""))
    return errs


def main():
    p = argparse.ArgumentParser()
    for a in ("base", "user", "password", "artifacts", "payload", "sender", "sender-ids",
              "release", "release-rcpt", "delete", "all-ids", "log-dir"):
        p.add_argument("--" + a, required=True)
    a = p.parse_args()
    base = a.base.rstrip("/")
    all_ids = set(a.all_ids.split(","))
    os.makedirs(a.artifacts, exist_ok=True)
    shots = lambda n: os.path.join(a.artifacts, "web-%s.png" % n)  # noqa: E731
    console = []

    with webdriver.Browser(log_dir=a.log_dir) as b:
        # --- before login: redirected to the login page
        b.get(base + "/quarantine")
        wait_loaded(b)
        check("before login: /quarantine redirects to /login (at %s)" % b.url, path_of(b.url) == "/login")
        console += console_errors(b)

        # --- log in
        try:
            b.find(LOGIN_FORM + " input[name=user]").send_keys(a.user)
            b.find(LOGIN_FORM + " input[name=password]").send_keys(a.password)
            submit(b, LOGIN_FORM)
            if not check("login: the form logs in (at %s: %s)" % (b.url, b.execute("return document.title;")),
                         path_of(b.url) != "/login"):
                # Go on with a session made outside the browser, so that the
                # other steps still report on the pages.
                session_from_urllib(b, base, a.user, a.password)
                b.get(base + "/quarantine")
                wait_loaded(b)
                if not check("login: a session from urllib works in the browser (the other steps use it)",
                             path_of(b.url) == "/quarantine"):
                    return
        except webdriver.WebDriverError as e:
            bad("login form (fields user, password): %s" % e)
            return
        console += console_errors(b)

        # --- the list
        b.get(base + "/quarantine")
        wait_loaded(b)
        try:
            b.find("#qlist")
            ids = row_ids(b)
            check("list: one row per entry (%d rows, %d entries)" % (len(ids), len(all_ids)),
                  set(ids) == all_ids and len(ids) == len(all_ids))
            rows = {r.attribute("data-id"): r for r in b.find_all("#qlist tr[data-id]")}
            subj = {i: r.find("td.subject, .subject").text for i, r in rows.items()} if rows else {}
            check("list: the payload's subject shown as text (%r)" % subj.get(a.payload),
                  SCRIPT in subj.get(a.payload, "") and ONLOAD in subj.get(a.payload, ""))
            check("list: Japanese subject decoded", any("請求書 2026年11月分" in s for s in subj.values()))
            links = b.find_all('#qlist tr[data-id="%s"] a[href="/quarantine/%s"]' % (a.payload, a.payload))
            check("list: the row links to /quarantine/ID", len(links) >= 1)
            d = b.execute(DOM_PROBE)
            check("list: no element or handler from the payload (%s)" % d["handlers"][:3],
                  d["pwned"] == "undefined" and d["payload_scripts"] == 0 and d["inline_scripts"] == 0
                  and not d["handlers"] and not d["attr_names"])
            b.full_screenshot(shots("quarantine"))
        except webdriver.WebDriverError as e:
            bad("list page: %s" % e)
        console += console_errors(b)

        # --- filter by sender, through the filter form
        try:
            field = b.find("#filters input[name=sender]")
            field.clear()
            field.send_keys(a.sender)
            submit(b, "#filters")
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(b.url).query)
            check("filter: the form puts sender= in the URL (%s)" % b.url, q.get("sender") == [a.sender])
            ids = row_ids(b)
            want = set(a.sender_ids.split(","))
            check("filter: rows are exactly %s's (%s, want %s)" % (a.sender, sorted(ids), sorted(want)),
                  set(ids) == want and len(ids) == len(want))
            b.full_screenshot(shots("quarantine-filtered"))
        except webdriver.WebDriverError as e:
            bad("filter form #filters: %s" % e)
        console += console_errors(b)

        # --- the message with the payloads, opened from the list
        try:
            b.get(base + "/quarantine")
            wait_loaded(b)
            b.execute("window.__wd_nav = 1;")
            b.find('#qlist tr[data-id="%s"] a[href="/quarantine/%s"]' % (a.payload, a.payload)).click()
            b.wait_for(lambda: b.execute("return window.__wd_nav === undefined && document.readyState === 'complete';"),
                       what="the message page")
            check("message: opened from the list (%s)" % b.url, path_of(b.url) == "/quarantine/" + a.payload)
            b.find("#findings")
            d = b.execute(DOM_PROBE)
            check("message: window.__pwned is undefined (%s)" % d["pwned"], d["pwned"] == "undefined")
            check("message: no <script> element from the payload", d["payload_scripts"] == 0)
            check("message: no inline <script> at all (%d)" % d["inline_scripts"], d["inline_scripts"] == 0)
            check("message: no event handler attribute (%s)" % d["handlers"][:3], not d["handlers"])
            check("message: no attribute made of the payload (%s)" % d["attr_names"], not d["attr_names"])
            check("message: the Subject payloads shown as text", SCRIPT in d["text"] and ONLOAD in d["text"])
            check("message: the decoded Subject in full",
                  "請求書 %s %s %s" % (SCRIPT, ONLOAD, SCRIPT) in d["text"])
            f = d["findings"] or ""
            check("message: findings name xlm_macro", "xlm_macro" in f)
            check("message: findings show the file names as text",
                  (SCRIPT + ".xls") in f and (ONLOAD + ".zip") in f)
            b.full_screenshot(shots("message-payload"))
        except webdriver.WebDriverError as e:
            bad("message page /quarantine/%s: %s" % (a.payload, e))
        console += console_errors(b)

        # --- release one message to one of its recipients
        try:
            b.get(base + "/quarantine/" + a.release)
            wait_loaded(b)
            b.find("#findings")
            b.full_screenshot(shots("message"))
            boxes = b.find_all("#release input[type=checkbox][name=rcpt]")
            vals = [x.attribute("value") for x in boxes]
            check("release: a checkbox per recipient (%s)" % vals, a.release_rcpt in vals and len(vals) >= 2)
            for x in boxes:
                if bool(x.property("checked")) != (x.attribute("value") == a.release_rcpt):
                    x.click()
            submit(b, "#release")
            # Judged by the page, not by digits in the title: a message ID
            # such as 20261204-220304-6d403ef9 holds "403".
            errors = b.find_all("p.error")
            check("release: back on the message with its outcome (%s, %d error paragraph(s))" % (b.url, len(errors)),
                  path_of(b.url) == "/quarantine/" + a.release and "msg=released" in b.url and not errors)
        except webdriver.WebDriverError as e:
            bad("release form #release on /quarantine/%s: %s" % (a.release, e))
        console += console_errors(b)

        # --- delete one
        try:
            b.get(base + "/quarantine/" + a.delete)
            wait_loaded(b)
            submit(b, "#delete")
            b.get(base + "/quarantine")
            wait_loaded(b)
            check("delete: gone from the list", a.delete not in row_ids(b))
            check("delete: the others still listed", a.payload in row_ids(b))
        except webdriver.WebDriverError as e:
            bad("delete form #delete on /quarantine/%s: %s" % (a.delete, e))
        console += console_errors(b)

        # --- the other pages load through the navigation, with their tables
        for href, tables in (("/ppap", ["ppap"]), ("/incidents", ["incidents", "frozen"]), ("/status", [])):
            try:
                b.execute("window.__wd_nav = 1;")
                b.find('nav a[href="%s"]' % href).click()
                b.wait_for(lambda: b.execute("return window.__wd_nav === undefined && document.readyState === 'complete';"),
                           what=href)
                found = [t for t in tables if b.find_all("table#" + t)]
                title = b.execute("return document.title;")
                check("%s: opened from the navigation, tables %s (%s)" % (href, tables, title),
                      path_of(b.url) == href and found == tables and "Error" not in title)
            except webdriver.WebDriverError as e:
                bad("%s: %s" % (href, e))
            console += console_errors(b)

        # --- Japanese UI: the list with ?lang=ja
        try:
            b.get(base + "/quarantine?lang=ja")
            wait_loaded(b)
            check("lang=ja: the page is in Japanese (html lang=%s)" % b.execute("return document.documentElement.lang;"),
                  b.execute("return document.documentElement.lang;") == "ja")
            b.full_screenshot(shots("quarantine-ja"))
            b.get(base + "/quarantine?lang=en")
            wait_loaded(b)
        except webdriver.WebDriverError as e:
            bad("lang=ja: %s" % e)
        console += console_errors(b)

        # --- log out: through the navigation's logout (a form or a link)
        try:
            if b.find_all('form[action="/logout"]'):
                submit(b, 'form[action="/logout"]')
            else:
                b.find('a[href="/logout"]').click()
                wait_loaded(b)
            b.get(base + "/quarantine/" + a.payload)
            wait_loaded(b)
            check("logout: /quarantine/ID redirects to /login (at %s)" % b.url, path_of(b.url) == "/login")
            check("logout: nothing of the message shown", "__pwned" not in b.execute("return document.body.innerText;"))
        except webdriver.WebDriverError as e:
            bad("logout: %s" % e)
        console += console_errors(b)

        check("console: no errors (%s)" % console[:5], not console)
        for n in ("quarantine", "message-payload", "message"):
            check("screenshot web-%s.png kept" % n, os.path.getsize(shots(n)) > 10000 if os.path.exists(shots(n)) else False)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # the driver or browser broke: a failure, with the reason
        bad("browser: %s: %s" % (type(e).__name__, e))
    sys.exit(1 if FAILS else 0)
