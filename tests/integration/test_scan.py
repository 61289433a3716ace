# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Port-scan detection with real nmap and hping3 from a second namespace:
every technique named, detected by the 6th closed or filtered probe within
250 ms, no alert on benign traffic, still detected during a spoofed flood.
Slow timings (-T2, -T1, --scan-delay) and a long flood: make test-slow."""
import datetime
import json
import os
import re
import subprocess
import time

from pwtest import (NO_DROP_REASONS, Held, Netns, TestFailure, Tracer, alerts, check, eq, fallback, has_feature,
                    link, map_memory, nginx, rss_kib, slow, test, wait_port, SOCKPROBE)


def iso(ts):
    return datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ")


def lab(tag):
    srv, cli = Netns(tag + "s"), Netns(tag + "c")
    s4, c4, s6, c6 = link(srv, cli)
    # Two open ports inside the scanned range: connect scans complete there.
    listeners = [Held(srv, "listen", s4, 22), Held(srv, "listen", "::", 53)]
    return srv, cli, s4, c4, s6, c6, listeners


def scans(recs, phase=None):
    return [a for a in alerts(recs, "port_scan") if phase is None or a["phase"] == phase]


def run_scan(technique, timing=None, extra=(), ports="1-60", six=False, env=None):
    srv, cli, s4, c4, s6, c6, held = lab(technique.strip("-") + (timing or "").strip("-"))
    tr = Tracer("--netns", srv.name, "--interval", "60", command="watch", env=env)
    args = ["nmap", "-n", "-Pn", technique, "-p", ports, "--max-retries", "0"] + list(extra)
    if timing:
        args.append(timing)
    if six:
        args.append("-6")
    out = cli.run(args + [s6 if six else s4], timeout=900).stdout
    time.sleep(0.5)
    recs = tr.stop()
    for h in held:
        h.close()
    return srv, (c6 if six else c4), recs, out


def check_detected(technique_flag, name, srv, source, recs, max_failures=6):
    det = scans(recs, "detected")
    eq(len(det), 1, "%s: one detection" % technique_flag)
    a = det[0]
    eq((a["source"], a["netns"], a["technique"]), (source, srv.inode, name), "%s alert" % technique_flag)
    check(a["failures"] <= max_failures, "%s: detected at failure %d (goal: by %d)"
          % (technique_flag, a["failures"], max_failures))
    late = (iso(a["ts"]) - iso(a["last_seen"])).total_seconds()
    check(late <= 0.25, "%s: alert %.0f ms after the probe (goal 250 ms)" % (technique_flag, late * 1000))
    end = scans(recs, "end")
    check(end and end[-1]["ports_probed"] >= 50, "%s: final summary: %r" % (technique_flag, end))
    print("# measured %s: detected at failure %d (success %d), %.1f ms after the probe"
          % (technique_flag, a["failures"], a["successes"], late * 1000), flush=True)
    return a, end[-1]


def technique_test(flag, name):
    if name not in ("syn", "connect") and not has_feature("drop_reason_no_socket"):
        # Only kfree_skb's drop reason (5.17) sees these probes: SYNs are all
        # the inference from listeners has.
        fallback("no drop reason (5.17): %s probes are not seen, no %s scan is detected" % (flag, name))
        srv, src, recs, _ = run_scan(flag)
        eq(scans(recs), [], "%s: no alert" % flag)
        return
    for timing in (None, "-T4", "-T5"):
        srv, src, recs, _ = run_scan(flag, timing)
        label = flag + (" " + timing if timing else "")
        a, end = check_detected(label, name, srv, src, recs)
        if name in ("syn", "connect"):
            eq(sorted(end["open_ports"]), [22, 53], "%s: open ports found" % label)
        eq(end["direction"], "vertical", "many ports, one address")


@test
def scan_syn():
    technique_test("-sS", "syn")


@test
def scan_connect():
    technique_test("-sT", "connect")


@test
def scan_fin():
    technique_test("-sF", "fin")


@test
def scan_null():
    technique_test("-sN", "null")


@test
def scan_xmas():
    technique_test("-sX", "xmas")


@test
def scan_ack():
    technique_test("-sA", "ack")


@test
def scan_udp():
    technique_test("-sU", "udp")


@test
def scan_ipv6():
    srv, src, recs, _ = run_scan("-sS", six=True)
    check_detected("-sS -6", "syn", srv, src, recs)


@test
def scan_syn_inferred_without_drop_reasons():
    # Kernels before 5.17 (forced on newer ones): the failures are SYNs judged
    # closed from the listeners, the successes SYNs to the two open ports.
    for timing in (None, "-T5"):
        srv, src, recs, _ = run_scan("-sS", timing, env=NO_DROP_REASONS)
        label = "-sS" + (" " + timing if timing else "") + " (inferred)"
        a, end = check_detected(label, "syn", srv, src, recs)
        eq((sorted(end["open_ports"]), end["failures"]), ([22, 53], 58), "%s: open ports, failures" % label)


@test
def scan_from_allowed_source_is_not_reported():
    srv, cli, s4, c4, _, _, held = lab("allow")
    tr = Tracer("--netns", srv.name, "--allow", "198.18.0.0/24", "--interval", "60", command="watch")
    cli.run(["nmap", "-n", "-Pn", "-sS", "-p", "1-60", "--max-retries", "0", s4], timeout=120)
    recs = tr.stop()
    for h in held:
        h.close()
    eq(scans(recs), [], "no alert for an --allow'ed scanner")


@test
def benign_traffic_raises_no_scan_alert():
    srv, cli, s4, c4, _, _, held = lab("benign")
    ngx = nginx(srv, s4 + ":8080", "benign")
    wait_port(cli, s4, 8080)
    tr = Tracer("--netns", srv.name, "--interval", "60", command="watch")
    # A busy web server: many clients, many connections.
    code = ("import socket\n"
            "for i in range(400):\n"
            " c = socket.create_connection(('%s', 8080)); c.sendall(b'GET / HTTP/1.0\\r\\n\\r\\n')\n"
            " c.recv(100); c.close()\n" % s4)
    workers = [cli.popen(["python3", "-c", code]) for _ in range(4)]
    # Health checks: connect and close, again and again.
    for _ in range(20):
        cli.run([SOCKPROBE, "connect", "tcp", s4, "8080"])
    # One client retrying one closed port many times.
    for _ in range(30):
        cli.run([SOCKPROBE, "connect", "tcp", s4, "9999"], check_rc=False)
    # Late replies to closed ports: ACKs and FIN/ACKs from a service port.
    cli.run(["hping3", "-A", "-s", "443", "-p", "++40000", "-c", "20", "-i", "u2000", "-q", s4], check_rc=False)
    cli.run(["hping3", "-F", "-A", "-s", "80", "-p", "++41000", "-c", "20", "-i", "u2000", "-q", s4],
            check_rc=False)
    # A (non-spoofed) SYN flood to one open port.
    cli.run(["hping3", "-S", "-p", "8080", "-c", "5000", "--faster", "-q", s4], check_rc=False, timeout=60)
    for w in workers:
        w.wait(120)
    time.sleep(2.5)  # let pending SYNs resolve
    recs = tr.stop()
    ngx.terminate()
    for h in held:
        h.close()
    eq(scans(recs), [], "benign traffic: no port_scan alert")


def flood_with_scan(n, one_cpu=False):
    # one_cpu: portwatch, the flood, the scan and their softirqs share one CPU,
    # so the flood empties that CPU's first-sighting budget before the scan.
    cpus = os.sched_getaffinity(0)
    if one_cpu:
        os.sched_setaffinity(0, {min(cpus)})  # inherited by every process started below
    try:
        srv, cli, s4, c4, _, _, held = lab("flood")
        tr = Tracer("--netns", srv.name, "--interval", "60", command="watch")
        flood = cli.popen(["hping3", "--rand-source", "-S", "-p", "53", "-c", str(n), "--faster", "-q", s4],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.2)
        cli.run(["nmap", "-n", "-Pn", "-sS", "-p", "1-60", "--max-retries", "0", s4], timeout=600)
        flood.wait(900)
        rss = rss_kib(tr.p.pid)
        mem = map_memory(tr.p.pid)
        recs = tr.stop()
    finally:
        os.sched_setaffinity(0, cpus)
    check(0 < mem <= 16 << 20, "kernel map memory %.1f MiB <= 16 MiB" % (mem / 1048576.0))
    for h in held:
        h.close()
    det = [a for a in scans(recs, "detected") if a["source"] == c4]
    check(det, "the real scan was detected during the flood")
    check(det[0]["failures"] <= 12, "detected at failure %d (goal: by the 12th probe)" % det[0]["failures"])
    fake = [a for a in scans(recs) if a["source"] != c4]
    eq(fake, [], "no spoofed source reported as a scanner")
    check(rss <= 64 * 1024, "userspace RSS %d KiB <= 64 MiB" % rss)
    print("# measured flood of %d: scan detected at failure %d, maps %.1f MiB, RSS %.1f MiB"
          % (n, det[0]["failures"], mem / 1048576.0, rss / 1024.0), flush=True)


@test
def scan_detected_during_spoofed_flood_with_bounded_memory():
    flood_with_scan(60000)


@test
def scan_detected_during_spoofed_flood_on_one_cpu():
    # Found by the kernel-matrix work: the scan went unseen here 3 times in 4
    # (the SYNs' records were rate-limited and their fates named no probe).
    flood_with_scan(60000, one_cpu=True)


@slow
def slow_scan_detected_during_60s_spoofed_flood():
    flood_with_scan(8700000)  # ~60 s at the ~145k packets/s hping3 reaches here


@slow
def slow_scan_timings():
    # -T2: 0.4 s between probes; -T1: 15 s; --scan-delay 20s: no rate detector sees these.
    for flag, ports, extra in (("-T2", "1-40", ()), ("-T1", "20-31", ()),
                               (None, "20-28", ("--scan-delay", "20s"))):
        srv, src, recs, _ = run_scan("-sS", flag, extra=extra, ports=ports)
        a = scans(recs, "detected")
        check(len(a) == 1 and a[0]["failures"] <= 6, "%s: %r" % (flag or extra, a))
        late = (iso(a[0]["ts"]) - iso(a[0]["last_seen"])).total_seconds()
        check(late <= 0.25, "%s: alert %.0f ms after the probe" % (flag or extra, late * 1000))
