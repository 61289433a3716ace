#!/bin/sh
# Install what portwatch needs on Debian 12, only when it is missing.
#   install-deps.sh build   compiler, BPF toolchain, libraries
#   install-deps.sh test    also the unit-test library and the real peers the
#                           integration tests drive (nmap, hping3, nginx, ...)
#   install-deps.sh bench   the peer tracers `make bench` compares against
#                           (libbpf-tools, bcc, bpftrace), hping3, perf, and
#                           kernel headers for bcc when the kernel has none
# Runs as root (prefix sudo yourself if you are not); never calls sudo.
set -eu

what=${1:-build}
missing=""

need_cmd() { command -v "$1" >/dev/null 2>&1 || missing="$missing $2"; }
need_file() { [ -e "$1" ] || missing="$missing $2"; }

need_cmd clang clang
need_cmd cc gcc
need_cmd make make
need_cmd bpftool bpftool
need_cmd pkg-config pkg-config
need_file /usr/include/bpf/libbpf.h libbpf-dev
need_file /usr/include/libelf.h libelf-dev
need_file /usr/include/zlib.h zlib1g-dev
need_file /usr/include/uthash.h uthash-dev
need_file /usr/include/ncursesw/curses.h libncurses-dev
if [ "$what" = test ]; then
	need_file /usr/include/cmocka.h libcmocka-dev
	need_cmd ip iproute2
	need_cmd ss iproute2
	need_cmd nstat iproute2
	need_cmd python3 python3
	need_cmd nginx nginx-light
	need_cmd socat socat
	need_cmd nmap nmap
	need_cmd hping3 hping3
	need_cmd redis-server redis-server
	need_cmd tmux tmux
fi
if [ "$what" = bench ]; then
	need_file /usr/sbin/tcplife libbpf-tools
	need_file /usr/sbin/tcplife-bpfcc bpfcc-tools
	need_cmd bpftrace bpftrace
	need_cmd hping3 hping3
	need_cmd perf linux-perf
	need_cmd ip iproute2
	need_cmd python3 python3
fi

# bcc compiles its programs against the running kernel's headers. A kernel
# without them (no /lib/modules/RELEASE/build, no CONFIG_IKHEADERS) gets
# Debian 12's newest linux-headers-6.1 unpacked, common and amd64 parts merged,
# into /var/cache/portwatch-bench/ (not installed: the package would pull in
# a kernel image). bcc 0.26 cannot parse newer headers; its tracepoint tools
# read their arguments from tracefs, so only the few struct fields they read
# beyond those can be off.
bench_kheaders() {
	[ -e "/lib/modules/$(uname -r)/build" ] || [ -e /sys/kernel/kheaders.tar.xz ] && return 0
	ls -d /var/cache/portwatch-bench/kheaders-* >/dev/null 2>&1 && return 0
	[ "$(dpkg --print-architecture)" = amd64 ] || { echo "install-deps: no bcc headers for this architecture" >&2; return 0; }
	pkg=$(apt-cache search --names-only '^linux-headers-6\.1\.0-[0-9]+-amd64$' | awk '{ print $1 }' | sort -V | tail -1)
	[ -n "$pkg" ] || { echo "install-deps: no linux-headers-6.1 package found" >&2; return 0; }
	ver=${pkg#linux-headers-}; ver=${ver%-amd64}
	tmp=$(mktemp -d)
	(cd "$tmp" && apt-get download -qq "$pkg" "linux-headers-$ver-common" 2>/dev/null) || { rm -rf "$tmp"; return 1; }
	for d in "$tmp"/*.deb; do dpkg-deb -x "$d" "$tmp/x"; done
	dst=/var/cache/portwatch-bench/kheaders-$ver
	mkdir -p "$tmp/m" /var/cache/portwatch-bench
	cp -a "$tmp/x/usr/src/linux-headers-$ver-common/." "$tmp/m/"
	cp -a --remove-destination "$tmp/x/usr/src/linux-headers-$ver-amd64/." "$tmp/m/"
	mv "$tmp/m" "$dst" # whole or not at all
	rm -rf "$tmp"
	echo "install-deps: bcc kernel headers in $dst" >&2
}

if [ -z "$missing" ]; then
	[ "$what" = bench ] && bench_kheaders
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing:$missing; run as root (e.g. sudo make ...) to install them" >&2
	exit 1
fi
echo "install-deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# Packaged daemons (nginx, redis) must not start on the host: the tests
# start their own inside network namespaces.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod +x "$policy" && made_policy=1
fi
trap '[ "$made_policy" = 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
[ "$what" = bench ] && bench_kheaders
exit 0
