#!/bin/sh
# Install what portwatch needs on Debian 12, only when it is missing.
#   install-deps.sh build   compiler, BPF toolchain, libraries
#   install-deps.sh test    also the unit-test library and the real peers the
#                           integration tests drive (nmap, hping3, nginx, ...)
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

[ -z "$missing" ] && exit 0
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
