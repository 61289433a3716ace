#!/bin/bash
# Boot Debian's own kernels under qemu (TCG) and run portwatch on each.
#
#   tools/test-kernels.sh [KERNEL-PACKAGE...]
#
# Default packages: the newest linux-image-5.10.0-N-amd64 of Debian 11
# (bullseye, bullseye-security), the newest linux-image-6.1.0-N-amd64 and,
# when apt knows one, the newest linux-image-6.12.N+debXX-amd64. Bullseye's
# package lists are fetched into build-kernels/apt-bullseye with apt's own
# options (the host's sources are left alone; Debian's archive keyring signs
# bullseye). For each package: download it with `apt-get download` into
# build-kernels/debs (cached, nothing is installed), extract vmlinuz and the
# 9p/virtio modules, build a busybox
# initramfs whose /init is tools/kernel-init.sh, boot it with the host's root
# shared read-only over virtio-9p, and read the results from the serial console.
#
# Output: "ok PKG" or "not ok PKG - reason" per kernel, the features `portwatch
# check` reports missing, and "N passed, N failed". Exit 0 when all passed.
#
# Environment: BOOT_TIMEOUT (s, default 180), QEMU_MEM (MiB, default 1024),
# VERBOSE=1 to print whole consoles, KERNEL_INIT=FILE for another /init.
#
# Opt-in integration tests: PW_KERNEL_TESTS="NAME-SUBSTRING ..." (or FULL=1
# for all of them) also runs `tests/integration/run.py NAMES` inside each
# guest after the smoke tests, with PW_BUILD=$ROOT/build, and reports its TAP
# lines (not-ok ones with their diagnostics). The veth module is then added
# to the initramfs; BOOT_TIMEOUT defaults to 1800 and QEMU_MEM to 2048;
# QEMU_SMP (default 1) sets the guest's CPUs. ONLY=5.10 or ONLY=6.1: that
# series alone (what `make test` runs, see tests/run.sh); OLDEST_ONLY=1 is
# ONLY=6.1 (kept for old scripts).
set -u -o pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=$ROOT/build-kernels
INIT=${KERNEL_INIT:-$ROOT/tools/kernel-init.sh}
ITESTS=${PW_KERNEL_TESTS:-}
[ -z "$ITESTS" ] && [ "${FULL:-0}" = 1 ] && ITESTS=ALL
if [ -n "$ITESTS" ]; then
	BOOT_TIMEOUT=${BOOT_TIMEOUT:-1800}
	QEMU_MEM=${QEMU_MEM:-2048}
else
	BOOT_TIMEOUT=${BOOT_TIMEOUT:-180}
	QEMU_MEM=${QEMU_MEM:-1024}
fi
QEMU_SMP=${QEMU_SMP:-1}
VERBOSE=${VERBOSE:-0}

QEMU_PIDS=()
cleanup() {
	local p
	for p in "${QEMU_PIDS[@]}"; do
		kill "$p" 2>/dev/null && sleep 0.2
		kill -9 "$p" 2>/dev/null
	done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM

die() { echo "test-kernels: $*" >&2; exit 1; }
log() { echo "# $*"; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, 9p of /)"
[ -x "$ROOT/build/portwatch" ] || die "build/portwatch missing: run make"
[ -x "$ROOT/build/tests/progs/sockprobe" ] || die "build/tests/progs/sockprobe missing: run make"

need_pkgs=()
command -v qemu-system-x86_64 >/dev/null || need_pkgs+=(qemu-system-x86)
dpkg -s busybox-static >/dev/null 2>&1 || need_pkgs+=(busybox-static)
command -v cpio >/dev/null || need_pkgs+=(cpio)
command -v depmod >/dev/null || need_pkgs+=(kmod)
command -v xz >/dev/null || need_pkgs+=(xz-utils)
command -v zstd >/dev/null || need_pkgs+=(zstd)
if [ ${#need_pkgs[@]} -gt 0 ]; then
	log "installing ${need_pkgs[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${need_pkgs[@]}" >/dev/null || die "apt-get install ${need_pkgs[*]} failed"
fi
BUSYBOX=/bin/busybox
dpkg -s busybox-static >/dev/null 2>&1 && BUSYBOX=$(dpkg -L busybox-static | grep -m1 '/busybox$')

newest() { # newest package whose name matches the regex $1
	apt-cache search --names-only "$1" | cut -d' ' -f1 | sort -V | tail -n 1
}

# Debian 11's kernels (5.10: no drop reasons, no bpf_task_pt_regs) come from
# bullseye, which the host's sources need not list: apt with its own source
# list and state under $CACHE, updated at most once a day.
BULLSEYE=$CACHE/apt-bullseye
BULLSEYE_OPTS=(-o "Dir::Etc::SourceList=$BULLSEYE/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$BULLSEYE/lists" -o "Dir::Cache=$BULLSEYE/cache" -o APT::Sandbox::User=root)
bullseye_apt() {
	mkdir -p "$BULLSEYE/lists/partial" "$BULLSEYE/cache/archives/partial"
	cat >"$BULLSEYE/sources.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
EOF
	if [ -z "$(find "$BULLSEYE/lists" -name '*bullseye-security*Packages' -mmin -1440 2>/dev/null)" ]; then
		apt-get "${BULLSEYE_OPTS[@]}" -q update >"$BULLSEYE/update.log" 2>&1 ||
			{ log "apt-get update of bullseye failed: $(tail -n 1 "$BULLSEYE/update.log")"; return 1; }
	fi
}
is_bullseye() { [[ $1 == linux-image-5.10.* ]]; }

ONLY=${ONLY:-}
[ "${OLDEST_ONLY:-0}" = 1 ] && ONLY=6.1
if [ $# -eq 0 ]; then
	if [ -z "$ONLY" ] || [ "$ONLY" = 5.10 ]; then
		k510=
		bullseye_apt && k510=$(apt-cache "${BULLSEYE_OPTS[@]}" search --names-only \
			'^linux-image-5\.10\.0-[0-9]+-amd64$' | cut -d' ' -f1 | sort -V | tail -n 1)
		[ -n "$k510" ] || die "no linux-image-5.10.0-N-amd64 in bullseye (see $BULLSEYE/update.log)"
		set -- "$k510"
	fi
	if [ -z "$ONLY" ] || [ "$ONLY" = 6.1 ]; then
		k61=$(newest '^linux-image-6\.1\.0-[0-9]+-amd64$')
		[ -n "$k61" ] || die "apt-cache finds no linux-image-6.1.0-N-amd64 (apt-get update?)"
		set -- "$@" "$k61"
	fi
	if [ -z "$ONLY" ]; then
		k612=$(newest '^linux-image-6\.12\.[0-9]+(\+deb[0-9]+)?-amd64$')
		if [ -n "$k612" ]; then
			set -- "$@" "$k612"
		else
			log "no linux-image-6.12.*-amd64 in apt's sources: skipped"
		fi
	fi
	[ $# -gt 0 ] || die "ONLY=$ONLY: not a series of the matrix (5.10, 6.1)"
	[ -n "$ONLY" ] && log "ONLY=$ONLY: $*"
fi

mkdir -p "$CACHE/debs"

# prepare PKG -> sets KDIR (with vmlinuz, initrd.img) or returns 1 with REASON
prepare() {
	local pkg=$1 deb root moddir kver
	KDIR=$CACHE/$pkg
	deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1)
	if [ -z "$deb" ]; then
		log "$pkg: apt-get download"
		local opts=(-o APT::Sandbox::User=root)
		if is_bullseye "$pkg"; then
			bullseye_apt || { REASON="apt-get update of bullseye failed"; return 1; }
			opts=("${BULLSEYE_OPTS[@]}")
		fi
		(cd "$CACHE/debs" && apt-get -q "${opts[@]}" download "$pkg" >"$CACHE/debs/$pkg.log" 2>&1) ||
			{ REASON="apt-get download failed: $(tail -n 1 "$CACHE/debs/$pkg.log")"; return 1; }
		deb=$(ls "$CACHE"/debs/"${pkg}"_*.deb 2>/dev/null | sort -V | tail -n 1)
		[ -n "$deb" ] || { REASON="no .deb after apt-get download"; return 1; }
	fi
	root=$KDIR/root
	if [ ! -e "$KDIR/.extracted" ] || [ "$deb" -nt "$KDIR/.extracted" ]; then
		rm -rf "$KDIR"; mkdir -p "$root"
		dpkg-deb -x "$deb" "$root" || { REASON="dpkg-deb -x failed"; return 1; }
		touch "$KDIR/.extracted"
	fi
	moddir=$(ls -d "$root"/lib/modules/*/ "$root"/usr/lib/modules/*/ 2>/dev/null | head -n 1)
	[ -n "$moddir" ] || { REASON="no lib/modules in $deb"; return 1; }
	moddir=${moddir%/}; kver=$(basename "$moddir")
	KVER=$kver
	local vmlinuz=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -n 1)
	[ -n "$vmlinuz" ] || { REASON="no boot/vmlinuz in $deb"; return 1; }
	ln -sf "$vmlinuz" "$KDIR/vmlinuz"
	if [ ! -s "$moddir/modules.dep" ]; then
		# depmod -b wants BASE/lib/modules/KVER
		local base=$KDIR/depmod
		mkdir -p "$base/lib/modules"
		ln -sfn "$moddir" "$base/lib/modules/$kver"
		depmod -b "$base" "$kver" 2>"$KDIR/depmod.err" || { REASON="depmod: $(head -n 1 "$KDIR/depmod.err")"; return 1; }
	fi

	# initramfs: busybox, /init, modules in load order (decompressed)
	local ird=$KDIR/initramfs
	rm -rf "$ird"; mkdir -p "$ird"/{bin,sbin,proc,sys,dev,tmp,newroot,modules}
	cp "$BUSYBOX" "$ird/bin/busybox"
	ln -s busybox "$ird/bin/sh"
	cp "$INIT" "$ird/init"; chmod 755 "$ird/init"
	local order wanted="9p 9pnet_virtio virtio_pci"
	if [ -n "$ITESTS" ]; then
		# /init runs tests/integration/run.py with these arguments
		if [ "$ITESTS" = ALL ]; then : >"$ird/pwtests"; else echo "$ITESTS" >"$ird/pwtests"; fi
		wanted="$wanted veth"
	fi
	order=$(python3 - "$moddir" $wanted <<'EOF'
import os, re, sys
moddir, wanted = sys.argv[1], sys.argv[2:]
norm = lambda p: re.sub(r'\.ko(\..*)?$', '', os.path.basename(p)).replace('-', '_')
deps, path = {}, {}
for line in open(os.path.join(moddir, 'modules.dep')):
    mod, _, rest = line.partition(':')
    path[norm(mod)] = mod
    deps[norm(mod)] = [norm(d) for d in rest.split()]
builtin = set()
try:
    builtin = {norm(l.strip()) for l in open(os.path.join(moddir, 'modules.builtin'))}
except OSError:
    pass
out, seen = [], set()
def visit(m):
    if m in seen:
        return
    seen.add(m)
    for d in deps.get(m, []):
        visit(d)
    out.append(m)
for w in wanted:
    w = w.replace('-', '_')
    if w in builtin:
        continue
    if w not in path:
        sys.exit('module %s neither built in nor in modules.dep' % w)
    visit(w)
for m in out:
    print(path[m])
EOF
	) || { REASON="module resolution failed: $order"; return 1; }
	: >"$ird/modules/order"
	local m f name
	for m in $order; do
		f=$moddir/$m; name=$(basename "$m"); name=${name%%.ko*}.ko
		case "$m" in
		*.ko.xz) xz -dc "$f" >"$ird/modules/$name" ;;
		*.ko.zst) zstd -qdc "$f" >"$ird/modules/$name" ;;
		*.ko.gz) gzip -dc "$f" >"$ird/modules/$name" ;;
		*) cp "$f" "$ird/modules/$name" ;;
		esac || { REASON="cannot decompress $m"; return 1; }
		echo "$name" >>"$ird/modules/order"
	done
	(cd "$ird" && find . | sort | cpio -o -H newc --quiet | gzip -1) >"$KDIR/initrd.img" ||
		{ REASON="cpio failed"; return 1; }
	MODS=$(tr '\n' ' ' <"$ird/modules/order")
	return 0
}

# boot PKG -> console in $KDIR/console.log
boot() {
	local log=$KDIR/console.log pid rc
	rm -f "$log"
	qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$QEMU_SMP" -m "$QEMU_MEM" \
		-display none -monitor none -serial "file:$log" -no-reboot -nodefaults \
		-kernel "$KDIR/vmlinuz" -initrd "$KDIR/initrd.img" \
		-append "console=ttyS0 panic=-1 loglevel=4 pwdir=$ROOT" \
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap" \
		-virtfs "local,path=$ROOT,mount_tag=pwrepo,security_model=none,readonly=on,multidevs=remap" \
		>"$KDIR/qemu.out" 2>&1 </dev/null &
	pid=$!
	QEMU_PIDS=("$pid")	# one boot at a time
	local t0=$SECONDS timed_out=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $((SECONDS - t0)) -ge "$BOOT_TIMEOUT" ]; then
			timed_out=1
			kill "$pid" 2>/dev/null; sleep 0.5; kill -9 "$pid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$pid" 2>/dev/null; rc=$?
	QEMU_PIDS=()	# reaped: never kill a reused pid
	[ $timed_out = 1 ] && return 124
	return $rc
}

# report PKG QEMU-RC SECONDS -> prints the verdict, returns 0 when ok
report() {
	python3 - "$KDIR/console.log" "$1" "$2" "$3" "$VERBOSE" "$KDIR/qemu.out" <<'EOF'
import json, re, sys
log, pkg, qrc, secs, verbose, qout = sys.argv[1:]
try:
    text = open(log, errors='replace').read().replace('\r', '')
except OSError:
    text = ''
lines = text.split('\n')
if verbose == '1':
    print('\n'.join('#   ' + l for l in lines))

def block(name):
    out, inside = [], False
    for l in lines:
        if l.startswith('@@PW BEGIN %s' % name) and l.strip() == '@@PW BEGIN %s' % name:
            inside, out = True, []
        elif inside and l.startswith('@@PW END %s' % name):
            m = re.search(r'rc=(\d+)', l)
            return out, int(m.group(1)) if m else None
        elif inside:
            out.append(l)
    return (out, None) if inside else (None, None)

def marker(word):
    return [l for l in lines if l.startswith('@@PW ' + word)]

reasons, notes = [], []
boot = marker('BOOTED')
if not boot:
    tail = [l for l in lines if l.strip()][-5:]
    try:
        tail += [l for l in open(qout).read().split('\n') if l.strip()][-3:]
    except OSError:
        pass
    reasons.append('did not reach /init (%s)' % ('timed out' if qrc == '124' else 'qemu rc=%s' % qrc))
    notes += ['console: ' + l for l in tail]
for f in marker('INSMOD-FAIL') + marker('FATAL'):
    notes.append(f[5:])
if boot and not marker('FATAL') and not marker('DONE'):
    reasons.append('no DONE marker (%s)' % ('timed out' if qrc == '124' else 'qemu rc=%s' % qrc))

chk, crc = block('check')
if chk is not None:
    js = next((l for l in chk if l.startswith('{')), None)
    try:
        c = json.loads(js) if js else None
    except ValueError:
        c = None
    if c is None:
        reasons.append('check -j printed no JSON (rc=%s)' % crc)
    else:
        missing = [f for f in c.get('features', []) if not f.get('present')]
        notes.append('check: kernel %s can_run=%s rc=%s, %d missing' %
                     (c.get('kernel'), c.get('can_run'), crc, len(missing)))
        for f in missing:
            notes.append('  missing %-26s since %-22s used for: %s; fallback: %s%s' % (
                f.get('name'), f.get('since'), f.get('used_for'), f.get('fallback'),
                ' (%s)' % f['detail'] if f.get('detail') else ''))
        if crc != 0 or not c.get('can_run'):
            reasons.append('check says it cannot run (rc=%s)' % crc)
        # What each kernel of the matrix is known to lack (read from its BTF and
        # source; see README "Kernels tested"): check must say exactly that.
        known = {'5.10': {'drop_reason_no_socket', 'drop_reason_netfilter', 'drop_reason_tcp_flags',
                          'kfree_skb_rx_sk', 'tcp_send_reset_reason', 'bpf_task_pt_regs'},
                 '6.1': {'kfree_skb_rx_sk', 'tcp_send_reset_reason'}, '6.12': set()}
        series = '.'.join(str(c.get('kernel', '')).split('.')[:2])
        if series in known and {f.get('name') for f in missing} != known[series]:
            reasons.append('check on %s reports missing %s, expected %s' % (
                series, sorted(f.get('name') for f in missing), sorted(known[series])))
    err, _ = block('check-stderr')
    if err:
        notes += ['check stderr: ' + l for l in err if l.strip()]
elif boot:
    reasons.append('check did not run')

for test in ('trace', 'ports'):
    res = marker('RESULT %s ' % test)
    if res:
        r = res[-1][len('@@PW RESULT %s ' % test):]
        notes.append('%s smoke test: %s' % (test, r))
        if not r.startswith('ok'):
            reasons.append('%s: %s' % (test, r[len('fail '):]))
            terr, _ = block(test + '-stderr')
            notes += ['%s stderr: %s' % (test, l) for l in (terr or []) if l.strip()]
    elif boot and chk is not None:
        reasons.append('%s smoke test did not finish' % test)
    vv, _ = block(test + '-vv')
    if vv:
        notes += ['%s -vv: %s' % (test, l) for l in vv]

its, irc = block('itests')
if its is not None or marker('ITESTS'):
    if its is None:
        its = []
        inside = False
        for l in lines:
            if l.strip() == '@@PW BEGIN itests':
                inside = True
            elif inside:
                its.append(l)
    oks = [l for l in its if re.match(r'ok \d+ ', l)]
    bad = [l for l in its if re.match(r'not ok \d+ ', l)]
    plan = next((l for l in its if re.match(r'1\.\.\d+$', l.strip())), None)
    planned = int(plan.strip()[3:]) if plan else None
    notes.append('integration tests: %d ok, %d not ok%s%s' % (
        len(oks), len(bad), ' of %d planned' % planned if planned is not None else '',
        '' if irc is not None else ' (run.py did not finish)'))
    for l in oks:
        notes.append('  ' + l)
    for i, l in enumerate(its):
        if re.match(r'not ok \d+ ', l):
            notes.append('  ' + l)
            for d in its[i + 1:]:
                if d.startswith('ok ') or d.startswith('not ok ') or d.startswith('@@PW'):
                    break
                notes.append('    ' + d)
    if bad:
        reasons.append('%d integration test(s) not ok' % len(bad))
    if irc is None:
        reasons.append('integration tests did not finish')
    elif planned is not None and len(oks) + len(bad) != planned:
        reasons.append('integration tests: %d of %d reported' % (len(oks) + len(bad), planned))
    ie, _ = block('itests-stderr')
    notes += ['itests stderr: ' + l for l in (ie or []) if l.strip()]

times = [l for l in marker('DONE')]
if times:
    notes.append('guest: ' + times[-1][5:] + ', host wall %ss' % secs)
else:
    notes.append('host wall %ss' % secs)
if reasons:
    print('not ok %s - %s' % (pkg, '; '.join(reasons)))
else:
    print('ok %s' % pkg)
for n in notes:
    print('#   ' + n)
sys.exit(1 if reasons else 0)
EOF
}

passed=0 failed=0
for pkg in "$@"; do
	t0=$(date +%s.%N)
	REASON= KDIR= KVER= MODS=
	if ! prepare "$pkg"; then
		echo "not ok $pkg - $REASON"
		failed=$((failed + 1))
		continue
	fi
	t1=$(date +%s.%N)
	log "$pkg: kernel $KVER, modules: $MODS(prepared in $(python3 -c "print('%.1f' % ($t1 - $t0))")s)"
	boot; qrc=$?
	t2=$(date +%s.%N)
	secs=$(python3 -c "print('%.1f' % ($t2 - $t1))")
	if report "$pkg" "$qrc" "$secs"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		log "console: $KDIR/console.log"
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
