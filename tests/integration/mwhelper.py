#!/usr/bin/env python3
"""mwhelper - small helpers for the integration tests (tests/integration/lib.sh).

  mwhelper.py freeport tcp|udp [N]     print N free loopback ports (default 1)
  mwhelper.py blackhole PORT READYFILE  UDP "DNS server" on 127.0.0.1:PORT that
                                        reads every query and never answers;
                                        touches READYFILE once bound
  mwhelper.py json FILE                 exit 0 when FILE holds one valid JSON value
  mwhelper.py json-has FILE STRING      exit 0 when STRING is a value (or a key)
                                        anywhere in the JSON document in FILE
  mwhelper.py json-get FILE PATH        print the value at PATH (a.b.0.c); exit 1
                                        when absent
  mwhelper.py json-find FILE KEY VALUE [FIELD]
                                        find an object anywhere in the document
                                        with object[KEY] == VALUE; print it (or
                                        its FIELD); exit 1 when there is none
  mwhelper.py same-lines SNIPPET DOC    exit 0 when the non-comment lines of
                                        SNIPPET appear in DOC, consecutively
  mwhelper.py send HOST PORT BYTES_EXPR [WAIT]
                                        send the bytes of the Python expression
                                        BYTES_EXPR (e.g. 'b"x\\n" * 9', written
                                        by the test itself), print what comes
                                        back (until close or WAIT seconds,
                                        default 3) and "closed" when the peer
                                        closed
  mwhelper.py imap-login SRC PORT USER PASSWORD [COUNT]
  mwhelper.py pop3-login SRC PORT USER PASSWORD [COUNT]
                                        COUNT (default 1) IMAP LOGIN / POP3
                                        USER+PASS attempts, each on a new
                                        connection from source address SRC
                                        (127.x.y.z, so the server sees that
                                        client address; or ::1) to
                                        127.0.0.1:PORT (::1 for ::1);
                                        one line each: "<ms> OK", "<ms> NO
                                        <server text>" or "<ms> ERR <error>"
                                        (ms = connect to answer)
Only loopback addresses are ever used.
"""
import imaplib
import json
import os
import poplib
import socket
import sys
import time


def ephemeral_range():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            lo, hi = (int(x) for x in f.read().split())
            return lo, hi
    except (OSError, ValueError):
        return 32768, 60999


def freeport(kind, n):
    """Print n loopback ports that are free now.

    Ports come at random from below the kernel's ephemeral range, so an
    outgoing connection of another test cannot take one between this call
    and the bind of whoever asked. Ports already handed out in this test
    (listed in $MW_PORTS_FILE) are never handed out again: two services of
    one test once got the same port because each was free when asked."""
    import random
    typ = socket.SOCK_STREAM if kind == "tcp" else socket.SOCK_DGRAM
    lo, _ = ephemeral_range()
    first, last = (10100, lo - 1) if lo > 12000 else (1025, 65535)
    taken_file = os.environ.get("MW_PORTS_FILE")
    taken = set()
    if taken_file and os.path.exists(taken_file):
        with open(taken_file) as f:
            taken = {int(x) for x in f.read().split()}
    ports = []
    for _ in range(10000):
        if len(ports) == n:
            break
        port = random.randint(first, last)
        if port in taken or port in ports:
            continue
        s = socket.socket(socket.AF_INET, typ)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        finally:
            s.close()
        ports.append(port)
    if len(ports) < n:
        sys.exit("freeport: no free port found")
    if taken_file:
        with open(taken_file, "a") as f:
            f.write("".join("%d\n" % p for p in ports))
    print(" ".join(str(p) for p in ports))


def blackhole(port, ready):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", port))
    open(ready, "w").close()
    while True:
        s.recvfrom(65535)


def load(path):
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"))


def has(doc, needle):
    if isinstance(doc, dict):
        return any(k == needle or has(v, needle) for k, v in doc.items())
    if isinstance(doc, list):
        return any(has(v, needle) for v in doc)
    return str(doc) == needle if not isinstance(doc, bool) else False


def find(doc, key, value):
    if isinstance(doc, dict):
        if key in doc and str(doc[key]) == value:
            return doc
        children = doc.values()
    elif isinstance(doc, list):
        children = doc
    else:
        return None
    for c in children:
        r = find(c, key, value)
        if r is not None:
            return r
    return None


def get(doc, path):
    for part in path.split("."):
        if isinstance(doc, list):
            doc = doc[int(part)]
        else:
            doc = doc[part]
    return doc


def send(host, port, data, wait):
    if not host.startswith("127.") and host != "::1":
        sys.exit("mwhelper: refusing non-loopback address %s" % host)
    s = socket.create_connection((host, port), timeout=5)
    try:
        s.sendall(data)
    except OSError as e:
        print("send error: %s" % e)
    s.settimeout(0.2)
    got = b""
    deadline = time.monotonic() + wait
    closed = False
    while time.monotonic() < deadline:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            closed = True
            break
        if not chunk:
            closed = True
            break
        got += chunk
    sys.stdout.write(got.decode("utf-8", "replace"))
    if closed:
        print("closed")


def loopback(addr):
    if not addr.startswith("127.") and addr != "::1":
        sys.exit("mwhelper: refusing non-loopback address %s" % addr)
    return addr


class SourceIMAP(imaplib.IMAP4):
    """imaplib.IMAP4 whose socket is bound to a source address."""

    def __init__(self, src, host, port, timeout):
        self.mw_src = src
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.mw_src, 0))


class SourcePOP3(poplib.POP3):
    """poplib.POP3 whose socket is bound to a source address."""

    def __init__(self, src, host, port, timeout):
        self.mw_src = src
        super().__init__(host, port, timeout=timeout)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.mw_src, 0))


def text_of(e):
    t = e.args[0] if e.args else str(e)
    if isinstance(t, bytes):
        t = t.decode("utf-8", "replace")
    return " ".join(str(t).split())


def login(kind, src, port, user, password):
    start = time.monotonic()
    host = "::1" if ":" in src else "127.0.0.1"
    try:
        if kind == "imap":
            c = SourceIMAP(loopback(src), host, port, 60)
            try:
                c.login(user, password)
                result = "OK"
            except imaplib.IMAP4.error as e:
                result = "NO " + text_of(e)
            try:
                c.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
        else:
            c = SourcePOP3(loopback(src), host, port, 60)
            try:
                c.user(user)
                c.pass_(password)
                result = "OK"
            except poplib.error_proto as e:
                result = "NO " + text_of(e)
            try:
                c.quit()
            except (OSError, poplib.error_proto):
                pass
    except (OSError, EOFError, imaplib.IMAP4.abort) as e:
        result = "ERR " + text_of(e)
    return "%d %s" % ((time.monotonic() - start) * 1000, result)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    if cmd == "freeport":
        freeport(argv[2], int(argv[3]) if len(argv) > 3 else 1)
    elif cmd == "blackhole":
        blackhole(int(argv[2]), argv[3])
    elif cmd == "json":
        try:
            load(argv[2])
        except (ValueError, OSError) as e:
            sys.exit("invalid JSON: %s" % e)
    elif cmd == "json-has":
        try:
            sys.exit(0 if has(load(argv[2]), argv[3]) else 1)
        except (ValueError, OSError):
            sys.exit(2)
    elif cmd == "json-get":
        try:
            v = get(load(argv[2]), argv[3])
        except (ValueError, OSError, KeyError, IndexError, TypeError):
            sys.exit(1)
        print(json.dumps(v) if isinstance(v, (dict, list, bool)) or v is None
              else v)
    elif cmd == "json-find":
        try:
            obj = find(load(argv[2]), argv[3], argv[4])
        except (ValueError, OSError):
            sys.exit(2)
        if obj is None:
            sys.exit(1)
        if len(argv) > 5:
            v = obj.get(argv[5])
            print(json.dumps(v) if not isinstance(v, str) else v)
        else:
            print(json.dumps(obj))
    elif cmd == "same-lines":
        want = [l.rstrip() for l in open(argv[2]) if l.strip()
                and not l.lstrip().startswith("#")]
        doc = [l.rstrip() for l in open(argv[3])]
        for i in range(len(doc) - len(want) + 1):
            if doc[i:i + len(want)] == want:
                sys.exit(0)
        sys.exit("%s: the lines of %s are not there (first: %r)"
                 % (argv[3], argv[2], want[0] if want else ""))
    elif cmd in ("imap-login", "pop3-login"):
        for _ in range(int(argv[6]) if len(argv) > 6 else 1):
            print(login(cmd[:4], argv[2], int(argv[3]), argv[4], argv[5]),
                  flush=True)
    elif cmd == "send":
        data = eval(argv[4], {"__builtins__": {"bytes": bytes, "range": range}})
        send(argv[2], int(argv[3]), data,
             float(argv[5]) if len(argv) > 5 else 3.0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
