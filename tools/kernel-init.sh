#!/bin/busybox sh
# /init of the tiny initramfs built by tools/test-kernels.sh.
#
# Runs inside a qemu guest booted on a Debian kernel: loads the 9p modules
# listed in /modules/order, mounts the host's root read-only over virtio-9p
# (mount tag "hostroot"), chroots into it and runs portwatch's checks there,
# printing everything between "@@PW" markers on the console, then powers off.
#
# Kernel command line parameters read from the environment:
#   pwdir=DIR   the portwatch checkout on the host (default /work/main)

/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin

mkdir -p /proc /sys /dev /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1

PWDIR=${pwdir:-/work/main}

say() { echo "@@PW $*"; }
fail() {
	say "FATAL $*"
	sync
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
}

say BOOTED kernel=$(uname -r) uptime=$(cut -d' ' -f1 /proc/uptime)

# Modules, in dependency order (written by the driver).
if [ -f /modules/order ]; then
	while read -r m; do
		[ -n "$m" ] || continue
		out=$(insmod "/modules/$m" 2>&1) || {
			case "$out" in
			*"File exists"*) ;;
			*) say "INSMOD-FAIL $m: $out" ;;
			esac
		}
	done </modules/order
fi

# virtio-9p devices may appear slightly after the driver loads.
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 \
	hostroot /newroot 2>/tmp/mnt.err; do
	i=$((i + 1))
	[ $i -ge 20 ] && fail "cannot mount hostroot over 9p: $(cat /tmp/mnt.err)"
	sleep 0.2
done
say MOUNTED uptime=$(cut -d' ' -f1 /proc/uptime)

R=/newroot
mount -t proc proc $R/proc || fail "mount proc"
mount -t sysfs sysfs $R/sys || fail "mount sysfs"
mount -t devtmpfs devtmpfs $R/dev || fail "mount devtmpfs"
mkdir -p $R/dev/pts 2>/dev/null
mount -t devpts devpts $R/dev/pts 2>/dev/null
mount -t tmpfs tmpfs $R/tmp || fail "mount tmpfs /tmp"
mount -t tmpfs tmpfs $R/run || fail "mount tmpfs /run"
# The checkout again, on its own: under /tmp (a CI clone) the tmpfs above hides it.
mkdir -p $R$PWDIR 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 pwrepo $R$PWDIR ||
	fail "cannot mount the checkout ($PWDIR) over 9p"
mount -t cgroup2 cgroup2 $R/sys/fs/cgroup 2>/dev/null
mount -t bpf bpf $R/sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs $R/sys/kernel/tracing 2>/dev/null
mount -t debugfs debugfs $R/sys/kernel/debug 2>/dev/null
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up

# The test itself, run by the host's /bin/sh inside the chroot.
cat >$R/tmp/pwtest.sh <<'EOF'
PW=$PWDIR/build/portwatch
PROBE=$PWDIR/build/tests/progs/sockprobe
say() { echo "@@PW $*"; }
cd /tmp

say BEGIN check
"$PW" check -j >/tmp/check.out 2>/tmp/check.err
rc=$?
cat /tmp/check.out
say END check rc=$rc
if [ -s /tmp/check.err ]; then
	say BEGIN check-stderr
	tail -n 40 /tmp/check.err
	say END check-stderr
fi

# Smoke test: a bind by sockprobe must show up in trace's JSON.
say BEGIN trace
"$PW" trace -j --duration 6 >/tmp/trace.out 2>/tmp/trace.err &
tpid=$!
i=0
while ! grep -q 'portwatch: ready' /tmp/trace.err 2>/dev/null; do
	kill -0 $tpid 2>/dev/null || break
	i=$((i + 1))
	[ $i -ge 100 ] && break
	sleep 0.1
done
"$PROBE" bind tcp 127.0.0.1 0 >/tmp/probe.out 2>&1
prc=$?
wait $tpid
trc=$?
echo "probe rc=$prc: $(cat /tmp/probe.out)"
cat /tmp/trace.out
say END trace rc=$trc
say BEGIN trace-stderr
tail -n 40 /tmp/trace.err
say END trace-stderr

ppid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' /tmp/probe.out | head -n 1)
if [ $prc -ne 0 ] || [ -z "$ppid" ]; then
	say RESULT trace fail sockprobe failed rc=$prc
elif grep '"event":"bind"' /tmp/trace.out | grep -q "\"pid\":$ppid,"; then
	say RESULT trace ok pid=$ppid
elif [ $trc -ne 0 ]; then
	say RESULT trace fail portwatch trace exited $trc
else
	say RESULT trace fail no bind event for pid $ppid
fi

# Smoke test: a listener held by sockprobe must show up in ports' census
# (the task/file iterator), owned by its pid.
say BEGIN ports
mkfifo /tmp/hold
"$PROBE" --comm pwsmoke listen 127.0.0.1 0 hold </tmp/hold >/tmp/listen.out 2>&1 &
lpid=$!
exec 9>/tmp/hold
i=0
until grep -q '"port"' /tmp/listen.out 2>/dev/null || [ $i -ge 50 ]; do
	i=$((i + 1)); sleep 0.1
done
lport=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' /tmp/listen.out | head -n 1)
"$PW" ports -j >/tmp/ports.out 2>/tmp/ports.err
prc=$?
exec 9>&-
wait $lpid
echo "listener: $(cat /tmp/listen.out)"
grep "\"port\":$lport," /tmp/ports.out
say END ports rc=$prc
say BEGIN ports-stderr
tail -n 40 /tmp/ports.err
say END ports-stderr
if [ -z "$lport" ]; then
	say RESULT ports fail sockprobe listen failed
elif [ $prc -ne 0 ]; then
	say RESULT ports fail portwatch ports exited $prc
elif grep "\"port\":$lport," /tmp/ports.out | grep '"state":"listening"' | grep -q "\"pid\":$lpid,"; then
	say RESULT ports ok port=$lport pid=$lpid
else
	say RESULT ports fail listener port $lport pid $lpid not in ports -j
fi

# When anything failed, the loader's story with libbpf's log.
if [ $rc -ne 0 ] || [ $trc -ne 0 ] || [ $prc -ne 0 ]; then
	say BEGIN trace-vv
	"$PW" trace -j -vv --duration 1 >/dev/null 2>/tmp/vv.err
	echo "rc=$?"
	tail -n 40 /tmp/vv.err
	say END trace-vv
	say BEGIN ports-vv
	"$PW" ports -j -vv >/dev/null 2>/tmp/vv.err
	echo "rc=$?"
	tail -n 40 /tmp/vv.err
	say END ports-vv
fi
EOF

say START uptime=$(cut -d' ' -f1 /proc/uptime)
PWDIR=$PWDIR chroot $R /bin/sh /tmp/pwtest.sh
rc=$?

# Opt-in (the driver's PW_KERNEL_TESTS / FULL=1): the integration tests,
# with their arguments in /pwtests. They need writable /run (ip netns),
# /var/lib/nginx, a HOME, and shared mount propagation for /run/netns.
if [ -f /pwtests ]; then
	cp /pwtests $R/tmp/pwtests
	for d in /var/lib/nginx /var/log/nginx /var/cache/nginx /var/tmp; do
		[ -d $R$d ] && mount -t tmpfs tmpfs $R$d
	done
	mkdir -p $R/tmp/home $R/run/netns $R/run/nginx
	cat >$R/tmp/itests.sh <<'EOF'
say() { echo "@@PW $*"; }
mount --make-rshared / 2>/dev/null
export HOME=/tmp/home PYTHONDONTWRITEBYTECODE=1 PW_BUILD=$PWDIR/build
# Timing goals are the host's: tests that measure time say so instead (pwtest.EMULATED).
export PW_EMULATED="qemu TCG, $(grep -c ^processor /proc/cpuinfo) emulated CPU"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
cd /tmp
say ITESTS uptime=$(cut -d' ' -f1 /proc/uptime) args=$(cat /tmp/pwtests)
say BEGIN itests
/usr/bin/python3 "$PWDIR/tests/integration/run.py" $(cat /tmp/pwtests) 2>/tmp/itests.err
irc=$?
say END itests rc=$irc uptime=$(cut -d' ' -f1 /proc/uptime)
if [ -s /tmp/itests.err ]; then
	say BEGIN itests-stderr
	tail -n 40 /tmp/itests.err
	say END itests-stderr
fi
EOF
	PWDIR=$PWDIR chroot $R /bin/sh /tmp/itests.sh
fi
say DONE rc=$rc uptime=$(cut -d' ' -f1 /proc/uptime)
sync
poweroff -f
sleep 5
echo o >/proc/sysrq-trigger
