# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Integration-test harness: throwaway network namespaces, a running
portwatch, and the real programs that make traffic.

Addresses are 198.18.0.0/15 and 2001:db8::/32 inside namespaces this
harness creates and deletes; nothing is ever sent anywhere else.
"""
import atexit
import datetime
import ipaddress
import json
import os
import queue
import signal
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("PW_BUILD", os.path.join(ROOT, "build"))
PORTWATCH = os.path.join(BUILD, "portwatch")
SOCKPROBE = os.path.join(BUILD, "tests", "progs", "sockprobe")
PORTLOAD = os.path.join(BUILD, "tests", "progs", "portload")
SOCKFARM = os.path.join(BUILD, "tests", "progs", "sockfarm")

_TESTS = []
_NAMESPACES = []
_PROCS = []
_seq = [0]


class TestFailure(Exception):
    pass


def test(fn):
    """Register fn as an integration test."""
    _TESTS.append(fn)
    return fn


def slow(fn):
    """Register fn as a slow-tier test: run by `make test-slow`, not `make test`."""
    fn.slow = True
    _TESTS.append(fn)
    return fn


def tests(slow_tier=False):
    return [t for t in _TESTS if getattr(t, "slow", False) == slow_tier]


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def eq(actual, expected, what):
    if actual != expected:
        raise TestFailure("%s: expected %r, got %r" % (what, expected, actual))


def sh(args, **kw):
    """Run a command; raise with its output when it fails."""
    r = subprocess.run(args, capture_output=True, text=True, timeout=kw.pop("timeout", 30), **kw)
    if r.returncode != 0:
        raise TestFailure("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
    return r.stdout


class Netns:
    """A network namespace with loopback up, deleted at cleanup()."""

    def __init__(self, tag):
        _seq[0] += 1
        self.name = "pwt-%d-%d-%s" % (os.getpid(), _seq[0], tag)
        sh(["ip", "netns", "add", self.name])
        _NAMESPACES.append(self)
        self.ip("link", "set", "lo", "up")
        self.inode = os.stat("/run/netns/" + self.name).st_ino

    def ip(self, *args):
        return sh(["ip", "-n", self.name] + list(args))

    def cmd(self, args):
        return ["ip", "netns", "exec", self.name] + list(args)

    def run(self, args, check_rc=True, timeout=30, **kw):
        r = subprocess.run(self.cmd(args), capture_output=True, text=True, timeout=timeout, **kw)
        if check_rc and r.returncode != 0:
            raise TestFailure("%s failed (%d): %s" % (" ".join(args), r.returncode, r.stderr.strip()))
        return r

    def popen(self, args, **kw):
        p = subprocess.Popen(self.cmd(args), **kw)
        _PROCS.append(p)
        return p

    def sysctl(self, key, value):
        self.run(["sysctl", "-qw", "%s=%s" % (key, value)])

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True)


def link(a, b, subnet=0):
    """A veth pair between namespaces a and b: a gets 198.18.S.1 and
    2001:db8:S::1, b gets .2 and ::2. Returns the four addresses."""
    ia, ib = "pwv%da%d" % (os.getpid() % 10000, _seq[0]), "pwv%db%d" % (os.getpid() % 10000, _seq[0])
    _seq[0] += 1
    sh(["ip", "link", "add", ia, "netns", a.name, "type", "veth", "peer", "name", ib, "netns", b.name])
    v4a, v4b = "198.18.%d.1" % subnet, "198.18.%d.2" % subnet
    v6a = str(ipaddress.IPv6Address("2001:db8:%x::1" % subnet))
    v6b = str(ipaddress.IPv6Address("2001:db8:%x::2" % subnet))
    for ns, ifc, v4, v6 in ((a, ia, v4a, v6a), (b, ib, v4b, v6b)):
        ns.ip("addr", "add", v4 + "/24", "dev", ifc)
        ns.ip("-6", "addr", "add", v6 + "/64", "dev", ifc, "nodad")
        ns.ip("link", "set", ifc, "up")
    return v4a, v4b, v6a, v6b


def probe(ns, *args, comm=None):
    """Run sockprobe in ns and return its JSON report."""
    pre = ["--comm", comm] if comm else []
    out = ns.run([SOCKPROBE] + pre + [str(a) for a in args]).stdout
    return json.loads(out.splitlines()[0])


class Held:
    """A sockprobe that keeps its socket until close()."""

    def __init__(self, ns, *args, comm=None):
        pre = ["--comm", comm] if comm else []
        self.p = ns.popen([SOCKPROBE] + pre + [str(a) for a in args] + ["hold"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline()
        check(line, "sockprobe %s printed nothing" % " ".join(map(str, args)))
        self.report = json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


class Portload:
    """A portload run in ns (tests/progs/portload.c). Its JSON lines are read
    as they come; until() waits for a given event. close() closes its stdin
    (which releases held sockets) and waits for it to exit."""

    def __init__(self, ns, *args):
        self.args = [str(a) for a in args]
        self.p = ns.popen([PORTLOAD] + self.args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.pid = self.p.pid  # ip netns exec execs portload: same pid
        self.events = []
        self._lines = queue.Queue()

        def reader():
            for line in self.p.stdout:
                self._lines.put(line)
            self._lines.put(None)

        threading.Thread(target=reader, daemon=True).start()

    def until(self, *names, timeout=60):
        """Read events until one whose "event" is in names; return it."""
        end = time.time() + timeout
        while True:
            try:
                line = self._lines.get(timeout=max(0.0, end - time.time()))
            except queue.Empty:
                raise TestFailure("portload %s: no %s event after %ss; saw %s"
                                  % (" ".join(self.args), "/".join(names), timeout, json.dumps(self.events)))
            if line is None:
                raise TestFailure("portload %s exited (%r) before a %s event; saw %s"
                                  % (" ".join(self.args), self.p.poll(), "/".join(names), json.dumps(self.events)))
            try:
                ev = json.loads(line)
            except ValueError:
                raise TestFailure("portload %s: invalid JSON line %r" % (" ".join(self.args), line))
            self.events.append(ev)
            if ev.get("event") in names:
                return ev

    def close(self, timeout=15):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        self.p.wait(timeout=timeout)


def epoch(iso_ts):
    """Seconds since the epoch of portwatch's "2026-11-22T10:00:00.123456Z"."""
    return datetime.datetime.strptime(iso_ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


class Tracer:
    """portwatch running with the given arguments; stop() returns events.
    command: trace, watch, top or ports. stamped (JSON mode): stdout is a pipe
    read as it comes, each line stamped with time.time() when it arrived, and
    stop() adds "_arrived" to every event: latency goals as a reader of the
    output sees them (a tool that buffers its output off a terminal shows up)."""

    def __init__(self, *args, json_mode=True, command="trace", stamped=False, env=None):
        self.out = tempfile.TemporaryFile()
        self.arrived = [] if stamped else None
        self.args = [PORTWATCH, command] + (["-j"] if json_mode or stamped else []) + list(args)
        self.p = subprocess.Popen(self.args, stdout=subprocess.PIPE if stamped else self.out,
                                  stderr=subprocess.PIPE, env=dict(os.environ, **env) if env else None)
        _PROCS.append(self.p)
        self.stderr = []
        ready = threading.Event()

        def copier():
            for raw in self.p.stdout:
                self.arrived.append(time.time())
                self.out.write(raw)
            self.out.flush()

        def reader():
            for raw in self.p.stderr:
                line = raw.decode("utf-8", "replace")
                self.stderr.append(line)
                if line.strip() == "portwatch: ready":
                    ready.set()
            ready.set()

        self.threads = [threading.Thread(target=reader, daemon=True)]
        if stamped:
            self.threads.append(threading.Thread(target=copier, daemon=True))
        for t in self.threads:
            t.start()
        if not ready.wait(20) or self.p.poll() is not None:
            self.p.kill()
            raise TestFailure("portwatch did not become ready (BPF not loadable?): %s"
                              % "".join(self.stderr).strip())

    def stop(self):
        """SIGINT, then the parsed output. Every line must be valid JSON."""
        time.sleep(0.3)  # one poll period: let the last records arrive
        self.p.send_signal(signal.SIGINT)
        try:
            rc = self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise TestFailure("portwatch did not exit on SIGINT")
        for t in self.threads:
            t.join(5)
        eq(rc, 0, "portwatch exit status")
        summary = [l for l in self.stderr if "lost to ring-buffer overflow" in l]
        check(summary, "no summary line on stderr: %r" % self.stderr)
        self.summary = summary[-1]
        self.out.seek(0)
        self.raw = self.out.read()
        if not self.args.count("-j"):
            return self.raw
        events = []
        for line in self.raw.decode("utf-8").splitlines():
            try:
                events.append(json.loads(line))
            except ValueError:
                raise TestFailure("invalid JSON line: %r" % line)
        if self.arrived is not None:
            if len(events) != len(self.arrived):
                raise TestFailure("%d events but %d lines stamped" % (len(events), len(self.arrived)))
            for e, t in zip(events, self.arrived):
                e["_arrived"] = t
        return events


def StampedTracer(*args, command="trace"):
    """A JSON Tracer whose events carry "_arrived" (see Tracer)."""
    return Tracer(*args, command=command, stamped=True)


def find(events, **want):
    """Events whose fields equal every key=value given."""
    return [e for e in events if all(e.get(k) == v for k, v in want.items())]


def one(events, what, **want):
    got = find(events, **want)
    if len(got) != 1:
        near = find(events, event=want.get("event")) if "event" in want else events
        raise TestFailure("%s: expected 1 event matching %r, got %d; events of that kind: %s"
                          % (what, want, len(got), json.dumps(near[:6])))
    return got[0]


def wait_port(ns, addr, port, timeout=10):
    """Poll until a TCP listener answers on addr:port."""
    end = time.time() + timeout
    while time.time() < end:
        r = ns.run([SOCKPROBE, "connect", "tcp", addr, str(port)], check_rc=False)
        if r.returncode == 0 and json.loads(r.stdout.splitlines()[0])["result"] == 0:
            return
        time.sleep(0.1)
    raise TestFailure("nothing listens on %s:%s after %ss" % (addr, port, timeout))


def cleanup():
    for p in _PROCS:
        if p.poll() is None:
            p.kill()
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                pass
    del _PROCS[:]
    for ns in _NAMESPACES:
        ns.delete()
    del _NAMESPACES[:]


atexit.register(cleanup)


def nstat(ns, *names):
    """The kernel's own absolute counters in ns (nstat -a: since creation)."""
    out = ns.run(["nstat", "-asz"] + list(names)).stdout
    vals = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in names:
            vals[parts[0]] = int(parts[1])
    return vals


def final_ports(records):
    """The last port record of each (netns, proto, port): the totals at exit."""
    last = {}
    for r in records:
        if r.get("type") == "port":
            last[(r["netns"], r["proto"], r["port"])] = r
    return last


def alerts(records, kind=None):
    return [r for r in records if "alert" in r and (kind is None or r["alert"] == kind)]


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def map_memory(pid):
    """Bytes of kernel memory in the BPF maps process pid holds, each map
    once (maps shared between objects appear under several fds)."""
    seen = {}
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if "map_id" in info and "memlock" in info:
            seen[int(info["map_id"])] = int(info["memlock"])
    return sum(seen.values())


def nginx(ns, listen, tag):
    """A real nginx (master + one worker) in ns listening on listen
    ("198.18.0.1:8080"), answering 200; its files in a /tmp folder of its own."""
    d = "/tmp/pwt-nginx-%d-%s" % (os.getpid(), tag)
    os.makedirs(d, exist_ok=True)
    conf = os.path.join(d, "nginx.conf")
    with open(conf, "w") as f:
        f.write("daemon off; master_process on; worker_processes 1; pid %s/nginx.pid;\n"
                "error_log %s/error.log; events { worker_connections 256; }\n"
                "http { access_log off; client_body_temp_path %s; proxy_temp_path %s;"
                " fastcgi_temp_path %s; uwsgi_temp_path %s; scgi_temp_path %s;\n"
                " server { listen %s; location / { return 200 'ok'; } } }\n"
                % ((d,) * 7 + (listen,)))
    return ns.popen(["nginx", "-c", conf, "-e", d + "/error.log"], stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL)


_features = {}


def has_feature(name):
    """Does this kernel have feature name, as `portwatch check -j` says?
    Tests assert the documented fallback where it does not."""
    if not _features:
        out = subprocess.run([PORTWATCH, "check", "-j"], capture_output=True, text=True, timeout=30).stdout
        for f in json.loads(out)["features"]:
            _features[f["name"]] = f["present"]
    return _features[name]


# Set by tools/kernel-init.sh inside a qemu guest: the CPU is emulated (TCG,
# many times slower), so a goal in milliseconds measured on the host says
# nothing there; tests measure and print it instead of asserting it.
EMULATED = os.environ.get("PW_EMULATED")

# Closed ports without kfree_skb's drop reason (before 5.17), as portwatch
# infers them from SYNs and listeners; the same inference on any kernel.
NO_DROP_REASONS = {"PORTWATCH_DROP_REASONS": "0"}


def fallback(msg):
    """Say, in the TAP output, which documented fallback a test asserts."""
    print("# fallback on %s: %s" % (os.uname().release, msg), flush=True)
