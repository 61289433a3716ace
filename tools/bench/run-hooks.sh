#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# What does each hook choice cost? Builds connstorm, the empty counting hooks
# (hooks/hooks.bpf.c + hooks/hookload.c) and portwatch into build-bench/, then
# runs interleaved rounds of a loopback load under each configuration:
#   untraced, every hookload group alone (hookload -l lists them),
#   `portwatch trace -j > /dev/null` (config "portwatch") and
#   `portwatch trace -j -P 9 > /dev/null` ("portwatch_kfilter": every record is
#   dropped in the kernel by the port filter, so the BPF programs do all their
#   work but nothing crosses the ring buffer and userspace has nothing to do)
# Each round runs every configuration once (the order rotates by one each
# round, so no configuration always follows the same one); the report gives,
# per configuration, the median rate and its ratio to the median of the
# untraced runs, min/max, the per-round ratio range (each run divided by the
# untraced run of the same round) and how often the hooks fired per operation.
#
# Usage (root, from anywhere): tools/bench/run-hooks.sh [options]
#   -r ROUNDS    rounds (default 5, at least 5 recommended)
#   -s SECONDS   length of every load run (default 3)
#   -w WORKERS   connstorm workers (default 2)
#   -m MODE      connstorm mode: connect (default), bind0, udp, getuid
#   -c "A B .."  configurations (default: all; see DEFAULT_CONFIGS)
#   -o DIR       build/output directory (default build-bench)
#   -B           skip the build (use what is in DIR)
#   -R TSV       only print the report of a saved raw-runs TSV (no root needed;
#                settings come from its first line, else from the options)
# Markdown on stdout; progress on stderr; raw runs in DIR/hooks-runs.tsv.
# Environment: FOREIGN_MAX (default 0.15): a run during which other tasks,
# kernel threads or the hypervisor (steal) used more than this share of all
# CPUs is flagged and left out of the table (column "foreign" of the TSV;
# the load's own kernel-thread work is about 0.03-0.06 of it).
#
# Only loopback traffic (127.0.0.1). Every loop is bounded: connstorm stops by
# itself after SECONDS (and is killed at SECONDS+15), waits for "ready" give
# up after 20 s, stops wait at most 10 s before SIGKILL, hookload and portwatch
# also stop by themselves (-t / --duration) if this script dies.
set -euo pipefail

ROUNDS=5
DUR=3
WORKERS=2
MODE=connect
OUT=build-bench
BUILD=1
DEFAULT_CONFIGS="untraced sys_unrelated sys_connect sys_bind sys_listen sys_accept4 syscalls
set_state raw_sys_enter raw_sys cgroup pw_empty portwatch_kfilter portwatch"
CONFIGS=$DEFAULT_CONFIGS

usage() { sed -n '/^# Usage/,/^# Markdown/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
REPORT=
while getopts "r:s:w:m:c:o:BR:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	s) DUR=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	m) MODE=$OPTARG ;;
	c) CONFIGS=$OPTARG ;;
	o) OUT=$OPTARG ;;
	B) BUILD=0 ;;
	R) REPORT=$OPTARG ;;
	*) usage ;;
	esac
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 100 ]] || usage
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || usage
[[ $WORKERS =~ ^[0-9]+$ && $WORKERS -ge 1 ]] || usage
read -r -a CFG <<<"$(tr -s '[:space:]' ' ' <<<"$CONFIGS")"
CONFIGS="${CFG[*]}"
NCFG=${#CFG[@]}

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
log() { printf 'run-hooks: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
BASELINE_N='?'

# --- report ------------------------------------------------------------------
# report TSV: the Markdown table of one set of runs (also: -R TSV).
report() {
	local hdr
	hdr=$(sed -n '1s/^# //p' "$1")
	if [[ -n $hdr ]]; then # settings recorded by the run
		local kv
		for kv in $hdr; do
			case $kv in
			mode=*) MODE=${kv#*=} ;; workers=*) WORKERS=${kv#*=} ;;
			seconds=*) DUR=${kv#*=} ;; rounds=*) ROUNDS=${kv#*=} ;;
			baseline=*) BASELINE_N=${kv#*=} ;; configs=*) CONFIGS=${kv#*=}; CONFIGS=${CONFIGS//,/ } ;;
			esac
		done
	fi
	WEFF=$((WORKERS < $(nproc) ? WORKERS : $(nproc)))
	echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "Load: connstorm --mode $MODE --workers $WORKERS --seconds $DUR; $ROUNDS interleaved rounds" \
		"(order rotated each round); resident BPF hook programs accepted as baseline: $BASELINE_N"
	echo
	awk -F'\t' -v order="$CONFIGS" -v weff="$WEFF" -v dur="$DUR" '
	function median(a, n,   i, j, t, b) {
		for (i = 1; i <= n; i++) b[i] = a[i]
		for (i = 2; i <= n; i++) { t = b[i]; for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]; b[j + 1] = t }
		return n % 2 ? b[(n + 1) / 2] : (b[n / 2] + b[n / 2 + 1]) / 2
	}
	/^#/ || $1 == "round" { next }
	{
		cfg = $2
		if ($3 == "NA") { fail[cfg]++; next }
		if ($10 != "-") { flagged[cfg]++; nflagged++; next }
		n[cfg]++; v[cfg, n[cfg]] = $3; u[cfg, n[cfg]] = $7; rate[$1, cfg] = $3
		# CPU the load process itself used per operation (tracer consumer excluded)
		us[cfg, n[cfg]] = $6 > 0 ? $7 * weff * dur / $6 * 1e6 : 0
		if ($4 != "-") { hs[cfg] += $4; cs[cfg] += $6 }
		if ($5 ~ /^lost=/) { split($5, l, "="); lost[cfg] += l[2] }
	}
	END {
		nb = n["untraced"]
		for (i = 1; i <= nb; i++) b[i] = v["untraced", i]
		base = nb ? median(b, nb) : 0
		print "| config | runs | median conn/s | ratio to untraced | min | max | per-round ratio min–max | median cpu_util | load CPU µs/conn | hook hits per conn |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
		m = split(order, cfgs, " ")
		for (c = 1; c <= m; c++) {
			cfg = cfgs[c]
			extra = (fail[cfg] ? sprintf(" +%d failed", fail[cfg]) : "") (flagged[cfg] ? sprintf(" +%d flagged", flagged[cfg]) : "")
			if (!n[cfg]) { printf "| %s | 0%s | – | – | – | – | – | – | – | – |\n", cfg, extra; continue }
			delete a; delete w; delete x; lo = hi = v[cfg, 1]
			for (i = 1; i <= n[cfg]; i++) { a[i] = v[cfg, i]; w[i] = u[cfg, i]; x[i] = us[cfg, i]; if (a[i] < lo) lo = a[i]; if (a[i] > hi) hi = a[i] }
			med = median(a, n[cfg])
			# ratio of each run to the untraced run of the same round (both clean)
			rlo = 1e9; rhi = 0
			for (k in rate) {
				split(k, kk, SUBSEP)
				if (kk[2] != cfg || !((kk[1], "untraced") in rate)) continue
				q = rate[k] / rate[kk[1], "untraced"]
				if (q < rlo) rlo = q; if (q > rhi) rhi = q
			}
			hp = (cs[cfg] > 0) ? sprintf("%.2f", hs[cfg] / cs[cfg]) : "–"
			if (cfg == "portwatch") hp = hp sprintf(" events, %d lost", lost[cfg])
			if (cfg == "portwatch_kfilter") hp = hp " records dropped in kernel"
			printf "| %s | %d%s | %.0f | %s | %.0f | %.0f | %s | %.2f | %s | %s |\n", cfg, n[cfg], extra, med,
				base ? sprintf("%.3f", med / base) : "–", lo, hi,
				(cfg == "untraced" || rhi == 0) ? "–" : sprintf("%.3f–%.3f", rlo, rhi),
				median(w, n[cfg]), sprintf(median(x, n[cfg]) < 1 ? "%.3f" : "%.2f", median(x, n[cfg])), hp
		}
		if (nflagged)
			printf "\n%d run(s) flagged (CPU busy before the run, other tasks used > FOREIGN_MAX of the CPUs during it, or a foreign BPF hook program was loaded) and left out; see the raw TSV.\n", nflagged
	}' "$1"
}

# --- build -------------------------------------------------------------------
if [[ -n $REPORT ]]; then
	report "$REPORT"
	exit 0
fi
[[ $(id -u) -eq 0 ]] || die "must run as root (BPF)"
HOOKOBJ=$OUT/hooks/hooks.bpf.o
HOOKLOAD=$OUT/hooks/hookload
STORM=$OUT/connstorm
PORTWATCH=$OUT/portwatch
if ((BUILD)); then
	log "building into $OUT/"
	make -s OUTPUT="$OUT" >&2
	mkdir -p "$OUT/hooks"
	clang -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_x86 -Ivmlinux/x86 -Wall -Werror \
		-c tools/bench/hooks/hooks.bpf.c -o "$HOOKOBJ"
	cc -O2 -Wall -Wextra -Werror -Itools/bench/hooks -o "$HOOKLOAD" \
		tools/bench/hooks/hookload.c -lbpf -lelf -lz
	cc -O2 -pthread -Wall -Wextra -Werror -o "$STORM" tools/bench/connstorm.c
fi
for f in "$HOOKOBJ" "$HOOKLOAD" "$STORM" "$PORTWATCH"; do
	[[ -e $f ]] || die "missing $f (run without -B)"
done
if [[ ! -d /sys/kernel/tracing/events ]]; then
	mount -t tracefs tracefs /sys/kernel/tracing || die "cannot mount tracefs"
fi

# --- one run -----------------------------------------------------------------
TMP=$(mktemp -d /tmp/run-hooks.XXXXXX)
BGPID=
stop_bg() { # stop_bg PID: SIGINT, wait up to 10 s, then SIGKILL
	local p=$1 i
	kill -INT "$p" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$p" 2>/dev/null || true
	wait "$p" 2>/dev/null || true
}
cleanup() {
	[[ -n $BGPID ]] && stop_bg "$BGPID"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_ready() { # wait_ready PID FILE PATTERN: up to 20 s
	local i
	for ((i = 0; i < 400; i++)); do
		grep -q -- "$3" "$2" 2>/dev/null && return 0
		kill -0 "$1" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}

load() { # prints connstorm's JSON line
	timeout -s KILL $((DUR + 15)) "$STORM" --workers "$WORKERS" --seconds "$DUR" --mode "$MODE"
}

json_num() { # json_num KEY <<< JSON
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"
}

# --- noise guards --------------------------------------------------------------
# Other users of this machine (tests, tracers) disturb the numbers in two ways:
# BPF programs on tracing/socket hooks (a foreign tracer makes "untraced" traced)
# and CPU load. Before every run we wait (at most QUIET_MAX s) until the CPUs
# are idle and no BPF program that is not in the start-up baseline is loaded;
# runs that start or end in a disturbed state are flagged and left out of the
# table (they stay in the raw TSV).
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

HZ=$(getconf CLK_TCK)
proc_ticks() { # utime+stime of PID in clock ticks
	awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# measure [TRACER_PID]: runs the load; sets OUT (connstorm JSON), S0/S1
# (/proc/stat samples around it) and TT (tracer CPU ticks during it)
measure() {
	local t0=0 t1=0
	[[ -n ${1:-} ]] && t0=$(proc_ticks "$1")
	S0=$(cpu_sample)
	OUT=$(load) || true
	S1=$(cpu_sample)
	[[ -n ${1:-} ]] && t1=$(proc_ticks "$1")
	TT=$((t1 - t0))
}

# run_one CONFIG: prints rate hits note connections cpu_util steal foreign flags
# (TAB-separated). foreign = share of all CPUs used during the run by anything
# but connstorm and the tracer (other processes, kernel threads, steal).
run_one() {
	local cfg=$1 rate hits=- note=- err=$TMP/err res=$TMP/res flags steal foreign
	local n util cpu i nf=0
	local -a pw_args
	: >"$err"
	: >"$res"
	OUT='' S0='' S1='' TT=0
	flags=$(wait_quiet)
	case $cfg in
	untraced)
		measure
		;;
	portwatch | portwatch_kfilter)
		pw_args=(trace -j --duration $((DUR + 60)))
		# -P 9: nothing in the load matches; the BPF programs do all their
		# work and drop every record in the kernel (no ring buffer, no
		# userspace): the in-kernel share of portwatch's cost.
		[[ $cfg == portwatch_kfilter ]] && pw_args+=(-P 9)
		"$PORTWATCH" "${pw_args[@]}" >/dev/null 2>"$err" &
		BGPID=$!
		if ! wait_ready "$BGPID" "$err" "portwatch: ready"; then
			stop_bg "$BGPID"; BGPID=
			log "portwatch did not get ready: $(tr '\n' ' ' <"$err")"
			printf 'NA\t-\tnot-ready\t0\t0\t0\t0\t%s\n' "$flags"; return
		fi
		measure "$BGPID"
		stop_bg "$BGPID"; BGPID=
		# "portwatch: N events, M shown, L lost to ring-buffer overflow, F filtered in kernel"
		hits=$(sed -n 's/^portwatch: \([0-9]*\) events.*/\1/p' "$err" | tail -1)
		[[ $cfg == portwatch_kfilter ]] &&
			hits=$(sed -n 's/.* \([0-9]*\) filtered in kernel.*/\1/p' "$err" | tail -1)
		note="lost=$(sed -n 's/.* \([0-9]*\) lost to ring-buffer.*/\1/p' "$err" | tail -1)"
		;;
	*)
		"$HOOKLOAD" -t $((DUR + 60)) "$HOOKOBJ" "$cfg" >"$res" 2>"$err" &
		BGPID=$!
		if ! wait_ready "$BGPID" "$err" "hookload: ready"; then
			stop_bg "$BGPID"; BGPID=
			log "hookload $cfg did not get ready: $(tr '\n' ' ' <"$err")"
			printf 'NA\t-\tnot-ready\t0\t0\t0\t0\t%s\n' "$flags"; return
		fi
		measure "$BGPID"
		stop_bg "$BGPID"; BGPID=
		hits=$(json_num hits <"$res")
		;;
	esac
	# A foreign program that came and went during the run is missed (the
	# foreign-CPU share below usually catches what it did).
	for ((i = 0; i < 20; i++)); do # our own programs are freed asynchronously
		nf=$(foreign_bpf)
		((nf == 0)) && break
		sleep 0.1
	done
	if ((nf > 0)); then
		if [[ $flags == - ]]; then flags='foreign-bpf-after'; else flags="$flags,foreign-bpf-after"; fi
	fi
	rate=$(json_num conn_per_s <<<"$OUT")
	n=$(json_num connections <<<"$OUT")
	util=$(json_num cpu_util <<<"$OUT")
	cpu=$(json_num cpu_s <<<"$OUT")
	read -r steal foreign < <(awk -v a="$S0" -v b="$S1" -v own="${cpu:-0}" -v tt="$TT" -v hz="$HZ" '
		BEGIN { split(a, x, " "); split(b, y, " "); dt = y[1] - x[1]
			if (dt <= 0) { print 0, 0; exit }
			busy = dt - (y[2] - x[2])
			f = (busy - own * hz - tt) / dt
			printf "%.3f %.3f\n", (y[3] - x[3]) / dt, (f < 0 ? 0 : f) }')
	if awk -v f="$foreign" -v m="$FOREIGN_MAX" 'BEGIN { exit !(f > m) }'; then
		if [[ $flags == - ]]; then flags='foreign-cpu'; else flags="$flags,foreign-cpu"; fi
	fi
	[[ -n $rate ]] || { log "$cfg: connstorm failed: $OUT"; rate=NA; }
	# hits: counted for the whole life of the hook (load window plus a few ms)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "${hits:--}" "$note" "${n:-0}" \
		"${util:-0}" "$steal" "$foreign" "$flags"
}

# --- rounds ------------------------------------------------------------------
RUNS=$OUT/hooks-runs.tsv
# Baseline of BPF hook programs: wait (bounded) for other tracers to go away;
# what is still there after that is accepted (and reported) as part of the machine.
: >"$TMP/bpf-baseline"
for ((i = 0; i < 60; i++)); do
	[[ -z $(bpf_ids) ]] && break
	((i == 0)) && log "waiting up to 60 s for foreign BPF hook programs to go away"
	sleep 1
done
bpf_ids >"$TMP/bpf-baseline"
BASELINE_N=$(wc -l <"$TMP/bpf-baseline")
((BASELINE_N == 0)) || log "accepting $BASELINE_N resident BPF hook programs as baseline"
printf '# mode=%s workers=%s seconds=%s rounds=%s baseline=%s configs=%s\n' "$MODE" "$WORKERS" \
	"$DUR" "$ROUNDS" "$BASELINE_N" "${CONFIGS// /,}" >"$RUNS"
printf 'round\tconfig\tconn_per_s\thits\tnote\tconnections\tcpu_util\tsteal\tforeign\tflags\n' >>"$RUNS"
log "warm-up (1 s, discarded)"
timeout -s KILL 20 "$STORM" --workers "$WORKERS" --seconds 1 --mode "$MODE" >/dev/null
START=$(date +%s)
busy_streak=0
for ((r = 0; r < ROUNDS; r++)); do
	for ((k = 0; k < NCFG; k++)); do
		cfg=${CFG[$(((k + r) % NCFG))]}
		# not in $(...): BGPID must be visible to the EXIT trap
		run_one "$cfg" >"$TMP/line"
		line=$(<"$TMP/line")
		printf '%d\t%s\t%s\n' "$r" "$cfg" "$line" >>"$RUNS"
		# A machine that never gets quiet would make every run wait QUIET_MAX s
		# for nothing: give up after 3 runs in a row found it busy.
		if [[ $line == *busy-before* ]]; then
			((++busy_streak < 3)) || die "machine still busy after ${QUIET_MAX} s waits," \
				"3 runs in a row; busiest task: $(ps -eo pcpu=,pid=,args= --sort=-pcpu | head -1 | cut -c1-100)"
		else
			busy_streak=0
		fi
		log "round $((r + 1))/$ROUNDS $(printf '%-14s' "$cfg") $(cut -f1 <<<"$line") conn/s" \
			"cpu_util $(cut -f5 <<<"$line") steal $(cut -f6 <<<"$line") foreign $(cut -f7 <<<"$line")" \
			"flags $(cut -f8 <<<"$line")"
	done
done
log "done in $(($(date +%s) - START)) s; raw runs in $RUNS"

report "$RUNS"
