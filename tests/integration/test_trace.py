# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""portwatch trace: bind, listen, connect, accept and close, field by field,
against what real programs did, in namespaces this test owns."""
import json
import os
import re
import signal
import subprocess
import time

from pwtest import (PORTWATCH, SOCKPROBE, Held, Netns, TestFailure, Tracer, check, eq, fallback, find, has_feature,
                    link, nginx, one, probe, test, wait_port)

FAMILIES = (("ipv4", 0), ("ipv6", 2))


def pair(tag):
    srv, cli = Netns(tag + "s"), Netns(tag + "c")
    addrs = link(srv, cli)
    return srv, cli, addrs


def tcp_lifecycle(family):
    srv, cli, (s4, c4, s6, c6) = pair("tcp")
    saddr, caddr = (s4, c4) if family == "ipv4" else (s6, c6)
    tr = Tracer()
    server = srv.popen([SOCKPROBE, "accept", saddr, "8080"], stdout=subprocess.PIPE, text=True)
    listened = json.loads(server.stdout.readline())
    eq(listened["result"], 0, "server listen")
    client = probe(cli, "connect", "tcp", saddr, 8080)
    eq(client["result"], 0, "client connect")
    accepted = json.loads(server.stdout.readline())
    server.wait(10)
    evs = tr.stop()

    common = dict(proto="tcp", family=family, comm="sockprobe")
    spid, cpid = listened["pid"], client["pid"]
    b = one(evs, "bind", event="bind", pid=spid, **common)
    eq((b["local_addr"], b["local_port"], b["requested_port"], b["result"], b["error"]),
       (saddr, 8080, 8080, 0, None), "bind fields")
    eq((b["netns"], b["remote_addr"], b["remote_port"]), (srv.inode, None, None), "bind netns/remote")
    eq(b["tid"], spid, "bind tid")
    eq(b["uid"], 0, "bind uid")
    check(isinstance(b["cgroup_id"], int) and b["cgroup_id"] > 0, "bind cgroup_id %r" % b["cgroup_id"])
    l = one(evs, "listen", event="listen", pid=spid, **common)
    eq((l["local_addr"], l["local_port"], l["backlog"], l["result"], l["netns"]),
       (saddr, 8080, 7, 0, srv.inode), "listen fields")
    c = one(evs, "connect", event="connect", pid=cpid, **common)
    eq((c["local_addr"], c["local_port"], c["remote_addr"], c["remote_port"], c["result"], c["netns"]),
       (caddr, client["port"], saddr, 8080, 0, cli.inode), "connect fields")
    a = one(evs, "accept", event="accept", pid=spid, **common)
    eq((a["local_addr"], a["local_port"], a["remote_addr"], a["remote_port"], a["result"], a["netns"]),
       (saddr, 8080, caddr, client["port"], 0, srv.inode), "accept fields")
    eq(accepted["peer_port"], client["port"], "server saw the client's port")
    # Both ends of the connection close, each owned by its process.
    sc = one(evs, "server close", event="close", netns=srv.inode, local_port=8080,
             remote_port=client["port"])
    eq((sc["pid"], sc["comm"], sc["remote_addr"], sc["listener"]), (spid, "sockprobe", caddr, False),
       "server close fields")
    check(isinstance(sc["lifetime_us"], int) and 0 <= sc["lifetime_us"] < 10_000_000,
          "server close lifetime %r" % sc["lifetime_us"])
    cc = one(evs, "client close", event="close", netns=cli.inode, local_port=client["port"])
    eq((cc["pid"], cc["remote_addr"], cc["remote_port"]), (cpid, saddr, 8080), "client close fields")
    # The server's end is the accepted one. (Which end keeps TIME_WAIT depends on who
    # closed first; both do after a simultaneous close.)
    eq((sc["accepted"], cc["accepted"]), (True, False), "accepted flag: server end, client end")
    lc = one(evs, "listener close", event="close", netns=srv.inode, listener=True)
    eq((lc["pid"], lc["local_port"], lc["remote_addr"], lc["accepted"]), (spid, 8080, None, False),
       "listener close")


@test
def tcp_lifecycle_ipv4():
    tcp_lifecycle("ipv4")


@test
def tcp_lifecycle_ipv6():
    tcp_lifecycle("ipv6")


def udp_bind_connect(family):
    srv, cli, (s4, c4, s6, c6) = pair("udp")
    saddr, caddr = (s4, c4) if family == "ipv4" else (s6, c6)
    tr = Tracer()
    bound = probe(cli, "bind", "udp", caddr, 0)
    conn = probe(cli, "connect", "udp", saddr, 5353)
    evs = tr.stop()
    b = one(evs, "udp bind", event="bind", pid=bound["pid"], proto="udp")
    eq((b["family"], b["local_addr"], b["requested_port"], b["result"], b["netns"]),
       (family, caddr, 0, 0, cli.inode), "udp bind fields")
    # Port 0: the event reports the port the kernel chose, as getsockname() does.
    check(bound["port"] > 0, "kernel chose a port")
    eq(b["local_port"], bound["port"], "udp bind port vs getsockname")
    c = one(evs, "udp connect", event="connect", pid=conn["pid"], proto="udp")
    eq((c["family"], c["local_port"], c["remote_addr"], c["remote_port"], c["result"]),
       (family, conn["port"], saddr, 5353, 0), "udp connect fields")


@test
def udp_ipv4():
    udp_bind_connect("ipv4")


@test
def udp_ipv6():
    udp_bind_connect("ipv6")


@test
def bind_port0_reports_kernel_choice():
    ns = Netns("b0")
    tr = Tracer()
    r4 = probe(ns, "bind", "tcp", "127.0.0.1", 0)
    r6 = probe(ns, "bind", "tcp", "::1", 0)
    evs = tr.stop()
    for r, fam, addr in ((r4, "ipv4", "127.0.0.1"), (r6, "ipv6", "::1")):
        e = one(evs, "bind 0 " + fam, event="bind", pid=r["pid"])
        check(r["port"] > 0, "getsockname port")
        eq((e["local_port"], e["requested_port"], e["family"], e["local_addr"]),
           (r["port"], 0, fam, addr), "bind(0) %s" % fam)


@test
def eaddrinuse_names_holder_started_before_portwatch():
    ns = Netns("inuse")
    holder = Held(ns, "listen", "0.0.0.0", 8081, comm="pw-holder")
    holder6 = Held(ns, "bind", "udp", "::", 8082, comm="pw-holder6")
    tr = Tracer()
    r = probe(ns, "bind", "tcp", "127.0.0.1", 8081)
    r6 = probe(ns, "bind", "udp", "::", 8082)
    evs = tr.stop()
    holder.close()
    holder6.close()
    eq(r["result"], -98, "second bind fails with EADDRINUSE")
    e = one(evs, "failed bind", event="bind", pid=r["pid"])
    eq((e["result"], e["error"], e["local_port"], e["requested_port"]), (-98, "EADDRINUSE", 8081, 8081),
       "failed bind fields")
    eq(e.get("holder"), {"pid": holder.report["pid"], "comm": "pw-holder"}, "holder")
    e6 = one(evs, "failed udp6 bind", event="bind", pid=r6["pid"])
    eq((e6["error"], e6["proto"], e6["family"]), ("EADDRINUSE", "udp", "ipv6"), "udp6 failed bind")
    eq(e6.get("holder"), {"pid": holder6.report["pid"], "comm": "pw-holder6"}, "udp6 holder")


@test
def eaddrnotavail_when_the_port_range_is_exhausted():
    srv, cli, (s4, c4, _, _) = pair("na")
    cli.sysctl("net.ipv4.ip_local_port_range", "40000 40001")
    listener = Held(srv, "listen", s4, 8083)
    held = [Held(cli, "connect", "tcp", s4, 8083) for _ in range(2)]
    tr = Tracer()
    r = probe(cli, "connect", "tcp", s4, 8083)
    evs = tr.stop()
    for h in held:
        h.close()
    listener.close()
    eq(sorted(h.report["port"] for h in held), [40000, 40001], "both ports of the range in use")
    eq(r["result"], -99, "third connect fails")
    e = one(evs, "EADDRNOTAVAIL", event="connect", pid=r["pid"])
    eq((e["result"], e["error"], e["remote_addr"], e["remote_port"], e["netns"], e["async"]),
       (-99, "EADDRNOTAVAIL", s4, 8083, cli.inode, False), "EADDRNOTAVAIL fields")


@test
def refused_connect_sync_and_async():
    srv, cli, (s4, _, s6, _) = pair("ref")
    tr = Tracer()
    r1 = probe(cli, "connect", "tcp", s4, 9)
    r2 = probe(cli, "connect", "tcp", s6, 9, "nonblock")
    evs = tr.stop()
    eq((r1["result"], r2["result"]), (-111, -111), "both refused")
    e1 = one(evs, "blocking", event="connect", pid=r1["pid"])
    eq((e1["error"], e1["async"], e1["remote_addr"], e1["family"]), ("ECONNREFUSED", False, s4, "ipv4"),
       "blocking refused")
    e2 = one(evs, "non-blocking", event="connect", pid=r2["pid"])
    eq((e2["error"], e2["async"], e2["remote_addr"], e2["family"]), ("ECONNREFUSED", True, s6, "ipv6"),
       "non-blocking refused")
    # The port the kernel chose for the attempt, though it is released now.
    check(e1["local_port"] > 0 and e2["local_port"] > 0, "source ports reported: %r %r"
          % (e1["local_port"], e2["local_port"]))


@test
def nonblocking_connect_established():
    srv, cli, (s4, c4, _, _) = pair("nb")
    listener = Held(srv, "listen", s4, 8084)
    tr = Tracer()
    r = probe(cli, "connect", "tcp", s4, 8084, "nonblock")
    evs = tr.stop()
    listener.close()
    eq(r["result"], 0, "connected")
    e = one(evs, "connect", event="connect", pid=r["pid"])
    eq((e["result"], e["local_port"], e["local_addr"], e["remote_port"]), (0, r["port"], c4, 8084),
       "non-blocking established connect")


def proc_comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


@test
def real_servers_python_and_nginx():
    srv, cli, (s4, c4, _, _) = pair("real")
    tr = Tracer()
    py = srv.popen(["python3", "-m", "http.server", "--bind", s4, "8000"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ngx = nginx(srv, s4 + ":8088", "trace")
    try:
        wait_port(cli, s4, 8000)
        wait_port(cli, s4, 8088)
        py_comm = proc_comm(py.pid)
        for port in (8000, 8088):
            socat = cli.popen(["socat", "-t", "2", "-", "TCP:%s:%d" % (s4, port)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            out, _ = socat.communicate(b"GET / HTTP/1.0\r\n\r\n", timeout=10)
            check(b"200" in out.split(b"\r\n")[0], "HTTP answer on %d: %r" % (port, out[:80]))
            if port == 8000:
                socat_pid = socat.pid
        with open("/proc/%d/task/%d/children" % (ngx.pid, ngx.pid)) as f:
            workers = [int(x) for x in f.read().split()]
    finally:
        evs = tr.stop()
        py.terminate()
        ngx.terminate()
        py.wait(5)
        ngx.wait(5)
    l = one(evs, "python listen", event="listen", local_port=8000)
    eq((l["pid"], l["comm"], l["local_addr"], l["netns"], l["result"]), (py.pid, py_comm, s4, srv.inode, 0),
       "python http.server listen")
    acc = [e for e in find(evs, event="accept", local_port=8000) if e["remote_addr"] == c4]
    check(acc and all(e["pid"] == py.pid for e in acc), "python accepts: %r" % acc)
    # nginx calls listen() twice on each socket (again to apply its backlog).
    nl = find(evs, event="listen", local_port=8088)
    check(nl and all((n["pid"], n["comm"], n["local_addr"], n["result"]) == (ngx.pid, "nginx", s4, 0)
                     for n in nl), "nginx master listens: %r" % nl)
    nacc = find(evs, event="accept", local_port=8088)
    check(nacc and all(e["pid"] in workers and e["comm"] == "nginx" for e in nacc),
          "nginx worker accepts (workers %r): %r" % (workers, nacc))
    sc = find(evs, event="connect", pid=socat_pid)
    check(len(sc) == 1 and sc[0]["comm"] == "socat" and sc[0]["remote_port"] == 8000,
          "socat connect: %r" % sc)


@test
def filters_port_comm_netns_failed_family():
    a, b, (s4, c4, s6, c6) = pair("flt")
    runs = {
        "port": (["-P", "8090"], lambda e: 8090 in (e["local_port"], e["remote_port"], e.get("requested_port"))),
        "comm": (["-c", "pw-keep"], lambda e: e["comm"] == "pw-keep"),
        "netns": (["--netns", a.name], lambda e: e["netns"] == a.inode),
        "failed": (["--failed"], lambda e: e["result"] < 0),
        "ipv6": (["-6"], lambda e: e["family"] == "ipv6"),
        "udp": (["--udp"], lambda e: e["proto"] == "udp"),
    }
    for name, (args, pred) in runs.items():
        tr = Tracer(*args)
        probe(a, "bind", "tcp", s4, 8090, comm="pw-keep")
        probe(a, "bind", "udp", s6, 8091)
        probe(b, "bind", "tcp", c4, 8092)
        probe(b, "connect", "tcp", s4, 9)  # refused
        evs = tr.stop()
        mine = [e for e in evs if e["netns"] in (a.inode, b.inode)]
        check(mine, "%s: filter let nothing through" % name)
        bad = [e for e in mine if not pred(e)]
        check(not bad, "%s filter let through: %s" % (name, json.dumps(bad[:3])))
        if name in ("port", "netns", "failed", "udp"):
            # These are applied in the kernel: the records never reach userspace.
            filtered = summary_count(tr.summary, "filtered in kernel")
            check(filtered >= 2, "%s: in-kernel filter dropped %d records: %s" % (name, filtered, tr.summary))


def summary_count(summary, label):
    """The number before label in portwatch's closing line."""
    head = summary.split(label)[0].rstrip(" ,").split()
    return int(head[-1])


@test
def ring_buffer_overflow_is_counted_exactly():
    ns = Netns("ovf")
    tr = Tracer("--netns", ns.name, "--ringbuf-kb", "4")
    n = 500
    tr.p.send_signal(signal.SIGSTOP)  # the consumer stalls; the ring must overflow
    try:
        ns.run(["python3", "-c", "import socket\nfor i in range(%d):\n"
                " s = socket.socket(); s.bind(('127.0.0.1', 0)); s.close()" % n])
    finally:
        tr.p.send_signal(signal.SIGCONT)
    evs = tr.stop()
    # Each socket is a bind record, and a close record where tcp:tcp_destroy_sock exists.
    per_socket = 2 if has_feature("tp_tcp_destroy_sock") else 1
    shown = find(evs, event="bind", netns=ns.inode) + find(evs, event="close", netns=ns.inode)
    lost = summary_count(tr.summary, "lost to ring-buffer overflow")
    check(lost > 0, "a stalled 4 KiB ring lost nothing? %s" % tr.summary)
    eq(len(shown) + lost, per_socket * n, "records shown + records lost (%s)" % tr.summary.strip())


@test
def hostile_process_name_is_escaped():
    ns = Netns("evil")
    evil = "\\x1b[31mevil\\x0a\\x07"
    tr = Tracer()
    r = probe(ns, "bind", "tcp", "127.0.0.1", 0, comm=evil)
    evs = tr.stop()
    e = one(evs, "hostile comm", event="bind", pid=r["pid"])
    eq(e["comm"], "\x1b[31mevil\n\x07", "comm decoded from JSON")
    tr = Tracer(json_mode=False)
    probe(ns, "bind", "tcp", "127.0.0.1", 0, comm=evil)
    raw = tr.stop()
    check(b"\x1b" not in raw and b"\x07" not in raw, "raw control bytes reached the terminal output")
    check(b"\\x1b[31mevil\\x0a\\x07" in raw, "escaped name shown: %r" % raw[-300:])
    check(raw.count(b"\n") == len(raw.splitlines()), "one line per event")


@test
def exit_status_and_errors():
    r = subprocess.run([PORTWATCH, "trace", "-P", "70000"], capture_output=True, text=True, timeout=10)
    eq(r.returncode, 2, "bad port exit status")
    check("70000" in r.stderr, "bad port named: %r" % r.stderr)
    r = subprocess.run([PORTWATCH, "frobnicate"], capture_output=True, text=True, timeout=10)
    eq(r.returncode, 2, "unknown command exit status")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PORTWATCH, "trace"],
                       capture_output=True, text=True, timeout=10)
    eq(r.returncode, 1, "unprivileged exit status")
    check("must run as root or with CAP_BPF and CAP_PERFMON" in r.stderr and r.stderr.count("\n") == 1, "one-line reason: %r" % r.stderr)
    start = time.time()
    r = subprocess.run([PORTWATCH, "trace", "-j", "--duration", "1"], capture_output=True, text=True,
                       timeout=20)
    eq(r.returncode, 0, "--duration exit status")
    check(time.time() - start < 10, "--duration 1 stopped by itself")
    check("portwatch: ready" in r.stderr and "lost to ring-buffer overflow" in r.stderr,
          "ready and summary lines: %r" % r.stderr)


@test
def connect_timeout_sync_and_async():
    srv, cli, (s4, c4, _, _) = pair("tmo")
    cli.sysctl("net.ipv4.tcp_syn_retries", "1")  # give up after ~3 s, not ~2 min
    listener = Held(srv, "listen", s4, 8085)
    # SYN-ACKs to the client vanish without an ICMP: a real timeout.
    srv.ip("route", "add", "blackhole", c4 + "/32")
    tr = Tracer()
    blocking = cli.popen([SOCKPROBE, "connect", "tcp", s4, "8085"], stdout=subprocess.PIPE, text=True)
    r2 = probe(cli, "connect", "tcp", s4, 8085, "nonblock")
    r1 = json.loads(blocking.stdout.readline())
    evs = tr.stop()
    listener.close()
    eq((r1["result"], r2["result"]), (-110, -110), "both connects time out")
    e1 = one(evs, "blocking timeout", event="connect", pid=r1["pid"])
    eq((e1["error"], e1["async"], e1["remote_port"]), ("ETIMEDOUT", False, 8085), "blocking timeout")
    e2 = one(evs, "non-blocking timeout", event="connect", pid=r2["pid"])
    eq((e2["error"], e2["async"], e2["remote_port"]), ("ETIMEDOUT", True, 8085), "non-blocking timeout")


@test
def close_of_socket_older_than_portwatch_names_owner():
    srv, cli, (s4, c4, _, _) = pair("old")
    listener = Held(srv, "listen", s4, 8086, comm="pw-oldsrv")
    conn = Held(cli, "connect", "tcp", s4, 8086, comm="pw-oldcli")
    tr = Tracer()  # both sockets exist already: the census must name them
    conn.close()
    listener.close()  # aborts the queued child: the client's end closes in softirq
    evs = tr.stop()
    c = one(evs, "old client close", event="close", netns=cli.inode, local_port=conn.report["port"])
    eq((c["pid"], c["comm"], c["lifetime_us"], c["remote_port"]),
       (conn.report["pid"], "pw-oldcli", None, 8086), "close of a connection older than portwatch")
    l = one(evs, "old listener close", event="close", netns=srv.inode, listener=True)
    eq((l["pid"], l["comm"], l["local_port"], l["lifetime_us"]),
       (listener.report["pid"], "pw-oldsrv", 8086, None), "close of a listener older than portwatch")


@test
def failed_accept_reports_listening_port():
    ns = Netns("acc")
    tr = Tracer()
    # accept() on a non-blocking listener with a full fd table: EMFILE.
    code = ("import os, resource, socket\n"
            "a, b = socket.socketpair(socket.AF_UNIX)\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 8087)); s.listen(4)\n"
            "c = socket.create_connection(('127.0.0.1', 8087))\n"
            "n = len(os.listdir('/proc/self/fd'))\n"
            "resource.setrlimit(resource.RLIMIT_NOFILE, (n - 1, n - 1))\n"
            "try:\n s.accept()\nexcept OSError as e:\n print(e.errno)\n"
            "try:\n a.accept()\nexcept OSError as e:\n print(e.errno)\n")
    r = ns.run(["python3", "-c", code])
    evs = tr.stop()
    eq(r.stdout.split(), ["24", "24"], "EMFILE on the TCP and the unix socket")
    if not has_feature("bpf_task_pt_regs"):
        fallback("no bpf_task_pt_regs (5.15): failed accepts are not reported")
        eq(find(evs, event="accept", netns=ns.inode), [], "no accept record")
        return
    # Both fail with EMFILE (the fd is reserved first), but only the TCP
    # listener's failure is a port event: exactly one record.
    e = one(evs, "failed accept", event="accept", netns=ns.inode, result=-24)
    eq((e["error"], e["local_port"], e["local_addr"], e["remote_addr"]), ("EMFILE", 8087, "127.0.0.1", None),
       "failed accept fields")


def cgroup2_root():
    with open("/proc/self/mounts") as f:
        for line in f:
            dev, path, fstype = line.split()[:3]
            if fstype == "cgroup2":
                return path
    raise TestFailure("no cgroup2 mount: --cgroup cannot be tested")


@test
def pid_and_cgroup_filters():
    ns = Netns("pidcg")
    code = ("import os, socket, sys\n"
            "print(os.getpid(), flush=True)\n"
            "for line in sys.stdin:\n"
            " s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1], flush=True)\n")
    p = ns.popen(["python3", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = int(p.stdout.readline())
    cg = os.path.join(cgroup2_root(), "pwt-%d" % os.getpid())
    os.makedirs(cg, exist_ok=True)
    try:
        with open(os.path.join(cg, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        for args in (["-p", str(pid)], ["--cgroup", cg]):
            tr = Tracer(*args)
            p.stdin.write("bind\n")
            p.stdin.flush()
            port = int(p.stdout.readline())
            other = probe(ns, "bind", "tcp", "127.0.0.1", 0)
            evs = tr.stop()
            mine = find(evs, event="bind", local_port=port)
            eq([(e["pid"], e["cgroup_id"]) for e in mine], [(pid, os.stat(cg).st_ino)],
               "%s: the process's bind, with its cgroup id" % args[0])
            eq(find(evs, pid=other["pid"]), [], "%s: another process's events filtered" % args[0])
            # -p drops other processes at syscall entry, before a record exists;
            # --cgroup drops the finished record in the kernel, and counts it.
            if args[0] == "--cgroup":
                check(summary_count(tr.summary, "filtered in kernel") >= 1,
                      "%s: dropped in the kernel: %s" % (args[0], tr.summary))
    finally:
        p.kill()
        p.wait(5)
        time.sleep(0.1)
        os.rmdir(cg)


@test
def check_reports_this_kernels_features():
    r = subprocess.run([PORTWATCH, "check", "-j"], capture_output=True, text=True, timeout=30)
    eq(r.returncode, 0, "check exit status on this kernel (%s)" % r.stderr)
    d = json.loads(r.stdout)
    eq(d["can_run"], True, "can_run")
    check(d["kernel"] == os.uname().release, "kernel %r" % d["kernel"])
    feats = {f["name"]: f for f in d["features"]}
    # Every feature as old as this kernel must be there (6.18 here has them all;
    # Debian's 6.1 lacks the 6.10 and 6.12 ones, which have fallbacks).
    release = tuple(int(x) for x in re.match(r"(\d+)\.(\d+)", os.uname().release).groups())
    for n, f in feats.items():
        m = re.match(r"(\d+)\.(\d+)", f["since"])
        if m and tuple(int(x) for x in m.groups()) <= release:
            check(f["present"], "%s (since %s) missing on %s" % (n, f["since"], os.uname().release))
        if not f["present"]:
            check(f["fallback"] is not None, "%s missing and required" % n)
    for name in ("btf", "ringbuf", "iter_task_file", "drop_reason_no_socket", "kfree_skb_rx_sk",
                 "bpf_task_pt_regs", "tp_netif_receive_skb", "privileges"):
        check(name in feats, "feature %s listed" % name)
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", PORTWATCH, "check", "-j"],
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 1, "check exit status without privileges")
    d = json.loads(r.stdout)
    eq((d["can_run"], {f["name"]: f["present"] for f in d["features"]}["privileges"]), (False, False),
       "unprivileged: cannot run")
    # -vv prints the same table when a session starts.
    r = subprocess.run([PORTWATCH, "trace", "-vv", "--duration", "0.5"], capture_output=True, text=True,
                       timeout=30)
    check("portwatch can run" in r.stderr and "drop_reason_no_socket" in r.stderr,
          "-vv feature table: %r" % r.stderr[:300])
