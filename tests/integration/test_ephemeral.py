# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Ephemeral-port exhaustion (DESIGN.md §4): the connect, bind and UDP pools
drained for real by portload in namespaces with a 200-port range, against
portwatch watch's alerts and pool records and portwatch pools' snapshot.

Goals (issue 5): TIME_WAIT churn at 10 connections/s, which fails at ~20 s,
is warned about >= 15 s ahead and critically >= 3 s ahead, its eta_seconds
at 5-6.5 s predicts the failure within 2 s, and the failure itself is an
alert within 1 s; a 2/s control never warns; held connections, bind(0) and
UDP autobind at 20/s each warn >= 1 s before their failure (70 % of the pool
is reached 3 s before it) and each failure is an alert within 1 s; pools'
occupancy equals what ss and /proc/net/sockstat say. Independent scenarios share one tracer, each in a
namespace of its own (TIME_WAIT and bound ports of one pool block another's).
A 75 s steady-state churn and an IPv6 churn over a veth: make test-slow."""
import json
import subprocess
import time

import re
import statistics

from pwtest import (EMULATED, PORTWATCH, SOCKFARM, Netns, Portload, StampedTracer, TestFailure, alerts, check,
                    epoch, eq, link, slow, test)

LO = "127.0.0.1"
PORT = 8080  # the servers' port, outside the ephemeral range
UDP_SINK = 9999  # nothing listens there: UDP only needs a destination
RANGE = (40000, 40199)
CAPACITY = RANGE[1] - RANGE[0] + 1
HOT_SEVERITIES = ("warning", "critical")
ANY = object()  # a field whose value the contract leaves open


def pool_sysctls(ns, reserved=None):
    """A 200-port range, no TIME_WAIT reuse (DESIGN §5), optional reserved ports."""
    ns.sysctl("net.ipv4.ip_local_port_range", "%d %d" % RANGE)
    ns.sysctl("net.ipv4.tcp_tw_reuse", "0")
    if reserved:
        ns.sysctl("net.ipv4.ip_local_reserved_ports", reserved)
    return ns


def pool_ns(tag, reserved=None):
    return pool_sysctls(Netns(tag), reserved)


def serve(ns, addr=LO, port=PORT):
    """A portload server that closes after its clients (they keep TIME_WAIT)."""
    s = Portload(ns, "serve", addr, port, 300)
    ev = s.until("listening", "fail", timeout=10)
    eq(ev["event"], "listening", "portload serve %s:%d in %s" % (addr, port, ns.name))
    return s


def dest_str(addr, port):
    return ("[%s]:%d" if ":" in addr else "%s:%d") % (addr, port)


def ts_of(r):
    """The record's own timestamp: when portwatch made the estimate."""
    return epoch(r["ts"])


def seen_at(r):
    """When a reader of portwatch's output had the record in hand."""
    return r["_arrived"]


def pool_match(r, ns, pool, destination):
    return (r.get("netns") == ns.inode and r.get("pool") == pool
            and (destination is None or r.get("destination") == destination))


def exhaustion_alerts(recs, ns, pool, destination=None):
    return sorted((a for a in alerts(recs, "ephemeral_exhaustion") if pool_match(a, ns, pool, destination)),
                  key=ts_of)


def pool_records(recs, ns, pool, destination=None):
    return sorted((r for r in recs if r.get("type") == "pool" and pool_match(r, ns, pool, destination)),
                  key=ts_of)


def brief(r):
    """The fields of an alert or pool record worth showing in a failure."""
    keys = ("ts", "alert", "type", "severity", "pool", "source", "destination", "in_use", "capacity",
            "time_wait", "eta_seconds", "error", "pid")
    return json.dumps({k: r[k] for k in keys if k in r})


def briefs(rs, n=8):
    return "[" + ", ".join(brief(r) for r in rs[:n]) + (", ...%d more" % (len(rs) - n) if len(rs) > n else "") + "]"


class Checks:
    """Collects failures so that one scenario's failure does not hide the
    others' results; done() raises them all at once."""

    def __init__(self):
        self.failures = []

    def run(self, label, fn, *args):
        """fn(*args); a failure is kept, prefixed with label unless None."""
        try:
            fn(*args)
        except TestFailure as e:
            self.failures.append(str(e) if label is None else "%s: %s" % (label, e))

    def done(self):
        if self.failures:
            raise TestFailure("\n".join(self.failures))


def failure_event(load, errno_name, what):
    """portload's own fail event: the ground truth for when the pool ran dry."""
    fails = [e for e in load.events if e["event"] == "fail"]
    check(fails, "%s: portload never failed (expected %s): %s" % (what, errno_name, json.dumps(load.events)))
    f = fails[0]
    eq(f["errno"], errno_name, "%s: portload's failure" % what)
    return f


def check_failure_alert(recs, ns, load_fail, pool, proto, error, result, destination, what):
    """The ephemeral_failure alert for portload's failure: right pid, netns,
    pool and error, in a reader's hands within 1 s of the failing call."""
    pid = load_fail["pid"]
    got = [a for a in alerts(recs, "ephemeral_failure") if a.get("pid") == pid]
    same_ns = [a for a in alerts(recs, "ephemeral_failure") if a.get("netns") == ns.inode]
    check(len(got) == 1, "%s: expected 1 ephemeral_failure alert for pid %d, got %d; failure alerts in netns %d: %s"
          % (what, pid, len(got), ns.inode, briefs(same_ns)))
    a = got[0]
    want = dict(severity="critical", netns=ns.inode, pool=pool, proto=proto, comm="portload", error=error,
                result=result)
    if destination is not ANY:
        want["destination"] = destination
    eq({k: a.get(k) for k in want}, want, "%s: ephemeral_failure fields" % what)
    delay = seen_at(a) - load_fail["ts"]
    check(delay <= 1.0, "%s: ephemeral_failure reached portwatch's reader %.3f s after the failing call "
          "(expected within 1 s; the alert says ts %s)" % (what, delay, a["ts"]))
    print("# measured %s: ephemeral_failure read %.0f ms after the failing call" % (what, delay * 1000), flush=True)


def check_warned_before(recs, ns, pool, destination, load_fail, min_lead, what):
    """The first warning-or-critical ephemeral_exhaustion alert for the pool
    comes at least min_lead seconds before the failure."""
    hot = [a for a in exhaustion_alerts(recs, ns, pool, destination) if a["severity"] in HOT_SEVERITIES]
    check(hot, "%s: no warning/critical ephemeral_exhaustion alert for netns %d pool %s%s before the failure "
          "at %.3f; its alerts: %s; its pool records: %s"
          % (what, ns.inode, pool, " " + destination if destination else "", load_fail["ts"],
             briefs(exhaustion_alerts(recs, ns, pool, destination)),
             briefs(pool_records(recs, ns, pool, destination)[-8:])))
    lead = load_fail["ts"] - seen_at(hot[0])
    check(lead >= min_lead, "%s: first warning read %.2f s before the failure (expected >= %s s): %s"
          % (what, lead, min_lead, brief(hot[0])))
    return hot, lead


def check_consumer(a, pid, what):
    tops = a.get("top_consumers") or []
    check(tops and tops[0].get("pid") == pid and tops[0].get("comm") == "portload",
          "%s: top_consumers should start with portload pid %d, got %r" % (what, pid, tops))


def check_pool_shape(recs, ns, pool, destination, source, proto, what, capacity=CAPACITY, reserved=0):
    """Every record of the pool states the namespace's configuration."""
    for r in exhaustion_alerts(recs, ns, pool, destination) + pool_records(recs, ns, pool, destination):
        eq((r.get("capacity"), r.get("source"), r.get("proto")), (capacity, source, proto),
           "%s: (capacity, source, proto) of %s" % (what, brief(r)))
    for r in pool_records(recs, ns, pool, destination):
        eq((r.get("range"), r.get("reserved"), r.get("tw_reuse")), (list(RANGE), reserved, 0),
           "%s: (range, reserved, tw_reuse) of pool record at %s" % (what, r["ts"]))


def check_churn(recs, ns, load, source, destination, what):
    """TIME_WAIT churn at 10/s that ran the connect pool dry (issue 5 goals)."""
    start = [e for e in load.events if e["event"] == "start"][0]["ts"]
    f = failure_event(load, "EADDRNOTAVAIL", what)
    ran = f["ts"] - start
    # The setup itself: 200 ports / 10 per s, each kept 60 s by TIME_WAIT.
    check(f["n"] == CAPACITY and 19 <= ran <= 21.5,
          "%s: setup: expected EADDRNOTAVAIL after %d connections at ~20 s, got it after %d at %.1f s"
          % (what, CAPACITY, f["n"], ran))
    c = Checks()
    c.run(None, check_failure_alert, recs, ns, f, "connect", "tcp", "EADDRNOTAVAIL", -99,
          destination, what)
    lead = [None]

    def warned():
        hot, lead[0] = check_warned_before(recs, ns, "connect", destination, f, 15, what)
        check_consumer(hot[0], f["pid"], what + " first warning")

    def critical():
        crit = [a for a in exhaustion_alerts(recs, ns, "connect", destination) if a["severity"] == "critical"]
        check(crit, "%s: no critical alert before the failure; alerts: %s"
              % (what, briefs(exhaustion_alerts(recs, ns, "connect", destination))))
        clead = f["ts"] - seen_at(crit[0])
        lead.append(clead)
        check(clead >= 3, "%s: first critical read %.2f s before the failure (expected >= 3 s): %s"
              % (what, clead, brief(crit[0])))

    offsets = []

    def eta():
        window = [r for r in exhaustion_alerts(recs, ns, "connect", destination)
                  + pool_records(recs, ns, "connect", destination)
                  if start + 5 <= ts_of(r) <= start + 6.5]
        check(window, "%s: no pool record or alert between start+5 s and start+6.5 s; pool records: %s"
              % (what, briefs(pool_records(recs, ns, "connect", destination))))
        for r in window:
            e = r.get("eta_seconds")
            check(isinstance(e, (int, float)),
                  "%s: eta_seconds at start+%.1f s should be a number, got %r: %s"
                  % (what, ts_of(r) - start, e, brief(r)))
            off = ts_of(r) + e - f["ts"]
            offsets.append(off)
            check(abs(off) <= 2, "%s: eta_seconds %s at start+%.1f s predicts the failure at start+%.1f s; "
                  "it came at start+%.1f s (off by %+.1f s, expected within 2 s)"
                  % (what, e, ts_of(r) - start, ts_of(r) + e - start, ran, off))

    def hints():
        hot = [a for a in exhaustion_alerts(recs, ns, "connect", destination) if a["severity"] in HOT_SEVERITIES]
        for a in hot:
            h = a.get("hint") or ""
            check("tw_reuse" in h, "%s: hint should mention tw_reuse/connection reuse: %r" % (what, h))
            for bad in ("tcp_tw_recycle", "fin_timeout"):
                check(bad not in h.lower(), "%s: hint must not suggest %s: %r" % (what, bad, h))

    c.run(None, warned)
    c.run(None, critical)
    c.run(None, eta)
    c.run(None, hints)
    c.run(None, check_pool_shape, recs, ns, "connect", destination, source, "tcp", what)
    if lead[0] is not None:
        print("# measured %s: failure at %.1f s, first warning %.1f s before it%s; eta at 5-6.5 s off by %s s"
              % (what, ran, lead[0], ", first critical %.1f s before" % lead[1] if len(lead) > 1 else "",
                 ", ".join("%+.1f" % o for o in offsets)), flush=True)
    return c


@test
def ephemeral_time_wait_churn_warns_15s_ahead_and_control_stays_quiet():
    churn_ns, ctl_ns = pool_ns("churn"), pool_ns("ctl")
    loads = [serve(churn_ns), serve(ctl_ns)]
    tr = StampedTracer("--interval", "1", command="watch")
    try:
        churn = Portload(churn_ns, "churn", LO, PORT, 10, 25)
        ctl = Portload(ctl_ns, "churn", LO, PORT, 2, 20)  # as long as the churn runs, 5x slower
        loads += [churn, ctl]
        churn.until("fail", "done", timeout=35)
        ctl.until("fail", "done", timeout=35)
        time.sleep(1.5)  # the failure alert and one more interval
    finally:
        recs = tr.stop()
        for p in loads:
            p.close()
    dest = dest_str(LO, PORT)
    c = check_churn(recs, churn_ns, churn, LO, dest, "churn 10/s")

    def control():
        done = [e for e in ctl.events if e["event"] in ("done", "fail")][-1]
        eq((done["event"], done["n"]), ("done", 40), "control: setup: portload churn 2/s for 20 s")
        hot = [a for a in alerts(recs, "ephemeral_exhaustion")
               if a.get("netns") == ctl_ns.inode and a["severity"] in HOT_SEVERITIES]
        check(not hot, "control (2/s, 20%% of the pool at the end): expected no warning/critical alert, got %s"
              % briefs(hot))
        # The pool was tracked all along: silence is not blindness.
        recs_ctl = pool_records(recs, ctl_ns, "connect", dest)
        peak = max([r["in_use"] for r in recs_ctl] or [0])
        check(peak >= 36, "control: pool records should show ~40 in use by the end, peak %d: %s"
              % (peak, briefs(recs_ctl[-4:])))
        fails = [a for a in alerts(recs, "ephemeral_failure") if a.get("netns") == ctl_ns.inode]
        check(not fails, "control: no ephemeral_failure expected, got %s" % briefs(fails))

    c.run(None, control)
    c.done()


@test
def ephemeral_held_bind0_and_udp_pools_warn_before_failing():
    hold_ns, bind_ns, udp_ns = pool_ns("hold"), pool_ns("bind0"), pool_ns("udp")
    loads = [serve(hold_ns)]
    tr = StampedTracer("--interval", "1", command="watch")
    try:
        # 20 per second: 200 ports last 10 s, time enough to warn.
        held = Portload(hold_ns, "hold", LO, PORT, 20, CAPACITY)
        bound = Portload(bind_ns, "bind0", LO, 20, CAPACITY)
        udp = Portload(udp_ns, "udp", LO, UDP_SINK, 20, CAPACITY)
        loads += [held, bound, udp]
        for p in (held, bound, udp):
            p.until("holding", timeout=20)
        time.sleep(1.5)
    finally:
        recs = tr.stop()
        for p in loads:
            p.close()
    c = Checks()
    dest = dest_str(LO, PORT)
    # destination: the pool's (null but for connect pools); fail_dest: the
    # failure alert's (a UDP sendto has one, the contract leaves it open).
    for what, ns, load, pool, proto, error, result, destination, fail_dest, source in (
            ("held connections", hold_ns, held, "connect", "tcp", "EADDRNOTAVAIL", -99, dest, dest, LO),
            ("bind(0)", bind_ns, bound, "bind", "tcp", "EADDRINUSE", -98, None, None, None),
            ("udp sendto", udp_ns, udp, "udp", "udp", "EAGAIN", -11, None, ANY, None)):
        def one_pool(what=what, ns=ns, load=load, pool=pool, proto=proto, error=error, result=result,
                     destination=destination, fail_dest=fail_dest, source=source):
            f = failure_event(load, error, what)
            eq(f["n"], CAPACITY, "%s: setup: sockets before %s" % (what, error))
            sub = Checks()

            def warned():
                hot, lead = check_warned_before(recs, ns, pool, destination, f, 1, what)
                check_consumer(hot[0], f["pid"], what + " first warning")
                print("# measured %s: first warning %.1f s before %s" % (what, lead, error), flush=True)

            sub.run(None, check_failure_alert, recs, ns, f, pool, proto, error, result, fail_dest, what)
            sub.run(None, warned)
            sub.run(None, check_pool_shape, recs, ns, pool, destination, source, proto, what)
            sub.done()

        c.run(None, one_pool)
    c.done()


# ---- occupancy against the kernel's own view -------------------------------------------------

def ss_sockets(ns, flag):
    """(state, local (addr, port), peer (addr, port)) of every socket ss -Ha[t|u]n lists in ns."""
    out = ns.run(["ss", "-Han" + flag]).stdout
    socks = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 5:
            continue
        local, peer = f[3].rsplit(":", 1), f[4].rsplit(":", 1)
        socks.append((f[0], (local[0], int(local[1])), (peer[0], peer[1])))
    return socks


def in_range(port):
    return RANGE[0] <= port <= RANGE[1]


def kernel_view(ns):
    """What the kernel says, by the tools an operator would use."""
    tcp = ss_sockets(ns, "t")
    udp = ss_sockets(ns, "u")
    to_dest = [s for s in tcp if s[2] == (LO, str(PORT)) and s[0] != "LISTEN"]
    sockstat = ns.run(["cat", "/proc/net/sockstat"]).stdout
    tw = None
    for line in sockstat.splitlines():
        if line.startswith("TCP:"):
            f = line.split()
            tw = int(f[f.index("tw") + 1])
    return {
        "dest_in_use": len(to_dest),
        "dest_established": sum(1 for s in to_dest if s[0] == "ESTAB"),
        "dest_time_wait": sum(1 for s in to_dest if s[0] == "TIME-WAIT"),
        "sockstat_tw": tw,
        "tcp_local_ports": len({s[1][1] for s in tcp if in_range(s[1][1])}),
        "udp_local_ports": len({s[1][1] for s in udp if in_range(s[1][1])}),
    }


def pools_snapshot(ns):
    r = subprocess.run([PORTWATCH, "pools", "-j", "--netns", ns.name], capture_output=True, text=True, timeout=30)
    eq(r.returncode, 0, "portwatch pools exit status (stderr %r)" % r.stderr.strip())
    recs = []
    for line in r.stdout.splitlines():
        try:
            recs.append(json.loads(line))
        except ValueError:
            raise TestFailure("portwatch pools: invalid JSON line %r" % line)
    others = [x for x in recs if x.get("netns") != ns.inode]
    check(not others, "pools --netns %s printed other namespaces: %s" % (ns.name, briefs(others)))
    return recs


def the_pool(recs, pool, destination=None):
    got = [r for r in recs if r.get("type") == "pool" and r.get("pool") == pool
           and (destination is None or r.get("destination") == destination)]
    check(len(got) == 1, "expected 1 %s pool record%s, got %d: %s"
          % (pool, " for " + destination if destination else "", len(got), briefs(recs)))
    return got[0]


BIND_ONLY = 20  # TCP sockets bound to port 0, never connected: invisible to ss -tan


def quiet_view(ns, established, what, timeout=5):
    """The kernel's view once the server has closed its ends: every
    connection to the server established or in TIME_WAIT, nothing between."""
    end = time.time() + timeout
    while True:
        k = kernel_view(ns)
        settled = (k["dest_established"] == established
                   and k["dest_established"] + k["dest_time_wait"] == k["dest_in_use"]
                   and k["dest_time_wait"] == k["sockstat_tw"])
        if settled or time.time() > end:
            break
        time.sleep(0.1)
    check(settled, "%s: setup: expected %d established and the rest in TIME_WAIT to %s, ss/sockstat said %r"
          % (what, established, dest_str(LO, PORT), k))
    return k


def drain(ns, what, mode, *args):
    """How many more sockets the kernel grants in ns before refusing: the
    ground truth for capacity - in_use. Released at once."""
    p = Portload(ns, mode, *args)
    try:
        f = p.until("fail", "done", timeout=30)
    finally:
        p.close()
    eq(f["event"], "fail", "%s: setup: portload %s ran the pool dry" % (what, mode))
    return f


@test
def ephemeral_pool_occupancy_equals_ss_and_sockstat():
    # 10 reserved ports: capacity is the range minus them.
    ns = pool_ns("occ", reserved="%d-%d" % (RANGE[1] - 9, RANGE[1]))
    capacity = CAPACITY - 10
    dest = dest_str(LO, PORT)
    loads = [serve(ns)]
    try:
        churn = Portload(ns, "churn", LO, PORT, 100, 10, 40)  # 40 TIME_WAIT
        loads.append(churn)
        done = churn.until("done", "fail", timeout=15)
        eq((done["event"], done["n"]), ("done", 40), "setup: 40 connections closed by the client")
        held = Portload(ns, "--exact", "hold", LO, PORT, 200, 30)
        bound = Portload(ns, "--exact", "bind0", LO, 200, BIND_ONLY)
        udp = Portload(ns, "--exact", "udp", LO, UDP_SINK, 200, 15)
        loads += [held, bound, udp]
        for p, n in ((held, 30), (bound, BIND_ONLY), (udp, 15)):
            eq(p.until("holding", timeout=15)["n"], n, "setup: portload %s holding" % " ".join(p.args))

        k = quiet_view(ns, 30, "quiet")
        eq((k["dest_established"], k["dest_time_wait"], k["sockstat_tw"], k["udp_local_ports"]), (30, 40, 40, 15),
           "setup: ss established and time-wait to %s, sockstat tw, ss -uan ports" % dest)
        recs = pools_snapshot(ns)
        eq(kernel_view(ns), k, "setup: the namespace stayed quiet during portwatch pools")
        c = Checks()

        # connect() skips ports that bind() holds (DESIGN §4; measured here:
        # with 20 bind-only sockets, 180 of 200 ports are left to connect()),
        # so the connect pool's in_use is what ss shows to the destination
        # (established + time-wait) plus the bind-only sockets.
        def quiet():
            conn = the_pool(recs, "connect", dest)
            bind = the_pool(recs, "bind")
            udpp = the_pool(recs, "udp")
            eq({"connect in_use": conn["in_use"], "connect time_wait": conn["time_wait"],
                "bind in_use": bind["in_use"], "udp in_use": udpp["in_use"]},
               {"connect in_use": k["dest_in_use"] + BIND_ONLY, "connect time_wait": k["sockstat_tw"],
                "bind in_use": k["tcp_local_ports"] + BIND_ONLY, "udp in_use": k["udp_local_ports"]},
               "quiet: pools vs ss -tan to %s (+%d bind-only) / sockstat tw / ss -tan local ports in range "
               "(+%d bind-only) / ss -uan local ports in range" % (dest, BIND_ONLY, BIND_ONLY))
            for r in (conn, bind, udpp):
                eq((r["capacity"], r["range"], r["reserved"], r["tw_reuse"], r["eta_seconds"]),
                   (capacity, list(RANGE), 10, 0, None),
                   "quiet: %s pool (capacity, range, reserved, tw_reuse, eta_seconds)" % r["pool"])
            eq((conn["source"], conn["proto"], bind["destination"], bind["proto"], udpp["proto"]),
               (LO, "tcp", None, "tcp", "udp"), "quiet: connect source/proto, bind destination/proto, udp proto")

        c.run("quiet", quiet)

        # Under a slow churn: pools is a snapshot at some instant between two
        # ss readings; allow max(1 %, 2 ports) around them.
        slow_churn = Portload(ns, "churn", LO, PORT, 5, 5)
        loads.append(slow_churn)
        slow_churn.until("start", timeout=5)
        time.sleep(1)
        for i in range(3):
            before = kernel_view(ns)
            snap = pools_snapshot(ns)
            after = kernel_view(ns)

            def busy(before=before, snap=snap, after=after, i=i):
                conn = the_pool(snap, "connect", dest)
                bind = the_pool(snap, "bind")
                for label, got, key, extra in (("connect in_use", conn["in_use"], "dest_in_use", BIND_ONLY),
                                               ("connect time_wait", conn["time_wait"], "sockstat_tw", 0),
                                               ("bind in_use", bind["in_use"], "tcp_local_ports", BIND_ONLY)):
                    lo, hi = sorted((before[key] + extra, after[key] + extra))
                    tol = max(2, int(0.01 * hi + 0.999))
                    check(lo - tol <= got <= hi + tol,
                          "under churn #%d: %s %d, the kernel said %d before and %d after (tolerance %d)"
                          % (i + 1, label, got, lo, hi, tol))

            c.run("under churn", busy)
            time.sleep(0.5)
        done = slow_churn.until("done", "fail", timeout=15)
        eq(done["event"], "done", "setup: the slow churn never failed")

        # In use means refused: what is left of each pool is exactly what the
        # kernel still grants (bind and UDP probes release at once; the
        # connect probe last, as its connections leave TIME_WAIT behind).
        quiet_view(ns, 30, "before the probes")
        snap = pools_snapshot(ns)

        def left(pool, dest_=None):
            r = the_pool(snap, pool, dest_)
            return r["capacity"] - r["in_use"]

        def probes():
            want = {"bind": left("bind"), "udp": left("udp"), "connect": left("connect", dest)}
            got = {"bind": drain(ns, "bind probe", "bind0", LO, 5000, capacity),
                   "udp": drain(ns, "udp probe", "udp", LO, UDP_SINK, 5000, capacity),
                   "connect": drain(ns, "connect probe", "hold", LO, PORT, 5000, capacity)}
            eq({p: (f["errno"], f["n"]) for p, f in got.items()},
               {"bind": ("EADDRINUSE", want["bind"]), "udp": ("EAGAIN", want["udp"]),
                "connect": ("EADDRNOTAVAIL", want["connect"])},
               "capacity - in_use per pool vs (error, sockets the kernel still granted)")

        c.run("probes", probes)
        c.done()
    finally:
        for p in loads:
            p.close()


# ---- slow tier -----------------------------------------------------------------------------

@slow
def slow_ephemeral_churn_reaches_steady_state_without_warning():
    """2/s for 75 s: TIME_WAIT expires after 60 s, the pool levels at ~120
    (60 %): an info alert once past 50 %, never a warning."""
    ns = pool_ns("steady")
    loads = [serve(ns)]
    tr = StampedTracer("--interval", "1", command="watch")
    try:
        churn = Portload(ns, "churn", LO, PORT, 2, 75)
        loads.append(churn)
        churn.until("done", "fail", timeout=90)
        time.sleep(1.5)
    finally:
        recs = tr.stop()
        for p in loads:
            p.close()
    dest = dest_str(LO, PORT)
    start = churn.events[0]["ts"]
    eq(churn.events[-1]["event"], "done", "setup: the 2/s churn never failed")
    c = Checks()

    def no_warning():
        hot = [a for a in alerts(recs, "ephemeral_exhaustion")
               if a.get("netns") == ns.inode and a["severity"] in HOT_SEVERITIES]
        check(not hot, "expected no warning/critical at 2/s (steady 60 %%), got %s" % briefs(hot))

    def info():
        infos = [a for a in exhaustion_alerts(recs, ns, "connect", dest) if a["severity"] == "info"]
        check(infos, "expected an info alert once the connect pool passed 50 %% (at ~50 s); alerts: %s"
              % briefs(exhaustion_alerts(recs, ns, "connect", dest)))
        a = infos[0]
        at = ts_of(a) - start
        check(a["in_use"] >= CAPACITY // 2 and 49 <= at <= 53,
              "info alert at start+%.1f s with in_use %d (expected >= %d, at ~50 s)" % (at, a["in_use"], CAPACITY // 2))

    def steady():
        # From 65 s until the churn stops (then TIME_WAIT drains).
        stop = churn.events[-1]["ts"]
        late = [r for r in pool_records(recs, ns, "connect", dest) if start + 65 <= ts_of(r) <= stop]
        check(late, "no pool records between start+65 s and the churn's end: %s"
              % briefs(pool_records(recs, ns, "connect", dest)[-4:]))
        for r in late:
            check(116 <= r["in_use"] <= 124 and abs(r["time_wait"] - r["in_use"]) <= 1,
                  "steady state: expected ~120 in use, all TIME_WAIT, at start+%.1f s: %s"
                  % (ts_of(r) - start, brief(r)))
            e = r["eta_seconds"]
            check(e is None or e > 60, "steady state: eta_seconds should be null (not growing), got %r at "
                  "start+%.1f s" % (e, ts_of(r) - start))

    c.run("no warning", no_warning)
    c.run("info", info)
    c.run("steady", steady)
    c.done()


@slow
def slow_ephemeral_ipv6_churn_over_veth():
    cli, srv_ns = Netns("v6c"), Netns("v6s")
    _, _, v6c, v6s = link(cli, srv_ns)
    pool_sysctls(cli)  # IPv6 uses the IPv4 range
    loads = [serve(srv_ns, v6s, PORT)]
    tr = StampedTracer("--interval", "1", command="watch")
    try:
        churn = Portload(cli, "churn", v6s, PORT, 10, 25)
        loads.append(churn)
        churn.until("fail", "done", timeout=35)
        time.sleep(1.5)
    finally:
        recs = tr.stop()
        for p in loads:
            p.close()
    check_churn(recs, cli, churn, v6c, dest_str(v6s, PORT), "ipv6 churn 10/s").done()


CENSUS_LINE = re.compile(r"census: (\d+) sockets, (\d+) namespaces walked .* in ([0-9.]+) ms")


@test
def ephemeral_startup_census_of_100k_sockets_within_250ms():
    """Issue 5: with 100k existing sockets (50k loopback connections, both ends,
    in six processes, plus 5000 TIME_WAIT) the start-up census -- every
    process's files (owners seeded), then each namespace's TCP and UDP hash
    tables -- completes in <= 250 ms. Median of three start-ups."""
    ns = Netns("farm")
    farm = ns.popen([SOCKFARM, "-t", "5000", "100000"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                    text=True)
    try:
        line = farm.stdout.readline()
        eq(line.strip(), "ready", "sockfarm ready")
        times = []
        for _ in range(3):
            r = subprocess.run([PORTWATCH, "watch", "-v", "--duration", "0.5"], capture_output=True,
                               text=True, timeout=60)
            eq(r.returncode, 0, "watch exit status (%s)" % r.stderr.strip()[-300:])
            m = CENSUS_LINE.search(r.stderr)
            check(m is not None, "no census line in: %s" % r.stderr[-500:])
            sockets, ms = int(m.group(1)), float(m.group(3))
            check(sockets >= 100000, "census saw only %d sockets" % sockets)
            times.append(ms)
        med = statistics.median(times)
        print("# measured start-up census of %d sockets: %s ms (median %.1f)"
              % (sockets, ", ".join("%.1f" % t for t in times), med))
        if EMULATED:
            print("# emulated CPU (%s): the 250 ms goal is for real CPUs, not asserted here" % EMULATED,
                  flush=True)
        else:
            check(med <= 250, "start-up census took %.1f ms (median of %s), goal <= 250 ms" % (med, times))
    finally:
        farm.stdin.close()
        farm.wait(30)


@test
def ephemeral_bound_only_release_tw_reuse_and_processless_namespace():
    """Three things a census alone would see late or wrong: (1) 50 sockets
    bound with bind(0) and closed give their ports back at once (the close
    reaches tcp:tcp_destroy_sock, not inet_sock_set_state), not at the next
    census 10 s later; (2) with tcp_tw_reuse=2 a 40/s loopback churn reuses
    TIME_WAIT ports and never fills the pool: no warning for any pool;
    (3) once every process of a namespace made with `ip netns add` is gone,
    `pools --netns` still enters it (through /run/netns) and counts its
    TIME_WAIT as /proc/net/sockstat does."""
    bind_ns = pool_ns("rel")
    dns_ns = pool_ns("dns")
    reuse_ns = Netns("reuse")
    reuse_ns.sysctl("net.ipv4.ip_local_port_range", "%d %d" % RANGE)
    reuse_ns.sysctl("net.ipv4.tcp_tw_reuse", "2")
    srv = serve(reuse_ns)
    churn = None
    tr = StampedTracer("--interval", "1", command="watch")
    try:
        bound = Portload(bind_ns, "--exact", "bind0", LO, 100, 50)
        bound.until("holding", timeout=10)
        time.sleep(1.5)
        t_close = time.time()
        bound.close()
        churn = Portload(reuse_ns, "churn", LO, PORT, 40, 8)
        # A resolver's way: a fresh UDP socket per query, closed at once (150 in 3 s).
        dns_ns.run(["python3", "-c", "import socket, time\n"
                    "for i in range(150):\n"
                    "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
                    "    s.sendto(b'q', ('127.0.0.1', %d)); s.close(); time.sleep(0.02)" % UDP_SINK])
        churn.until("fail", "done", timeout=20)
        time.sleep(1.5)
    finally:
        recs = tr.stop()
        srv.close()
        if churn:
            churn.close()
    c = Checks()

    def bound_released():
        bind = pool_records(recs, bind_ns, "bind")
        held = [r for r in bind if r["in_use"] == 50]
        check(held, "bind pool never showed the 50 bound ports: %s" % briefs(bind[-4:]))
        # Pool records are printed only while something is in use: the last one
        # before the close said 50; none 3 s after it may.
        late = [r for r in bind if r["in_use"] and seen_at(r) > t_close + 3]
        check(not late, "bound ports still counted > 3 s after their close (census is 10 s): %s"
              % briefs(late))
        closes = [e for e in recs if e.get("event") == "close"]
        check(not closes, "watch -j prints no trace records: %s" % briefs(closes))

    def reuse_quiet():
        done = [e for e in churn.events if e["event"] in ("done", "fail")][-1]
        eq((done["event"], done["n"]), ("done", 320), "setup: 40/s for 8 s with tcp_tw_reuse=2")
        hot = [a for a in alerts(recs, "ephemeral_exhaustion")
               if a.get("netns") == reuse_ns.inode and a["severity"] in HOT_SEVERITIES]
        check(not hot, "tcp_tw_reuse=2 churn that never fails: expected no warning, got %s" % briefs(hot))

    def udp_released():
        udp = pool_records(recs, dns_ns, "udp")
        most = max([r["in_use"] for r in udp] or [0])
        check(most <= 5, "socket-per-query UDP: at most a few ports held at once, pool records say %d: %s"
              % (most, briefs(udp[-4:])))
        hot = [a for a in alerts(recs, "ephemeral_exhaustion") if a.get("netns") == dns_ns.inode]
        check(not hot, "socket-per-query UDP (150 sockets into 200 ports, each closed): no alert, got %s"
              % briefs(hot))

    c.run(None, bound_released)
    c.run(None, reuse_quiet)
    # cgroup/sock_release exists from 5.9: on every kernel this runs on, so no skip.
    c.run(None, udp_released)

    def processless():
        # Every process of the namespace is gone now; TIME_WAIT remains.
        def alive(pid):  # zombies (exited, not yet reaped) hold no namespace for us to enter
            try:
                return open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()[0] != "Z"
            except OSError:
                return False

        for _ in range(50):
            left = [p for p in reuse_ns.run(["ip", "netns", "pids", reuse_ns.name]).stdout.split() if alive(p)]
            if not left:
                break
            time.sleep(0.1)
        eq(left, [], "setup: no process left in %s" % reuse_ns.name)
        kv = kernel_view(reuse_ns)
        check(kv["sockstat_tw"] > 0, "setup: TIME_WAIT left in the namespace")
        bind = the_pool(pools_snapshot(reuse_ns), "bind")
        eq(bind["time_wait"], kv["sockstat_tw"], "TIME_WAIT of a namespace with no process")

    c.run(None, processless)
    c.done()
