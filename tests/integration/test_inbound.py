# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Inbound traffic per port, the port table, exposure and baseline alerts:
real servers and real packet tools (nginx, redis, python, socat, hping3,
nmap) in namespaces this test owns; counts checked against the kernel's own
counters (nstat)."""
import json
import os
import re
import subprocess
import time

from pwtest import (NO_DROP_REASONS, PORTWATCH, SOCKPROBE, Held, Netns, TestFailure, Tracer, alerts, check,
                    eq, fallback, final_ports, find, has_feature, link, map_memory, nginx, nstat, probe, rss_kib,
                    test, wait_port)


def pair(tag):
    srv, cli = Netns(tag + "s"), Netns(tag + "c")
    addrs = link(srv, cli)
    return srv, cli, addrs


def ports_json(*args, everything=False):
    """ports -j: its port records (everything: its pool records too)."""
    r = subprocess.run([PORTWATCH, "ports", "-j"] + list(args), capture_output=True, text=True,
                       timeout=30)
    eq(r.returncode, 0, "ports exit status (%s)" % r.stderr.strip())
    recs = [json.loads(l) for l in r.stdout.splitlines()]
    return recs if everything else [r for r in recs if r["type"] == "port"]


def by_port(records, port, proto="tcp"):
    got = [r for r in records if r["port"] == port and r["proto"] == proto]
    check(len(got) == 1, "one record for %s/%d: %r" % (proto, port, got))
    return got[0]


@test
def ports_names_real_servers_and_flags_exposure():
    srv, cli, (s4, c4, s6, c6) = pair("ports")
    d = "/tmp/pwt-redis-%d" % os.getpid()
    os.makedirs(d, exist_ok=True)
    procs = {
        "nginx": nginx(srv, s4 + ":8080", "ports"),
        "redis-wild": srv.popen(["redis-server", "--bind", "0.0.0.0", "--port", "6379", "--save", "",
                                 "--appendonly", "no", "--dir", d],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        "redis-lo": srv.popen(["redis-server", "--bind", "127.0.0.1", "--port", "6380", "--save", "",
                               "--appendonly", "no", "--dir", d],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        "python": srv.popen(["python3", "-m", "http.server", "--bind", s6, "8000"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        "socat": srv.popen(["socat", "UDP6-RECVFROM:5353,bind=[%s],fork" % s6, "SYSTEM:true"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    }
    for port in (8080, 6379):
        wait_port(cli, s4, port)
    wait_port(cli, s6, 8000)
    wait_port(srv, "127.0.0.1", 6380)
    time.sleep(0.3)
    allrecs = ports_json("--netns", srv.name, everything=True)
    check(all(r["type"] in ("port", "pool") and r["netns"] == srv.inode for r in allrecs),
          "ports and pools of that namespace only")
    recs = [r for r in allrecs if r["type"] == "port"]
    ngx = by_port(recs, 8080)
    eq((ngx["state"], ngx["addresses"], ngx["service"]), ("listening", [s4], "http-alt"), "nginx port")
    check(procs["nginx"].pid in [o["pid"] for o in ngx["owners"]] and
          all(o["comm"] == "nginx" for o in ngx["owners"]), "nginx owners %r" % ngx["owners"])
    rw = by_port(recs, 6379)
    eq((rw["owners"][0]["pid"], rw["owners"][0]["comm"], rw["addresses"], rw["service"]),
       (procs["redis-wild"].pid, "redis-server", ["0.0.0.0"], "redis"), "redis on 0.0.0.0")
    check("exposed" in rw["flags"], "redis on 0.0.0.0 is flagged exposed: %r" % rw["flags"])
    rl = by_port(recs, 6380)
    eq((rl["owners"][0]["pid"], rl["addresses"]), (procs["redis-lo"].pid, ["127.0.0.1"]), "redis on lo")
    check("exposed" not in rl["flags"] and "loopback" in rl["flags"], "redis on 127.0.0.1: %r" % rl["flags"])
    py = by_port(recs, 8000)
    eq((py["owners"][0]["pid"], py["addresses"]), (procs["python"].pid, [s6]), "python http.server")
    check("http.server" in py["owners"][0]["cmdline"], "cmdline %r" % py["owners"][0]["cmdline"])
    so = by_port(recs, 5353, "udp")
    eq((so["owners"][0]["pid"], so["owners"][0]["comm"], so["state"]), (procs["socat"].pid, "socat", "bound"),
       "socat UDP")
    # The same in the text table, escaped, one line per port.
    r = subprocess.run([PORTWATCH, "ports", "--netns", srv.name], capture_output=True, text=True, timeout=30)
    line = [l for l in r.stdout.splitlines() if re.search(r"\b6379\b", l)]
    check(len(line) == 1 and "exposed" in line[0] and "redis-server" in line[0], "table row: %r" % line)
    for p in procs.values():
        p.terminate()


@test
def syn_and_probe_counts_equal_hping3_and_kernel_counters():
    srv, cli, (s4, c4, _, _) = pair("cnt")
    listener = Held(srv, "listen", s4, 8443)
    n = 37
    tr = Tracer("--netns", srv.name, "--interval", "1", command="watch")
    before = nstat(srv, "TcpOutRsts", "UdpNoPorts")
    for args in (["-S", "-p", "8443"], ["-S", "-p", "8444"], ["-2", "-p", "5300"], ["-F", "-p", "8443"]):
        cli.run(["hping3", "-c", str(n), "-i", "u2000", "-q"] + args + [s4], check_rc=False, timeout=30)
    after_wait = time.time() + 3
    while time.time() < after_wait and nstat(srv, "UdpNoPorts").get("UdpNoPorts", 0) - before.get("UdpNoPorts", 0) < n:
        time.sleep(0.1)
    recs = tr.stop()
    listener.close()
    after = nstat(srv, "TcpOutRsts", "UdpNoPorts")
    last = final_ports(recs)
    opn = last[(srv.inode, "tcp", 8443)]["counters"]
    closed = last[(srv.inode, "tcp", 8444)]["counters"]
    eq(opn["syn_in"], n, "SYNs to the open port")
    # Refused by the open port for their flags; counted in this namespace (regression:
    # the device is gone by then, the receiving socket names the namespace, v6.12).
    eq(opn["flag_probes"], n if has_feature("kfree_skb_rx_sk") else 0, "FINs refused by the open port")
    eq(opn["closed_probes"], 0, "open port: no closed-port drops")
    # Without drop reasons (before 5.17) the SYNs are judged closed from the listeners.
    eq((closed["syn_in"], closed["closed_probes"]), (n, n), "closed TCP port")
    if has_feature("tcp_send_reset_reason"):
        eq(closed["resets_out"], n, "RSTs sent from the closed port")
        eq(closed["resets_out"], after["TcpOutRsts"] - before.get("TcpOutRsts", 0), "RSTs vs TcpOutRsts")
    else:
        eq(closed["resets_out"], 0, "before v6.10 no tracepoint sees RSTs sent without a socket")
    if has_feature("drop_reason_no_socket"):
        # ICMP rate limiting hides most replies; the drops are all counted.
        udp = last[(srv.inode, "udp", 5300)]["counters"]
        eq(udp["closed_probes"], after["UdpNoPorts"] - before.get("UdpNoPorts", 0), "UDP probes vs UdpNoPorts")
        eq(udp["closed_probes"], n, "UDP probes to a closed port")
    else:
        fallback("no drop reason (5.17): UDP probes of closed ports are not seen (kernel: %d)"
                 % (after["UdpNoPorts"] - before.get("UdpNoPorts", 0)))
        check((srv.inode, "udp", 5300) not in last, "no UDP port record without drop reasons")
    eq((last[(srv.inode, "tcp", 8444)]["state"], last[(srv.inode, "tcp", 8443)]["state"]),
       ("closed", "listening"), "states")
    check(last[(srv.inode, "tcp", 8443)]["sources"] == 1, "one distinct source")


@test
def nmap_syn_scan_of_an_open_port_is_counted():
    srv, cli, (s4, _, _, _) = pair("nmap")
    listener = Held(srv, "listen", s4, 8022)
    tr = Tracer("--netns", srv.name, "--interval", "1", command="watch")
    out = cli.run(["nmap", "-n", "-Pn", "-sS", "-p", "8022", "--max-retries", "0", s4], timeout=60).stdout
    recs = tr.stop()
    listener.close()
    check("8022/tcp open" in out, "nmap sees the port open: %s" % out)
    c = final_ports(recs)[(srv.inode, "tcp", 8022)]["counters"]
    # A half-open scan: no TCP tracepoint fires, netif_receive_skb sees it.
    check(c["syn_in"] >= 1 and c["accepts"] == 0, "SYN scan counted: %r" % c)


@test
def trace_reports_syn_probe_and_reset_events_with_counts():
    srv, cli, (s4, c4, _, _) = pair("tev")
    tr = Tracer("--netns", srv.name)
    cli.run(["hping3", "-c", "5", "-i", "u2000", "-q", "-F", "-p", "7001", s4], check_rc=False, timeout=30)
    cli.run(["hping3", "-c", "4", "-i", "u2000", "-q", "-S", "-p", "7002", s4], check_rc=False, timeout=30)
    time.sleep(1.5)  # one map walk
    evs = tr.stop()
    fins = find(evs, event="probe", local_port=7001, remote_addr=c4)
    if has_feature("drop_reason_no_socket"):
        eq((sum(e["count"] for e in fins), {e["probe"] for e in fins}, {e["port_state"] for e in fins}),
           (5, {"fin"}, {"closed"}), "FIN probes")
    else:
        fallback("no drop reason (5.17): FIN probes of closed ports are not seen")
        eq(fins, [], "FIN probes")
    # RSTs sent without a socket are traced from v6.10 on (check: tcp_send_reset_reason).
    eq(sum(e["count"] for e in find(evs, event="reset", local_port=7001)),
       5 if has_feature("tcp_send_reset_reason") else 0, "RSTs answering them")
    syns = find(evs, event="syn", local_port=7002, remote_addr=c4)
    eq(sum(e["count"] for e in syns), 4, "SYNs")
    if not has_feature("drop_reason_no_socket"):
        eq({e.get("port_state") for e in syns}, {"closed"}, "every SYN judged closed from the listeners")
    check(all(e["pid"] is None and e["netns"] == srv.inode for e in fins + syns), "no process, right netns")


@test
def closed_ports_inferred_from_syns_and_listeners():
    # What portwatch does without kfree_skb's drop reason (kernels before 5.17),
    # forced on newer ones: a SYN to a local address and a port no listener
    # covers is a closed-port probe.
    srv, cli, (s4, c4, s6, c6) = pair("inf")
    held = [Held(srv, "listen", s4, 8443), Held(srv, "listen", "127.0.0.1", 8445),
            Held(srv, "listen", "::", 8448)]
    n = 7
    tw = Tracer("--netns", srv.name, "--interval", "1", command="watch", env=NO_DROP_REASONS)
    tt = Tracer("--netns", srv.name, env=NO_DROP_REASONS)
    # A listener that appears after the first judgement: by its listen event.
    for port in (8443, 8444, 8445):
        cli.run(["hping3", "-S", "-c", str(n), "-i", "u2000", "-q", "-p", str(port), s4], check_rc=False,
                timeout=30)
    held.append(Held(srv, "listen", s4, 8446))
    cli.run(["hping3", "-S", "-c", str(n), "-i", "u2000", "-q", "-p", "8446", s4], check_rc=False, timeout=30)
    # IPv6: the dual-stack listener covers it; 8449 has none.
    for port in (8448, 8449):
        cli.run([SOCKPROBE, "connect", "tcp", s6, str(port)], check_rc=False)
    # FIN probes are not SYNs: nothing to judge them by.
    cli.run(["hping3", "-F", "-c", str(n), "-i", "u2000", "-q", "-p", "8447", s4], check_rc=False, timeout=30)
    time.sleep(1.5)  # one map walk
    evs = tt.stop()
    recs = tw.stop()
    for h in held:
        h.close()
    last = final_ports(recs)
    want = {8443: ("listening", 0), 8444: ("closed", n), 8445: ("listening", n), 8446: ("listening", 0),
            8448: ("listening", 0), 8449: ("closed", 1)}
    for port, (state, closed) in want.items():
        r = last[(srv.inode, "tcp", port)]
        eq((r["state"], r["counters"]["syn_in"] >= 1, r["counters"]["closed_probes"]), (state, True, closed),
           "port %d (a listener on another address does not take it)" % port)
    check((srv.inode, "tcp", 8447) not in last, "FIN probes make no port record")
    syns = {p: find(evs, event="syn", local_port=p, remote_addr=c4) for p in (8443, 8444, 8445, 8446)}
    eq({p: (sum(e["count"] for e in es), sorted({str(e.get("port_state")) for e in es})) for p, es in syns.items()},
       {8443: (n, ["None"]), 8444: (n, ["closed"]), 8445: (n, ["closed"]), 8446: (n, ["None"])},
       "trace: SYN counts and port states")
    summary = [l for l in tw.stderr if "closed ports inferred" in l]
    check(summary and re.search(r"\b%d SYNs judged closed" % (2 * n + 1), summary[-1]),
          "summary: %r" % summary)


@test
def spoofed_flood_stays_bounded_and_counted():
    srv, cli, (s4, _, _, _) = pair("fld")
    listener = Held(srv, "listen", s4, 8080)
    n = 60000
    tr = Tracer("--netns", srv.name, "--interval", "1", command="watch")
    r = cli.run(["hping3", "--rand-source", "-S", "-p", "8080", "-c", str(n), "--faster", "-q", s4],
                check_rc=False, timeout=120)
    sent = re.search(r"(\d+) packets transmitted", r.stdout + r.stderr)
    rss = rss_kib(tr.p.pid)
    mem = map_memory(tr.p.pid)
    recs = tr.stop()
    listener.close()
    check(sent, "hping3 summary: %r" % (r.stdout + r.stderr)[-200:])
    c = final_ports(recs)[(srv.inode, "tcp", 8080)]["counters"]
    eq(c["syn_in"], int(sent.group(1)), "every flood SYN counted exactly")
    check(0 < mem <= 16 << 20, "kernel map memory %.1f MiB (<= 16 MiB)" % (mem / 1048576.0))
    check(rss is not None and rss <= 64 * 1024, "userspace RSS %s KiB (<= 64 MiB)" % rss)
    lost = [l for l in tr.stderr if "first sightings not sent" in l or "lost to ring" in l]
    check(lost, "the summary accounts for what was not sent: %r" % tr.stderr)


@test
def baseline_new_listener_and_exposed_alerts():
    srv, cli, (s4, _, _, _) = pair("bl")
    old = Held(srv, "listen", "0.0.0.0", 2222, comm="sshd")
    d = "/tmp/pwt-bl-%d" % os.getpid()
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "baseline")
    r = subprocess.run([PORTWATCH, "ports", "--netns", srv.name, "--write-baseline", base],
                       capture_output=True, text=True, timeout=30)
    eq(r.returncode, 0, "--write-baseline (%s)" % r.stderr)
    with open(base) as f:
        check("tcp 2222 sshd" in f.read().splitlines(), "baseline lists the listener")
    tr = Tracer("--netns", srv.name, "--baseline", base, "--interval", "1", command="watch")
    new = Held(srv, "listen", "0.0.0.0", 4444, comm="backdoor")
    db = Held(srv, "listen", "::", 5432, comm="postgres")
    lo = Held(srv, "listen", "127.0.0.1", 3306, comm="mysqld")
    time.sleep(0.5)
    recs = tr.stop()
    for h in (old, new, db, lo):
        h.close()
    nl = alerts(recs, "new_listener")
    got = sorted((a["port"], a["pid"], a["comm"]) for a in nl)
    eq(got, sorted([(4444, new.report["pid"], "backdoor"), (5432, db.report["pid"], "postgres"),
                    (3306, lo.report["pid"], "mysqld")]), "new_listener alerts (not for 2222)")
    ex = alerts(recs, "exposed_listener")
    eq([(a["port"], a["pid"], a["address"]) for a in ex], [(5432, db.report["pid"], "::")],
       "only the wildcard database listener is exposed")


@test
def half_open_resets_in_and_listen_overflows_match_the_kernel():
    srv, cli, (s4, c4, _, _) = pair("ctr")
    cli.sysctl("net.ipv4.tcp_syn_retries", "1")
    tr = Tracer("--netns", srv.name, "--interval", "1", command="watch")
    # Half open: a SYN from an on-link address nobody answers ARP for; the
    # server's SYN-ACK never arrives anywhere, so it is retransmitted.
    listener = Held(srv, "listen", s4, 7100)
    cli.run(["hping3", "-S", "-c", "1", "-a", "198.18.0.77", "-p", "7100", s4], check_rc=False)
    # Accept-queue overflow: backlog 0 (one slot), nobody accepts, three clients.
    code = ("import socket, time\n"
            "s = socket.socket(); s.bind(('%s', 7200)); s.listen(0)\n"
            "print('ready', flush=True); time.sleep(120)\n" % s4)  # killed below; alive for the census
    full = srv.popen(["python3", "-c", code], stdout=subprocess.PIPE, text=True)
    full.stdout.readline()
    clients = [cli.popen(["python3", "-c", "import socket, time\n"
                          "c = socket.socket(); c.settimeout(4)\n"
                          "try:\n c.connect(('%s', 7200)); time.sleep(3)\nexcept OSError: pass\n" % s4])
               for _ in range(3)]
    # Resets received: a peer that aborts with SO_LINGER 0.
    rst = Held(srv, "listen", s4, 7300)
    cli.run(["python3", "-c", "import socket, struct\n"
             "c = socket.create_connection(('%s', 7300))\n"
             "c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0)); c.close()\n" % s4])
    for c in clients:
        c.wait(10)
    time.sleep(1.5)  # the first SYN-ACK retransmission comes after 1 s
    k = nstat(srv, "TcpExtListenDrops", "TcpExtListenOverflows", "TcpEstabResets")
    recs = tr.stop()
    listener.close()
    rst.close()
    full.kill()
    last = final_ports(recs)
    ho = last[(srv.inode, "tcp", 7100)]["counters"]["half_open"]
    check(ho >= 1, "half-open handshakes counted: %d" % ho)
    ov = last[(srv.inode, "tcp", 7200)]["counters"]["listen_overflows"]
    per_port = {p[2]: r["counters"]["listen_overflows"] for p, r in last.items() if p[0] == srv.inode}
    eq(sum(per_port.values()), k.get("TcpExtListenDrops", 0), "listen drops vs TcpExtListenDrops %r" % per_port)
    check(ov >= 1, "the full accept queue overflowed")
    eq(last[(srv.inode, "tcp", 7300)]["counters"]["resets_in"], 1, "the peer's abort (RST) received")


@test
def top_plain_tables_when_not_a_terminal():
    ns = Netns("topp")
    h = Held(ns, "listen", "127.0.0.1", 6390, comm="pw-top")
    r = subprocess.run([PORTWATCH, "top", "--netns", ns.name, "--duration", "2.5", "--interval", "1"],
                       capture_output=True, text=True, timeout=30)
    h.close()
    eq(r.returncode, 0, "top exit status (%s)" % r.stderr.strip())
    rows = [l for l in r.stdout.splitlines() if re.search(r"\b6390\b", l)]
    check(len(rows) >= 2 and all("pw-top" in l and "listen" in l for l in rows),
          "a plain table every interval: %r" % r.stdout[-400:])


@test
def top_live_view_in_a_terminal():
    ns = Netns("topt")
    h = Held(ns, "listen", "0.0.0.0", 6379, comm="redis-ish")
    session = "pwt-%d" % os.getpid()
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "140", "-y", "30",
                    "TERM=xterm %s top --netns %s; sleep 2" % (PORTWATCH, ns.name)], check=True)
    try:
        screen = ""
        end = time.time() + 15
        while time.time() < end and "redis-ish" not in screen:
            time.sleep(0.3)
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session],
                                    capture_output=True, text=True).stdout
        check("redis-ish" in screen and "exposed" in screen and "sort: activity" in screen,
              "live view shows the exposed listener:\n" + screen)
        subprocess.run(["tmux", "send-keys", "-t", session, "s"], check=True)
        time.sleep(0.8)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                text=True).stdout
        check("sort: port" in screen, "s changes the sort:\n" + screen)
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
        time.sleep(1.5)
        screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                                text=True).stdout
        check("lost to ring-buffer overflow" in screen, "q quits with the summary:\n" + screen)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
        h.close()
