#!/usr/bin/env python3
"""gen-maillog.py: a deterministic, realistic Postfix + Dovecot syslog with
known attackers, and the ground truth of which addresses a login guard must ban.

    bench/gen-maillog.py -n 1000000 -o maillog.log --truth maillog.truth

Traffic (syslog "Mon dd hh:mm:ss host prog[pid]: ...", one day from --start):
  - inbound mail: postfix/smtpd connect, client=, cleanup, qmgr, lmtp delivery,
    removed, disconnect; NOQUEUE rejects (relay denied, unknown user)
  - submission: successful SASL logins (postfix/submission/smtpd ... sasl_username=)
  - dovecot: successful imap/pop3 logins and logouts
  - failures, each one attempt: Postfix "SASL LOGIN|PLAIN authentication failed",
    Dovecot auth "passwd-file(user,ip,<session>): unknown user | Password mismatch",
    followed by the login process summary "Disconnected (auth failed, N attempts
    ...)" with the same session id (it repeats the attempts, it adds none)
  - decoys that are no attempts: "SASL ... authentication failed: Connection lost
    to authentication server" bursts, "Disconnected (no auth attempts ...)"

Failures come from attackers (--attackers addresses, IPv4 and IPv6 from documentation
ranges: fast brute force, slow just inside the window, a burst spanning exactly the
window, cross-service Postfix + Dovecot) and from legitimate users mistyping (fewer
than --ban-after attempts in any window, or spread wider than the window).

Truth (--truth, TSV): an address is banned at its first attempt that makes
>= --ban-after attempts within --window seconds (inclusive: newest - oldest <= window).
Columns: address, ban time (log's local time, no year), attempts in all.
The same arguments give a byte-identical log and truth.
"""

import argparse
import datetime as dt
import heapq
import random
import sys

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
USERS = ["akiko", "hiroshi", "yuki", "kenji", "emi", "taro", "hanako", "sato",
         "mori", "ono", "alice", "bob", "carol", "dave", "erin", "frank"]
DOMAINS = ["example.jp", "example.co.jp", "example.org"]
GUESSES = ["admin", "info", "test", "sales", "office", "webmaster", "root", "user",
           "support", "contact", "postmaster", "guest"]
MX = ["mx1.example.net", "mail.example.com", "smtp.example.org", "out.example.ne.jp"]
SERVER = "203.0.113.25"


def stamp(t, cache={}):
    s = t // 1
    v = cache.get(s)
    if v is None:
        d = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=s)
        v = "%s %2d %02d:%02d:%02d" % (MONTHS[d.month - 1], d.day, d.hour, d.minute, d.second)
        if len(cache) > 4096:
            cache.clear()
        cache[s] = v
    return v


class Gen:
    def __init__(self, args):
        self.r = random.Random(args.seed)
        self.args = args
        self.qid_n = 0
        self.sess_n = 0
        self.pid = 1000

    def qid(self):
        self.qid_n += 1
        return "%X" % (0x4A0000000 + self.qid_n * 7919)

    def session(self):
        self.sess_n += 1
        x = (self.sess_n * 2654435761) & 0xFFFFFFFFFFFF
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
        return "".join(alphabet[(x >> (6 * i)) & 63] for i in range(8))

    def npid(self):
        self.pid = 1000 + (self.pid * 48271) % 30000
        return self.pid

    def user(self):
        r = self.r
        return "%s%d@%s" % (r.choice(USERS), r.randrange(1, 60), r.choice(DOMAINS))

    def good_ip(self):
        r = self.r
        return "%d.%d.%d.%d" % (r.choice([10, 172, 100]), r.randrange(256), r.randrange(256),
                                r.randrange(1, 255))


def ipv4_attacker(r, used):
    while True:
        a = "198.%d.%d.%d" % (r.choice([18, 19]), r.randrange(256), r.randrange(1, 255))
        if a not in used:
            used.add(a)
            return a


def ipv6_attacker(r, used):
    while True:
        a = "2001:db8:%x:%x::%x" % (r.randrange(1, 0xffff), r.randrange(0xffff), r.randrange(1, 0xffff))
        if a not in used:
            used.add(a)
            return a


def noise_ip(r, used):
    while True:
        a = "192.0.2.%d" % r.randrange(1, 255) if r.random() < 0.2 else \
            "203.0.113.%d" % r.randrange(1, 255) if r.random() < 0.3 else \
            "198.51.100.%d" % r.randrange(1, 255)
        if r.random() < 0.5:
            a = "%d.%d.%d.%d" % (r.choice([100, 172]), r.randrange(256), r.randrange(256), r.randrange(1, 255))
        if a not in used:
            used.add(a)
            return a


def failure_lines(g, t, ip, kind, host):
    """One failed attempt at t: a list of (t, line). kind: 'smtp' or 'imap'/'pop3'."""
    r = g.r
    if kind == "smtp":
        svc = "postfix/submission/smtpd" if r.random() < 0.5 else "postfix/smtpd"
        name = "unknown" if r.random() < 0.7 else "host-%s.example.net" % ip.replace(".", "-").replace(":", "-")
        mech, text = r.choice([("LOGIN", "UGFzc3dvcmQ6"), ("PLAIN", "authentication failure"),
                               ("LOGIN", "authentication failure")])
        return [(t, "%s %s %s[%d]: warning: %s[%s]: SASL %s authentication failed: %s" %
                 (stamp(t), host, svc, g.npid(), name, ip, mech, text))]
    sess = g.session()
    user = r.choice(GUESSES) + "@" + r.choice(DOMAINS) if r.random() < 0.6 else g.user()
    why = "unknown user" if r.random() < 0.5 else "Password mismatch"
    out = [(t, "%s %s dovecot: auth: passwd-file(%s,%s,<%s>): %s" % (stamp(t), host, user, ip, sess, why))]
    return out, sess, user


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=1000000, help="lines (about)")
    ap.add_argument("-o", required=True, help="log file")
    ap.add_argument("--truth", required=True, help="ground truth file")
    ap.add_argument("--seed", type=int, default=20261123)
    ap.add_argument("--attackers", type=int, default=0, help="default: one per 500 lines")
    ap.add_argument("--ban-after", type=int, default=5)
    ap.add_argument("--window", type=int, default=600)
    ap.add_argument("--start", default="2026-03-10T00:00:00")
    args = ap.parse_args()
    g = Gen(args)
    r = g.r
    host = "mail"
    start = int((dt.datetime.fromisoformat(args.start) - dt.datetime(1970, 1, 1)).total_seconds())
    span = 86400
    n_att = args.attackers or max(1, args.n // 500)
    W, K = args.window, args.ban_after

    events = []         # (t, seq, line) for failures and their companions
    attempts = {}       # ip -> [t, ...] (attempts only)
    seq = [0]

    def emit(t, line):
        seq[0] += 1
        events.append((t, seq[0], line))

    def attempt(t, ip, kind):
        attempts.setdefault(ip, []).append(t)
        if kind == "smtp":
            for tt, line in failure_lines(g, t, ip, "smtp", host):
                emit(tt, line)
            return None
        lines, sess, user = failure_lines(g, t, ip, kind, host)
        for tt, line in lines:
            emit(tt, line)
        return sess, user

    def dovecot_session(ts, ip, kind):
        """attempts at times ts in one IMAP/POP3 connection, then the summary"""
        sess = user = None
        for t in ts:
            sess, user = attempt(t, ip, kind)
        end = ts[-1] + r.randrange(1, 5)
        verb = r.choice(["Disconnected", "Aborted login", "Disconnected: Inactivity"])
        emit(end, "%s %s dovecot: %s-login: %s (auth failed, %d attempts in %d secs): user=<%s>, "
             "method=PLAIN, rip=%s, lip=%s, TLS, session=<%s>" %
             (stamp(end), host, kind, verb, len(ts), end - ts[0] + 1, user, ip, SERVER, sess))

    used = set()
    # --- attackers ---
    for i in range(n_att):
        ip = ipv6_attacker(r, used) if r.random() < 0.3 else ipv4_attacker(r, used)
        t0 = start + r.randrange(0, span - 4 * 3600)
        style = r.random()
        if style < 0.45:        # fast brute force, one service
            n = r.randrange(K, 12 * K)
            ts = sorted(t0 + r.randrange(0, max(n * 8, 1)) for _ in range(n))
        elif style < 0.65:      # slow: K attempts just inside the window, then more
            step = (W - 1) // (K - 1) if K > 1 else 1
            n = r.randrange(K, 3 * K)
            ts = [t0 + j * step for j in range(n)]
        elif style < 0.75:      # exactly the window: K attempts, newest - oldest == W
            ts = [t0 + (W * j) // (K - 1) for j in range(K)] if K > 1 else [t0]
        else:                   # cross-service, bursty
            n = r.randrange(K, 6 * K)
            ts = sorted(t0 + r.randrange(0, W // 2) for _ in range(n))
        kind = r.choice(["smtp", "imap", "pop3"]) if style < 0.75 else None
        j = 0
        while j < len(ts):
            k = kind or r.choice(["smtp", "imap", "pop3"])
            if k == "smtp":
                attempt(ts[j], ip, "smtp")
                j += 1
            else:
                m = min(len(ts) - j, r.randrange(1, 4))
                dovecot_session(ts[j:j + m], ip, k)
                j += m
    # --- users mistyping: below the threshold, or spread wider than the window ---
    n_noise = max(1, args.n // 400)
    for i in range(n_noise):
        ip = noise_ip(r, used)
        t0 = start + r.randrange(0, span - 7200)
        if r.random() < 0.8:
            ts = sorted(t0 + r.randrange(0, W) for _ in range(r.randrange(1, K)))
        else:                   # K attempts, each pair of K-1 neighbours wider than W
            gap = W // (K - 2) + 2 if K > 2 else W + 1
            ts = [t0 + j * gap for j in range(K + r.randrange(0, 3))]
        for t in ts:
            k = r.choice(["smtp", "imap", "pop3"])
            if k == "smtp":
                attempt(t, ip, "smtp")
            else:
                dovecot_session([t], ip, k)
    # --- decoys that are no attempts (never banned) ---
    for i in range(max(1, args.n // 20000)):
        ip = noise_ip(r, used)
        t0 = start + r.randrange(0, span - 600)
        for j in range(2 * K):
            t = t0 + j * 3
            emit(t, "%s %s postfix/submission/smtpd[%d]: warning: unknown[%s]: SASL LOGIN authentication "
                 "failed: Connection lost to authentication server" % (stamp(t), host, g.npid(), ip))
            emit(t + 1, "%s %s dovecot: imap-login: Disconnected (no auth attempts in 0 secs): user=<>, "
                 "rip=%s, lip=%s, TLS handshaking: Connection reset by peer, session=<%s>" %
                 (stamp(t + 1), host, ip, SERVER, g.session()))
    events.sort()

    # --- background traffic, in time order, merged with the failures ---
    n_bg = max(0, args.n - len(events))

    def background():
        t = float(start)
        step = span / max(n_bg, 1)
        made = 0
        while made < n_bg:
            kind = r.random()
            ti = int(t)
            st = stamp(ti)
            if kind < 0.55:     # inbound delivery: 8 lines
                ip = "%d.%d.%d.%d" % (r.randrange(11, 220), r.randrange(256), r.randrange(256), r.randrange(1, 255))
                mx = r.choice(MX)
                pid = g.npid()
                q = g.qid()
                rcpt = g.user()
                lines = [
                    "%s %s postfix/smtpd[%d]: connect from %s[%s]" % (st, host, pid, mx, ip),
                    "%s %s postfix/smtpd[%d]: %s: client=%s[%s]" % (st, host, pid, q, mx, ip),
                    "%s %s postfix/cleanup[%d]: %s: message-id=<%x.%d@%s>" % (st, host, g.npid(), q, r.getrandbits(40), pid, mx),
                    "%s %s postfix/qmgr[812]: %s: from=<news@%s>, size=%d, nrcpt=1 (queue active)" % (st, host, q, mx, r.randrange(900, 90000)),
                    "%s %s postfix/smtpd[%d]: disconnect from %s[%s] ehlo=2 starttls=1 mail=1 rcpt=1 data=1 quit=1 commands=7" % (st, host, pid, mx, ip),
                    "%s %s postfix/lmtp[%d]: %s: to=<%s>, relay=%s[private/dovecot-lmtp], delay=0.%d, delays=0.1/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 <%s> Saved)" % (st, host, g.npid(), q, rcpt, host, r.randrange(10, 99), rcpt),
                    "%s %s postfix/qmgr[812]: %s: removed" % (st, host, q),
                ]
            elif kind < 0.62:   # reject
                ip = "%d.%d.%d.%d" % (r.randrange(11, 220), r.randrange(256), r.randrange(256), r.randrange(1, 255))
                pid = g.npid()
                lines = [
                    "%s %s postfix/smtpd[%d]: connect from unknown[%s]" % (st, host, pid, ip),
                    "%s %s postfix/smtpd[%d]: NOQUEUE: reject: RCPT from unknown[%s]: 554 5.7.1 <%s>: Relay access denied; from=<x@example.net> to=<%s> proto=ESMTP helo=<%s>" % (st, host, pid, ip, "v@example.net", "v@example.net", r.choice(["User", "localhost", "ylmf-pc"])),
                    "%s %s postfix/smtpd[%d]: disconnect from unknown[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" % (st, host, pid, ip),
                ]
            elif kind < 0.77:   # submission with a good login
                ip = g.good_ip()
                pid = g.npid()
                q = g.qid()
                u = g.user()
                lines = [
                    "%s %s postfix/submission/smtpd[%d]: connect from unknown[%s]" % (st, host, pid, ip),
                    "%s %s postfix/submission/smtpd[%d]: %s: client=unknown[%s], sasl_method=PLAIN, sasl_username=%s" % (st, host, pid, q, ip, u),
                    "%s %s postfix/qmgr[812]: %s: from=<%s>, size=%d, nrcpt=1 (queue active)" % (st, host, q, u, r.randrange(900, 90000)),
                    "%s %s postfix/smtp[%d]: %s: to=<%s>, relay=%s[192.0.2.200]:25, delay=0.6, delays=0.1/0/0.2/0.3, dsn=2.0.0, status=sent (250 2.0.0 OK)" % (st, host, g.npid(), q, g.user(), r.choice(MX)),
                    "%s %s postfix/submission/smtpd[%d]: disconnect from unknown[%s] ehlo=2 starttls=1 auth=1 mail=1 rcpt=1 data=1 quit=1 commands=8" % (st, host, pid, ip),
                ]
            else:               # dovecot login + logout
                ip = g.good_ip()
                u = g.user()
                svc = r.choice(["imap", "imap", "pop3"])
                s = g.session()
                lines = [
                    "%s %s dovecot: %s-login: Login: user=<%s>, method=PLAIN, rip=%s, lip=%s, mpid=%d, TLS, session=<%s>" % (st, host, svc, u, ip, SERVER, g.npid(), s),
                    "%s %s dovecot: %s(%s)<%d><%s>: Disconnected: Logged out in=%d out=%d" % (st, host, svc, u, g.npid(), s, r.randrange(50, 900), r.randrange(500, 90000)),
                ]
            for line in lines:
                yield (ti, 0, line)
                made += 1
            t += step * len(lines)

    with open(args.o, "w") as f:
        f.writelines(line + "\n" for (_, _, line) in heapq.merge(background(), events))

    # --- truth ---
    bans = []
    for ip, ts in attempts.items():
        ts.sort()
        for j in range(K - 1, len(ts)):
            if ts[j] - ts[j - K + 1] <= W:
                bans.append((ts[j], ip, len(ts)))
                break
    bans.sort()
    with open(args.truth, "w") as f:
        f.write("# gen-maillog.py truth: ban at the first attempt making >= %d attempts within %d s\n" % (K, W))
        f.write("# lines=%d seed=%d attackers=%d addresses_failing=%d\n" % (args.n, args.seed, n_att, len(attempts)))
        f.write("# address\tban time\tattempts\n")
        for t, ip, n in bans:
            f.write("%s\t%s\t%d\n" % (ip, stamp(t), n))


if __name__ == "__main__":
    main()
