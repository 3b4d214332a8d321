#!/usr/bin/env python3
"""dashapi - a client of mailwardd's dashboard listener (standard library
only: http.client) and the API checks of tests/integration/dashboard_api.sh.

  dashapi.py suite NAME --port P [--tls] [--web-root DIR] [options]
      run one group of checks against a running daemon; prints one line per
      check, "ok   - ..." or "FAIL - ..." (as lib.sh), exits 1 on a failure
  dashapi.py login --port P --name N --password PW [--tls]
      log in, print the session JSON (exit 1 when refused)
  dashapi.py latency --port P --policy-port Q [--logins N]
      measure: Postfix policy answers while N logins (wrong passwords,
      argon2id on mailwardd's worker thread) run at once; prints the 8 s
      latency distribution (the event loop must not wait for argon2id)

Groups: auth (401/403/CSRF/Origin/cookie flags/logout/admins over TCP),
malformed (400s with a JSON error), static (files, headers, path escapes),
data (stats, audit, stream, metrics), idle (a session past its idle
timeout), throttle (repeated wrong passwords: 429, then refused), tls.
Only loopback addresses are used.
"""
import argparse
import http.client
import json
import re
import socket
import ssl
import sys
import time

FAILED = 0


def ok(desc):
    print("ok   - " + desc, flush=True)


def fail(desc, detail=""):
    global FAILED
    FAILED += 1
    print("FAIL - " + desc + (": " + detail if detail else ""), flush=True)


def expect(cond, desc, detail=""):
    if cond:
        ok(desc)
    else:
        fail(desc, detail)
    return cond


class Reply:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers      # list of (name, value)
        self.body = body

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            return None

    def error(self):
        j = self.json()
        return j.get("error") if isinstance(j, dict) else None

    def __repr__(self):
        return "HTTP %d %s" % (self.status, self.body[:200])


class Client:
    """One browser: a cookie jar of one cookie, the CSRF token."""

    def __init__(self, port, tls=False, host="127.0.0.1"):
        self.port = port
        self.tls = tls
        self.host = host
        self.cookie = None
        self.csrf = None
        self.last_set_cookie = None

    def origin(self):
        return "%s://%s:%d" % ("https" if self.tls else "http", self.host,
                               self.port)

    def conn(self, timeout=30):
        if self.tls:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return http.client.HTTPSConnection(self.host, self.port,
                                               timeout=timeout, context=ctx)
        return http.client.HTTPConnection(self.host, self.port,
                                          timeout=timeout)

    def request(self, method, path, body=None, headers=None, csrf=True,
                origin=True, cookie=True, ctype="application/json"):
        h = {}
        if body is not None:
            if not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            if isinstance(body, str):
                body = body.encode("utf-8")
            if ctype:
                h["Content-Type"] = ctype
        if cookie and self.cookie:
            h["Cookie"] = "mw_session=" + self.cookie
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if origin and method not in ("GET", "HEAD"):
            h["Origin"] = self.origin()
        h.update(headers or {})
        c = self.conn()
        # skip_host: send Host ourselves when a test overrides it
        c.putrequest(method, path, skip_host="Host" in h,
                     skip_accept_encoding=True)
        for k, v in h.items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        rep = Reply(r.status, r.getheaders(), r.read())
        c.close()
        return rep

    def login(self, name, password):
        r = self.request("POST", "/api/v1/session",
                         {"name": name, "password": password}, csrf=False)
        sc = r.header("Set-Cookie")
        self.last_set_cookie = sc
        if r.status == 200 and sc:
            m = re.match(r"mw_session=([0-9a-f]+)", sc)
            if m:
                self.cookie = m.group(1)
            j = r.json() or {}
            self.csrf = j.get("csrf_token")
        return r


# --------------------------------------------------------------- groups

API_ROUTES = [
    ("GET", "/api/v1/status"), ("GET", "/api/v1/bans"),
    ("POST", "/api/v1/bans"), ("DELETE", "/api/v1/bans?address=192.0.2.1"),
    ("GET", "/api/v1/lists/allow"), ("POST", "/api/v1/lists/allow"),
    ("DELETE", "/api/v1/lists/allow?network=192.0.2.0/24"),
    ("GET", "/api/v1/lists/deny"), ("POST", "/api/v1/lists/deny"),
    ("DELETE", "/api/v1/lists/deny?network=192.0.2.0/24"),
    ("GET", "/api/v1/check?address=192.0.2.1"), ("GET", "/api/v1/events"),
    ("POST", "/api/v1/reload"), ("GET", "/api/v1/stats"),
    ("GET", "/api/v1/audit"), ("GET", "/api/v1/events/stream"),
    ("GET", "/api/v1/session"), ("PATCH", "/api/v1/session"),
    ("DELETE", "/api/v1/session"), ("GET", "/api/v1/admins"),
    ("GET", "/api/v1/accounts"), ("GET", "/api/v1/alerts"),
]


def suite_auth(a):
    anon = Client(a.port, a.tls)
    for method, path in API_ROUTES:
        body = {} if method in ("POST", "PATCH") else None
        r = anon.request(method, path, body)
        expect(r.status == 401 and r.error(), "%s %s without a session: 401 "
               "with a JSON error" % (method, path), repr(r))

    bad = Client(a.port, a.tls)
    r = bad.login(a.name, a.password + "x")
    expect(r.status == 401 and r.error() == "wrong name or password",
           "wrong password: 401", repr(r))
    r = bad.login("nobody-" + a.name, a.password)
    expect(r.status == 401 and r.error() == "wrong name or password",
           "unknown admin: the same 401", repr(r))
    expect(bad.cookie is None and r.header("Set-Cookie") is None,
           "no cookie after a failed login")
    r = bad.request("POST", "/api/v1/session",
                    "name=%s&password=%s" % (a.name, a.password),
                    ctype="application/x-www-form-urlencoded", csrf=False)
    expect(r.status == 415, "login as an HTML form: 415", repr(r))
    r = bad.request("POST", "/api/v1/session",
                    {"name": a.name, "password": a.password}, csrf=False,
                    headers={"Origin": "http://evil.example"})
    expect(r.status == 403, "login from a foreign Origin: 403", repr(r))

    c = Client(a.port, a.tls)
    r = c.login(a.name, a.password)
    if not expect(r.status == 200 and c.cookie, "login: 200 and a cookie",
                  repr(r)):
        return
    sc = c.last_set_cookie
    attrs = [x.strip() for x in sc.split(";")]
    expect(re.fullmatch(r"mw_session=[0-9a-f]{64}", attrs[0]) is not None,
           "session id is 256 bits of hex", sc)
    expect("HttpOnly" in attrs, "cookie HttpOnly", sc)
    expect("SameSite=Strict" in attrs, "cookie SameSite=Strict", sc)
    expect("Path=/" in attrs, "cookie Path=/", sc)
    expect(("Secure" in attrs) == a.tls, "cookie Secure exactly when TLS", sc)
    j = r.json()
    expect(j.get("name") == a.name and re.fullmatch(
        r"[0-9a-f]{64}", j.get("csrf_token", "")) is not None,
        "login answers name and a CSRF token", repr(r))

    r = c.request("GET", "/api/v1/session")
    expect(r.status == 200 and r.json().get("csrf_token") == c.csrf,
           "GET /api/v1/session: who am I", repr(r))
    r = c.request("GET", "/api/v1/status")
    expect(r.status == 200 and "engine" in r.json(),
           "GET /api/v1/status with the session", repr(r))

    ban = {"address": "198.51.100.77", "duration": "1h", "reason": "csrf test"}
    r = c.request("POST", "/api/v1/bans", ban, csrf=False)
    expect(r.status == 403 and "X-CSRF-Token" in (r.error() or ""),
           "POST without X-CSRF-Token: 403", repr(r))
    r = c.request("POST", "/api/v1/bans", ban,
                  headers={"X-CSRF-Token": "0" * 64}, csrf=False)
    expect(r.status == 403, "POST with a wrong X-CSRF-Token: 403", repr(r))
    r = c.request("POST", "/api/v1/bans", ban,
                  headers={"X-CSRF-Token": c.csrf[:-1]}, csrf=False)
    expect(r.status == 403, "POST with a truncated X-CSRF-Token: 403", repr(r))
    r = c.request("POST", "/api/v1/bans", ban,
                  headers={"Origin": "http://evil.example"})
    expect(r.status == 403, "POST from a foreign Origin (right token): 403",
           repr(r))
    r = c.request("POST", "/api/v1/bans", ban,
                  headers={"Origin": c.origin().replace("127.0.0.1",
                                                        "localhost")})
    expect(r.status == 403, "POST with Origin of another host name: 403",
           repr(r))
    r = c.request("GET", "/api/v1/bans")
    expect(r.status == 200 and "198.51.100.77" not in r.body.decode(),
           "the refused requests changed nothing", repr(r))
    r = c.request("POST", "/api/v1/bans", ban)
    expect(r.status == 201, "POST with token and Origin: 201", repr(r))
    r = c.request("POST", "/api/v1/bans",
                  {"address": "198.51.100.78", "reason": "no origin"},
                  origin=False)
    expect(r.status == 201, "POST with token, no Origin header: 201", repr(r))
    r = c.request("DELETE", "/api/v1/bans?address=198.51.100.78", csrf=False)
    expect(r.status == 403, "DELETE without X-CSRF-Token: 403", repr(r))
    r = c.request("DELETE", "/api/v1/bans?address=198.51.100.78")
    expect(r.status == 200, "DELETE with the token: 200", repr(r))

    for method in ("GET", "POST", "PUT", "DELETE"):
        body = {"name": "mallory", "password": "0123456789ab"} \
            if method in ("POST", "PUT") else None
        path = "/api/v1/admins" + ("?name=" + a.name
                                   if method == "DELETE" else "")
        r = c.request(method, path, body)
        expect(r.status == 403 and "mailward admin" in (r.error() or ""),
               "%s /api/v1/admins over TCP: 403" % method, repr(r))

    r = c.request("PATCH", "/api/v1/session", {"language": "ja"})
    expect(r.status == 200 and r.json().get("language") == "ja",
           "PATCH language ja", repr(r))

    other = Client(a.port, a.tls)
    other.cookie = c.cookie
    other.csrf = None
    r = other.request("PATCH", "/api/v1/session", {"language": "en"},
                      csrf=False)
    expect(r.status == 403, "a stolen cookie without the token: 403", repr(r))

    r = c.request("DELETE", "/api/v1/session", csrf=False)
    expect(r.status == 403, "logout without X-CSRF-Token: 403", repr(r))
    r = c.request("DELETE", "/api/v1/session")
    sc = r.header("Set-Cookie") or ""
    expect(r.status == 200 and "Max-Age=0" in sc,
           "logout: 200 and the cookie cleared", repr(r) + " " + sc)
    r = c.request("GET", "/api/v1/session")
    expect(r.status == 401, "the old cookie after logout: 401", repr(r))
    r = c.request("GET", "/api/v1/bans")
    expect(r.status == 401, "the old cookie cannot read bans", repr(r))
    r = Client(a.port, a.tls)
    r.cookie = "f" * 64
    expect(r.request("GET", "/api/v1/status").status == 401,
           "a made-up session id: 401")
    r.cookie = "x"
    expect(r.request("GET", "/api/v1/status").status == 401,
           "a malformed session id: 401")


def suite_malformed(a):
    c = Client(a.port, a.tls)
    if not expect(c.login(a.name, a.password).status == 200, "login"):
        return
    cases = [
        ("POST", "/api/v1/bans", "{not json", "not valid JSON"),
        ("POST", "/api/v1/bans", {"address": "203.0.113.300"}, "address"),
        ("POST", "/api/v1/bans", {"address": "10.0.0.1/8"}, "host bits"),
        ("POST", "/api/v1/bans", {"address": "192.0.2.1", "bogus": 1},
         "unknown member"),
        ("POST", "/api/v1/lists/deny", {"network": ""}, "empty"),
        ("DELETE", "/api/v1/bans?addr=1.2.3.4", None, "unknown query"),
        ("GET", "/api/v1/stats?range=2d", None, "range"),
        ("GET", "/api/v1/stats?top=0", None, "top"),
        ("GET", "/api/v1/stats?range=1h&range=7d", None, "twice"),
        ("GET", "/api/v1/audit?limit=0", None, "limit"),
        ("GET", "/api/v1/audit?since=soon", None, "since"),
        ("GET", "/api/v1/events/stream?address=not-an-ip", None, "address"),
        ("GET", "/api/v1/events/stream?verdict=a%0Ab", None, "verdict"),
        ("GET", "/api/v1/events?limit=-1", None, "limit"),
        ("PATCH", "/api/v1/session", {"language": "fr"}, "language"),
        ("PATCH", "/api/v1/session", {"lang": "ja"}, "unknown member"),
        ("POST", "/api/v1/reload", {"x": 1}, "unknown member"),
    ]
    for method, path, body, word in cases:
        r = c.request(method, path, body)
        err = r.error() or ""
        expect(r.status == 400 and word.lower() in err.lower(),
               "%s %s %s: 400 naming %r" % (method, path,
                                            json.dumps(body)[:40], word),
               repr(r))
    anon = Client(a.port, a.tls)
    for body, word in [({"name": a.name}, "password"),
                       ({"password": "x"}, "name"),
                       ({"name": "a b", "password": "x"}, "name"),
                       ({"name": a.name, "password": "x" * 2000}, "longer"),
                       ("[]", "object"), ("", "empty")]:
        r = anon.request("POST", "/api/v1/session", body, csrf=False)
        expect(r.status == 400 and word in (r.error() or ""),
               "login body %s: 400 naming %r" % (str(body)[:30], word),
               repr(r))
    r = c.request("POST", "/api/v1/bans", "x" * 70000)
    expect(r.status == 413, "a 70 KB body: 413", repr(r))
    r = c.request("GET", "/api/v1/nosuch")
    expect(r.status == 404 and r.error(), "an unknown route: 404 JSON",
           repr(r))
    r = c.request("PUT", "/api/v1/bans", {})
    expect(r.status == 405 and r.header("Allow"), "a wrong method: 405 "
           "with Allow", repr(r))


def raw_get(a, target, extra=b""):
    """Sends the request line as given (no client-side normalisation)."""
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    if a.tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        s = ctx.wrap_socket(s)
    s.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
              extra + b"Connection: close\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1]) if lines and len(
        lines[0].split()) > 1 else 0
    hdrs = []
    for ln in lines[1:]:
        k, _, v = ln.decode("latin-1").partition(":")
        hdrs.append((k.strip(), v.strip()))
    return Reply(status, hdrs, body)


def suite_static(a):
    c = Client(a.port, a.tls)
    r = c.request("GET", "/")
    index = open(a.web_root + "/index.html", "rb").read()
    expect(r.status == 200 and r.body == index, "/ serves index.html",
           repr(r))
    expect((r.header("Content-Type") or "").startswith("text/html"),
           "index.html is text/html", str(r.header("Content-Type")))
    csp = r.header("Content-Security-Policy") or ""
    expect("default-src 'self'" in csp and "unsafe-inline" not in csp and
           "script-src 'self'" in csp and "style-src 'self'" in csp,
           "CSP without inline script/style", csp)
    expect(r.header("X-Content-Type-Options") == "nosniff", "nosniff")
    expect(r.header("X-Frame-Options") == "DENY", "X-Frame-Options DENY")
    expect(r.header("Referrer-Policy") == "no-referrer",
           "Referrer-Policy no-referrer")
    etag = r.header("ETag")
    expect(etag and r.header("Last-Modified"), "ETag and Last-Modified",
           str(r.headers))
    r = c.request("GET", "/", headers={"If-None-Match": etag or "x"})
    expect(r.status == 304 and r.body == b"", "If-None-Match: 304", repr(r))
    r = c.request("GET", "/assets/app.js")
    expect(r.status == 200 and (r.header("Content-Type") or "").startswith(
        "text/javascript"), "a .js file as text/javascript", repr(r))
    r = c.request("GET", "/assets/style.css")
    expect(r.status == 200 and (r.header("Content-Type") or "").startswith(
        "text/css"), "a .css file as text/css", repr(r))
    r = c.request("GET", "/inside/app.js")
    expect(r.status == 200, "a symlink inside web_root is followed", repr(r))
    r = c.request("GET", "/nope.html")
    expect(r.status == 404, "a missing file: 404", repr(r))
    r = c.request("GET", "/assets")
    expect(r.status == 404, "a directory without / : 404", repr(r))
    r = c.request("POST", "/index.html", {})
    expect(r.status == 405, "POST on a static file: 405", repr(r))
    escapes = [b"/../etc/passwd", b"/assets/../../etc/passwd",
               b"/%2e%2e/etc/passwd", b"/%2E%2E/%2E%2E/etc/passwd",
               b"/assets/%2e%2e/%2e%2e/etc/passwd", b"/..%2fetc%2fpasswd",
               b"/%252e%252e/etc/passwd", b"/assets%2f..%2f..%2fetc/passwd",
               b"//etc/passwd", b"/assets//app.js", b"/..\\etc\\passwd",
               b"/assets\\..\\..\\etc\\passwd", b"/%5c..%5cetc%5cpasswd",
               b"/index.html%00.js", b"/.hidden", b"/assets/.", b"/%",
               b"/%zz", b"/a%2"]
    for target in escapes:
        r = raw_get(a, target)
        expect(r.status in (400, 404) and b"root:" not in r.body,
               "%s refused (%d)" % (target.decode("latin-1"), r.status),
               repr(r))
    r = raw_get(a, b"/outside/passwd")
    expect(r.status == 404 and b"root:" not in r.body,
           "a symlink leading out of web_root: 404", repr(r))
    r = raw_get(a, b"/secret-link")
    expect(r.status == 404 and b"TOP SECRET" not in r.body,
           "a file symlink leading out of web_root: 404", repr(r))
    r = raw_get(a, b"/" + b"a" * 2000)
    expect(r.status == 400, "a 2000-byte path: 400", repr(r))


def suite_data(a):
    c = Client(a.port, a.tls)
    if not expect(c.login(a.name, a.password).status == 200, "login"):
        return
    # the stream first, so the ban below is seen live
    s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
    s.sendall(("GET /api/v1/events/stream?verdict=BAN HTTP/1.1\r\nHost: "
               "127.0.0.1\r\nCookie: mw_session=%s\r\n\r\n" % c.cookie)
              .encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(4096)
        if not chunk:
            break
        head += chunk
    expect(head.startswith(b"HTTP/1.1 200") and
           b"text/event-stream" in head, "stream: 200 text/event-stream",
           head[:200].decode("latin-1"))
    r = c.request("POST", "/api/v1/bans", {"address": a.attacker,
                                           "duration": "2h",
                                           "reason": "dashboard test"})
    expect(r.status == 201, "ban %s through the dashboard" % a.attacker,
           repr(r))
    got = head
    deadline = time.time() + 10
    s.settimeout(1)
    while time.time() < deadline and a.attacker.encode() not in got:
        try:
            chunk = s.recv(4096)
        except socket.timeout:
            continue
        if not chunk:
            break
        got += chunk
    m = re.search(rb"data: (\{[^\n]*\})", got)
    ev = json.loads(m.group(1)) if m else {}
    expect(ev.get("verdict") == "BAN" and ev.get("address") == a.attacker and
           ev.get("listener") == "admin", "the ban arrives on the stream",
           got[-300:].decode("latin-1"))
    s.close()

    if a.policy_refusals:
        # the shell script made REJECTs of the attacker via the policy port
        pass
    r = c.request("GET", "/api/v1/stats?range=1h&top=5")
    j = r.json() or {}
    ok_shape = (r.status == 200 and j.get("range") == "1h" and
                len(j.get("buckets", [])) == 60 and
                all(len(j["series"][k]) == 60 for k in
                    ("refused", "login_failures", "bans", "alerts")))
    expect(ok_shape, "stats 1h: 60 points per series", repr(r)[:300])
    if ok_shape:
        expect(j["totals"]["bans"] >= 1 and sum(j["series"]["bans"]) ==
               j["totals"]["bans"], "stats count the ban", json.dumps(
                   j["totals"]))
        if a.policy_refusals:
            expect(j["totals"]["refused"] >= a.policy_refusals,
                   "stats count %d policy refusals" % a.policy_refusals,
                   json.dumps(j["totals"]))
            tops = {x["address"]: x["count"] for x in j["top"]["addresses"]}
            expect(tops.get(a.attacker, 0) >= a.policy_refusals,
                   "top addresses: the attacker with its refusals",
                   json.dumps(j["top"]["addresses"]))
            nets = {x["network"]: x["count"] for x in j["top"]["networks"]}
            want = a.attacker.rsplit(".", 1)[0] + ".0/24"
            expect(nets.get(want, 0) >= a.policy_refusals,
                   "top networks: its /24", json.dumps(j["top"]["networks"]))
            counts = [x["count"] for x in j["top"]["addresses"]]
            expect(counts == sorted(counts, reverse=True),
                   "top addresses largest first", str(counts))
    for rng, n in (("24h", 96), ("7d", 168)):
        r = c.request("GET", "/api/v1/stats?range=" + rng)
        j = r.json() or {}
        expect(r.status == 200 and len(j.get("buckets", [])) == n,
               "stats %s: %d points" % (rng, n), repr(r)[:200])

    r = c.request("GET", "/api/v1/audit?limit=50")
    rows = (r.json() or {}).get("audit", [])
    ban = [x for x in rows if x["action"] == "ban" and
           x["target"] == a.attacker]
    expect(ban and ban[0]["actor"] == a.name and
           ban[0]["origin"].startswith("127.0.0.1:"),
           "audit: the ban, by whom and from where", json.dumps(rows[:3]))
    login = [x for x in rows if x["action"] == "login" and
             x["actor"] == a.name]
    expect(login, "audit: the login", json.dumps(rows[:3]))
    added = [x for x in rows if x["action"] == "admin_add" and
             x["target"] == a.name]
    expect(added and added[0]["origin"].startswith("unix uid "),
           "audit: the admin was added over the unix socket",
           json.dumps(added))
    expect(not any(a.password in json.dumps(x) for x in rows),
           "audit: no password anywhere")
    r = c.request("GET", "/api/v1/audit?actor=" + a.name)
    expect(r.status == 200 and all(x["actor"] == a.name for x in
                                   r.json()["audit"]), "audit ?actor=")

    anon = Client(a.port, a.tls)
    r = anon.request("GET", "/metrics")
    text = r.body.decode()
    expect(r.status == 200 and (r.header("Content-Type") or "").startswith(
        "text/plain; version=0.0.4"), "/metrics without a session: 200 "
        "text/plain 0.0.4", repr(r)[:200])
    for name in ("mailward_decisions_total", "mailward_verdicts_total{",
                 "mailward_bans_active", "mailward_dnsbl_timeouts_total",
                 "mailward_fail_open_total", "mailward_store_commit_seconds_sum",
                 "mailward_listener_requests_total{listener=\"policy\"}",
                 "mailward_dashboard_logins_total"):
        expect(name in text, "metric " + name)
    bad = [ln for ln in text.splitlines() if ln and not ln.startswith("#")
           and not re.fullmatch(r'[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? '
                                r'-?[0-9.e+-]+', ln)]
    expect(not bad, "every sample line is NAME{labels} VALUE", str(bad[:3]))


def suite_idle(a):
    c = Client(a.port, a.tls)
    if not expect(c.login(a.name, a.password).status == 200, "login"):
        return
    expect(c.request("GET", "/api/v1/session").status == 200,
           "the session works at once")
    time.sleep(a.idle + 1.5)
    r = c.request("GET", "/api/v1/session")
    expect(r.status == 401, "after %ss idle: 401" % a.idle, repr(r))


def suite_proxy(a):
    """a.proxy: whether the daemon trusts 127.0.0.1 as a reverse proxy."""
    c = Client(a.port, a.tls)
    fwd = {"X-Forwarded-For": "192.0.2.250, 198.51.100.9",
           "X-Forwarded-Proto": "https"}
    r = c.request("POST", "/api/v1/session",
                  {"name": a.name, "password": a.password}, csrf=False,
                  headers=dict(fwd, Origin="https://127.0.0.1:%d" % a.port)
                  if a.proxy else fwd)
    sc = r.header("Set-Cookie") or ""
    if not expect(r.status == 200, "login with X-Forwarded-* headers", repr(r)):
        return
    c.cookie = re.match(r"mw_session=([0-9a-f]+)", sc).group(1)
    c.csrf = r.json()["csrf_token"]
    attrs = [x.strip() for x in sc.split(";")]
    expect(("Secure" in attrs) == a.proxy, "cookie Secure %s (X-Forwarded-"
           "Proto: https from %s)" % ("set" if a.proxy else "not set",
                                      "the trusted proxy" if a.proxy else
                                      "an untrusted peer"), sc)
    r = c.request("POST", "/api/v1/bans", {"address": "198.51.100.200",
                                           "duration": "1m",
                                           "reason": "proxy test"},
                  headers=dict(fwd, Origin="https://127.0.0.1:%d" % a.port)
                  if a.proxy else fwd, origin=not a.proxy)
    expect(r.status == 201, "ban through the proxy", repr(r))
    r = c.request("GET", "/api/v1/audit?limit=5")
    rows = [x for x in (r.json() or {}).get("audit", [])
            if x["action"] == "ban" and x["target"] == "198.51.100.200"]
    origin = rows[0]["origin"] if rows else ""
    if a.proxy:
        expect(origin.startswith("198.51.100.9 via 127.0.0.1:"),
               "audit origin: the last X-Forwarded-For address via the "
               "proxy", origin)
    else:
        expect(origin.startswith("127.0.0.1:") and "198.51.100.9" not in
               origin, "audit origin: the peer (X-Forwarded-For of an "
               "untrusted peer ignored)", origin)
    c.request("DELETE", "/api/v1/bans?address=198.51.100.200",
              headers=dict(fwd, Origin="https://127.0.0.1:%d" % a.port)
              if a.proxy else fwd, origin=not a.proxy)


def suite_throttle(a):
    """Guesses passwords of a.victim (not an admin, so the address is not
    a network a.name logged in from: the login guard trusts those), then
    a.name cannot log in either."""
    c = Client(a.port, a.tls)
    seen = []
    for i in range(a.attempts):
        r = c.login(a.victim, "wrong-%d" % i)
        seen.append(r.status)
        if r.status == 429:
            ra = r.header("Retry-After") or ""
            expect(ra.isdigit() and int(ra) >= 1,
                   "throttled after %d failures: 429 Retry-After %s" %
                   (seen.count(401), ra), repr(r))
            break
    else:
        fail("a 429 within %d wrong passwords" % a.attempts, str(seen))
        return
    # more attempts while throttled count as failures: then a ban
    for i in range(a.attempts):
        r = c.login(a.victim, "wrong-again-%d" % i)
        seen.append(r.status)
        if r.status == 403:
            break
    expect(seen[-1] == 403, "then refused: 403 (banned)", str(seen))
    r = c.login(a.name, a.password)
    expect(r.status == 403 and c.cookie is None,
           "a real admin from the banned address: 403 too", repr(r))


def suite_tls(a):
    suite_auth(a)


def latency(a):
    import statistics
    import threading
    req = (b"request=smtpd_access_policy\nprotocol_state=RCPT\n"
           b"client_address=192.0.2.7\nsender=a@b.example\n"
           b"recipient=c@d.example\n\n")
    res = {}

    def policy():
        s = socket.create_connection(("127.0.0.1", a.policy_port), timeout=10)
        lat = []
        end = time.time() + 8
        while time.time() < end:
            t0 = time.perf_counter()
            s.sendall(req)
            buf = b""
            while not buf.endswith(b"\n\n"):
                buf += s.recv(4096)
            lat.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.01)
        res["lat"] = sorted(lat)

    def login(i):
        Client(a.port, a.tls).login(a.name, "wrong-%d" % i)

    p = threading.Thread(target=policy)
    p.start()
    time.sleep(0.5)
    t0 = time.time()
    ts = [threading.Thread(target=login, args=(i,)) for i in range(a.logins)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    took = time.time() - t0
    p.join()
    lat = res["lat"]
    print("%d logins took %.1f s; policy answers meanwhile: n=%d median "
          "%.2f ms p99 %.2f ms max %.2f ms" % (a.logins, took, len(lat),
          statistics.median(lat), lat[max(0, int(len(lat) * 0.99) - 1)],
          lat[-1]))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("cmd")
    p.add_argument("group", nargs="?")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tls", action="store_true")
    p.add_argument("--name", default="alice")
    p.add_argument("--password", default="correct horse battery")
    p.add_argument("--web-root")
    p.add_argument("--attacker", default="203.0.113.77")
    p.add_argument("--policy-refusals", type=int, default=0)
    p.add_argument("--idle", type=float, default=2)
    p.add_argument("--attempts", type=int, default=30)
    p.add_argument("--victim", default="root")
    p.add_argument("--proxy", action="store_true")
    p.add_argument("--policy-port", type=int)
    p.add_argument("--logins", type=int, default=8)
    a = p.parse_args()
    if a.cmd == "latency":
        return latency(a)
    if a.cmd == "login":
        c = Client(a.port, a.tls)
        r = c.login(a.name, a.password)
        print(r.body.decode())
        return 0 if r.status == 200 else 1
    groups = {"auth": suite_auth, "malformed": suite_malformed,
              "static": suite_static, "data": suite_data, "idle": suite_idle,
              "throttle": suite_throttle, "tls": suite_tls,
              "proxy": suite_proxy}
    if a.cmd != "suite" or a.group not in groups:
        p.error("usage: dashapi.py suite " + "|".join(groups) + " ...")
    try:
        groups[a.group](a)
    except (OSError, http.client.HTTPException) as e:
        fail("%s: no exception talking to the daemon" % a.group, repr(e))
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
