# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
# shellcheck shell=bash disable=SC2034,SC2120 # variables and arguments of the drivers
#
# Shared by the benchmark drivers (run-hooks.sh, run-bench.sh); sourced, not
# run. What is here: starting and stopping tracers, the noise guards (wait
# for idle CPUs and for foreign BPF programs to go away, flag runs that others
# disturbed), CPU accounting of a load run and of a tracer's process tree,
# and the interleaved-rounds loop.
#
# The driver sets BENCH (log prefix) before sourcing, and before calling
# anything below: STORM (connstorm binary), WORKERS, DUR, MODE; it defines
# run_one CONFIG (prints the TAB-separated columns of one run; the last
# one is the flags column from run_flags) and calls bench_begin first.

# Directory of the bench sources, and the repository root.
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)

log() { printf '%s: %s\n' "$BENCH" "$*" >&2; }
die() { log "$*"; exit 1; }

# --- processes -----------------------------------------------------------------
BGPID=
TMP=
# stop_bg PID: SIGINT, up to 5 s; SIGTERM, up to 3 s; then SIGKILL. When PID
# leads a process group (timeout(1) makes itself one, with the tracer in it),
# TERM and KILL go to the whole group: a tracer that swallows SIGINT (bcc's
# python under heavy output does) must not outlive its timeout wrapper.
stop_bg() {
	local p=$1 i sig n=50
	kill -INT "$p" 2>/dev/null || true
	for sig in TERM KILL; do
		for ((i = 0; i < n; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$p" 2>/dev/null || break
		kill -"$sig" -- -"$p" 2>/dev/null || kill -"$sig" "$p" 2>/dev/null || true
		n=30
	done
	wait "$p" 2>/dev/null || true
	# what is left of the group once its leader is gone
	kill -KILL -- -"$p" 2>/dev/null || true
}
# Cleanup hooks of the driver (namespaces, sysctls), run at exit, last first.
CLEANUPS=()
bench_exit() {
	local i
	# A subshell that inherited the trap ($(...) or <(...) failing under
	# set -e) must not tear down what the main shell still uses.
	[[ $BASHPID == "$BENCH_PID" ]] || return 0
	[[ -n $BGPID ]] && stop_bg "$BGPID"
	for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
		eval "${CLEANUPS[$i]}" || true
	done
	[[ -n $TMP ]] && rm -rf "$TMP"
}
# bench_begin: a private temporary directory and the exit trap.
bench_begin() {
	TMP=$(mktemp -d "/tmp/$BENCH.XXXXXX")
	BENCH_PID=$BASHPID
	trap bench_exit EXIT
	trap 'exit 130' INT TERM
	if [[ ! -d /sys/kernel/tracing/events ]]; then
		mount -t tracefs tracefs /sys/kernel/tracing || die "cannot mount tracefs"
	fi
}

wait_ready() { # wait_ready PID FILE PATTERN: up to 20 s
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q -- "$3" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

load() { # load [MODE]: runs connstorm, prints its JSON line
	timeout -s KILL $((DUR + 15)) "$STORM" --workers "$WORKERS" --seconds "$DUR" --mode "${1:-$MODE}"
}

json_num() { # json_num KEY <<< JSON
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"
}

# --- noise guards ----------------------------------------------------------------
# Other users of this machine (tests, tracers) disturb the numbers in two ways:
# BPF programs on tracing/socket hooks (a foreign tracer makes "untraced" traced)
# and CPU load. Before every run we wait (at most QUIET_MAX s) until the CPUs
# are idle and no BPF program that is not in the start-up baseline is loaded;
# runs that start or end in a disturbed state are flagged and left out of the
# tables (they stay in the raw TSV).
QUIET_MAX=30
# Share of all CPUs that others may use during a run. The load itself makes
# kernel threads work (ksoftirqd, RCU freeing of sockets): about 0.03-0.06 of
# the CPUs on a quiet 2-CPU machine; one busy process on 2 CPUs is 0.5.
FOREIGN_MAX=${FOREIGN_MAX:-0.15}
HOOK_TYPES='tracepoint|raw_tracepoint|raw_tracepoint_writable|tracing|kprobe|perf_event|lsm|ext'
HOOK_TYPES+='|cgroup_sock|cgroup_sock_addr|cgroup_skb|sock_ops|sched_cls|sched_act|xdp|sk_lookup'
HOOK_TYPES+='|flow_dissector|netfilter|sk_skb|sk_msg|socket_filter'
bpf_ids() { # IDs of loaded hook-type BPF programs, one per line
	command -v bpftool >/dev/null || return 0
	bpftool prog list 2>/dev/null | sed -nE "s/^([0-9]+): ($HOOK_TYPES) .*/\1/p" | sort -n
}
foreign_bpf() { # prints the number of hook programs not in the baseline
	comm -23 <(bpf_ids | sort) <(sort "$TMP/bpf-baseline") | wc -l
}
# bpf_baseline: wait (bounded) for other tracers to go away; what is still
# there after that is accepted (and reported) as part of the machine.
BASELINE_N='?'
bpf_baseline() {
	local i
	: >"$TMP/bpf-baseline"
	for ((i = 0; i < 60; i++)); do
		[[ -z $(bpf_ids) ]] && break
		((i == 0)) && log "waiting up to 60 s for foreign BPF hook programs to go away"
		sleep 1
	done
	bpf_ids >"$TMP/bpf-baseline"
	BASELINE_N=$(wc -l <"$TMP/bpf-baseline")
	((BASELINE_N == 0)) || log "accepting $BASELINE_N resident BPF hook programs as baseline"
}
cpu_sample() { # "total idle+iowait steal" from /proc/stat
	awk '/^cpu /{t=0; for (i = 2; i <= NF; i++) t += $i; print t, $5 + $6, $9}' /proc/stat
}
busy_frac() { # busy fraction of all CPUs over 0.5 s
	local a b
	a=$(cpu_sample); sleep 0.5; b=$(cpu_sample)
	awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ");
		dt = y[1] - x[1]; printf "%.3f", (dt > 0 ? 1 - (y[2] - x[2]) / dt : 0) }'
}
wait_quiet() { # prints flags ("-" when quiet)
	local i busy nf
	for ((i = 0; i < QUIET_MAX * 2; i++)); do
		busy=$(busy_frac); nf=$(foreign_bpf)
		if awk -v b="$busy" 'BEGIN { exit !(b < 0.10) }' && ((nf == 0)); then
			echo -; return
		fi
	done
	local f=()
	awk -v b="$busy" 'BEGIN { exit !(b >= 0.10) }' && f+=("busy-before")
	((nf == 0)) || f+=("foreign-bpf")
	(IFS=,; echo "${f[*]}")
}
add_flag() { # add_flag FLAGS FLAG: prints the flags with FLAG added
	if [[ $1 == - ]]; then echo "$2"; else echo "$1,$2"; fi
}

HZ=$(getconf CLK_TCK)
proc_ticks() { # utime+stime of PID in clock ticks (all its threads)
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
tree_ticks() { # utime+stime of PID and every descendant, in clock ticks
	# comm may hold spaces: fields are counted after its closing parenthesis.
	awk -v root="$1" '
	{ s = $0; sub(/^.*\) /, "", s); split(s, f, " "); pid = FILENAME; sub(/^\/proc\//, "", pid); sub(/\/stat$/, "", pid)
	  parent[pid] = f[2]; ticks[pid] = f[12] + f[13] }
	END { for (p in parent) { q = p; for (d = 0; d < 64 && q != "" && q != root && q > 1; d++) q = parent[q]
	        if (q == root) t += ticks[p] }
	      print t + 0 }' /proc/[0-9]*/stat 2>/dev/null || echo 0
}

# measure [TRACER_PID]: runs the load; sets OUT (connstorm JSON), S0/S1
# (/proc/stat samples around it) and TT (CPU ticks of the tracer's process
# tree during it)
measure() {
	local t0=0 t1=0
	[[ -n ${1:-} ]] && t0=$(tree_ticks "$1")
	S0=$(cpu_sample)
	OUT=$(load) || true
	S1=$(cpu_sample)
	[[ -n ${1:-} ]] && t1=$(tree_ticks "$1")
	TT=$((t1 - t0))
}

# run_flags FLAGS: after measure and after the tracer is gone, prints
# "steal foreign flags" (TAB-separated). foreign = share of all CPUs used
# during the run by anything but connstorm and the tracer (other processes,
# kernel threads, steal); flags gains foreign-cpu and foreign-bpf-after.
run_flags() {
	local flags=$1 i nf=0 cpu steal foreign
	# A foreign program that came and went during the run is missed (the
	# foreign-CPU share below usually catches what it did).
	for ((i = 0; i < 20; i++)); do # our own programs are freed asynchronously
		nf=$(foreign_bpf)
		((nf == 0)) && break
		sleep 0.1
	done
	((nf == 0)) || flags=$(add_flag "$flags" foreign-bpf-after)
	cpu=$(json_num cpu_s <<<"$OUT")
	read -r steal foreign < <(awk -v a="$S0" -v b="$S1" -v own="${cpu:-0}" -v tt="$TT" -v hz="$HZ" '
		BEGIN { split(a, x, " "); split(b, y, " "); dt = y[1] - x[1]
			if (dt <= 0) { print 0, 0; exit }
			busy = dt - (y[2] - x[2])
			f = (busy - own * hz - tt) / dt
			printf "%.3f %.3f\n", (y[3] - x[3]) / dt, (f < 0 ? 0 : f) }')
	if awk -v f="$foreign" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }'; then
		flags=$(add_flag "$flags" foreign-cpu)
	fi
	printf '%s\t%s\t%s\n' "$steal" "$foreign" "$flags"
}

# --- rounds ----------------------------------------------------------------------
# run_rounds RUNS ROUNDS CONFIG...: every round runs every configuration once,
# the order rotated by one each round (no configuration always follows the
# same one); appends "round config <run_one columns>" to RUNS.
run_rounds() {
	local runs=$1 rounds=$2 r k cfg line busy_streak=0 start
	shift 2
	local -a cfgs=("$@")
	local n=${#cfgs[@]}
	start=$(date +%s)
	for ((r = 0; r < rounds; r++)); do
		for ((k = 0; k < n; k++)); do
			cfg=${cfgs[$(((k + r) % n))]}
			# not in $(...): BGPID must be visible to the EXIT trap
			run_one "$cfg" >"$TMP/line"
			line=$(<"$TMP/line")
			printf '%d\t%s\t%s\n' "$r" "$cfg" "$line" >>"$runs"
			# A machine that never gets quiet would make every run wait QUIET_MAX s
			# for nothing: give up after 3 runs in a row found it busy.
			if [[ $line == *busy-before* ]]; then
				((++busy_streak < 3)) || die "machine still busy after ${QUIET_MAX} s waits," \
					"3 runs in a row; busiest task: $(ps -eo pcpu=,pid=,args= --sort=-pcpu | head -1 | cut -c1-100)"
			else
				busy_streak=0
			fi
			log "round $((r + 1))/$rounds $(printf '%-14s' "$cfg") $(tr '\t' ' ' <<<"$line")"
		done
	done
	log "rounds done in $(($(date +%s) - start)) s; raw runs in $runs"
}

# machine_line: the one-line description every report starts with.
machine_line() {
	echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
}
