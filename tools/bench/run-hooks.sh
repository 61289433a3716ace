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

BENCH=run-hooks
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

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
	machine_line
	echo "Load: connstorm --mode $MODE --workers $WORKERS --seconds $DUR; $ROUNDS interleaved rounds" \
		"(order rotated each round); resident BPF hook programs accepted as baseline: $BASELINE_N"
	echo
	awk -F'\t' -v order="$CONFIGS" -v weff="$WEFF" -v dur="$DUR" -f "$BENCH_DIR/stats.awk" -f <(cat <<'AWK'
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
	}
AWK
	) "$1"
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

bench_begin

# --- one run -----------------------------------------------------------------
# run_one CONFIG: prints rate hits note connections cpu_util steal foreign flags
# (TAB-separated). foreign = share of all CPUs used during the run by anything
# but connstorm and the tracer (other processes, kernel threads, steal).
run_one() {
	local cfg=$1 rate hits=- note=- err=$TMP/err res=$TMP/res flags steal foreign
	local n util
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
	read -r steal foreign flags < <(run_flags "$flags")
	rate=$(json_num conn_per_s <<<"$OUT")
	n=$(json_num connections <<<"$OUT")
	util=$(json_num cpu_util <<<"$OUT")
	[[ -n $rate ]] || { log "$cfg: connstorm failed: $OUT"; rate=NA; }
	# hits: counted for the whole life of the hook (load window plus a few ms)
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "${hits:--}" "$note" "${n:-0}" \
		"${util:-0}" "$steal" "$foreign" "$flags"
}

# --- rounds ------------------------------------------------------------------
RUNS=$OUT/hooks-runs.tsv
bpf_baseline
printf '# mode=%s workers=%s seconds=%s rounds=%s baseline=%s configs=%s\n' "$MODE" "$WORKERS" \
	"$DUR" "$ROUNDS" "$BASELINE_N" "${CONFIGS// /,}" >"$RUNS"
printf 'round\tconfig\tconn_per_s\thits\tnote\tconnections\tcpu_util\tsteal\tforeign\tflags\n' >>"$RUNS"
log "warm-up (1 s, discarded)"
timeout -s KILL 20 "$STORM" --workers "$WORKERS" --seconds 1 --mode "$MODE" >/dev/null
run_rounds "$RUNS" "$ROUNDS" "${CFG[@]}"

report "$RUNS"
