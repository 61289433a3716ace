#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# `make bench`: portwatch against the peer tools that load here, and
# against its own goals (issue 6; results and their reading in
# docs/BENCHMARKS.md). Builds portwatch and the helpers into build-bench/,
# then runs the parts named by -x, in this order:
#   peers    which peers load on this kernel (tracepoint-based ones do;
#            kprobe- and fentry-based ones are reported as "did not load")
#   storm    interleaved rounds (A B A B, order rotated by one each round) of
#            a loopback connect/accept/close storm (connstorm --mode connect)
#            untraced and under: portwatch watch, portwatch trace -j > file,
#            and every peer that loaded; per run: conn/s, the tracer process
#            tree's CPU, records, records lost, launch-to-ready time
#   flood    bounded SYN floods with random spoofed sources from one test
#            namespace into another over a veth pair (198.18.0.1 <- 198.18.0.2),
#            untraced and under portwatch watch: hping3 -S -i u7 -c N
#            --rand-source, and synflood.c paced at 145k packets/s (what
#            hping3 -i u7 cannot reach on this VM); packets/s, tracer CPU,
#            kernel map memory, RSS
#   hookcost each portwatch BPF program's run_time_ns / run_cnt from the
#            kernel's own statistics (kernel.bpf_stats_enabled, restored
#            after) over a connect storm, a bind(0) storm, a UDP storm and a
#            SYN flood, all under one portwatch watch
#   replay   userspace alone: records/s that decoding, the models and the
#            JSON renderer sustain on one core (tools/bench/replay.c)
#   profile  (not by default) perf record -a -g of a storm under portwatch
#            watch; the top symbols in DIR/bench/profile.txt
#
# Usage (root, from anywhere): tools/bench/run-bench.sh [options]
#   -r ROUNDS    storm rounds (default 5)
#   -s SECONDS   length of every storm run (default 3)
#   -w WORKERS   connstorm workers (default 2)
#   -x PARTS     comma-separated parts (default peers,storm,flood,hookcost,replay)
#   -c "A B .."  storm configurations (default: all; see STORM_CONFIGS)
#   -n PACKETS   synflood packets per flood run (default 1000000; at most
#                10000000); hping3 sends a tenth of it
#   -o DIR       build/output directory (default build-bench); results in DIR/bench/
#   -B           skip the build (use what is in DIR)
#   -R DIR       only print the report of saved results (no root needed)
# Markdown report on stdout (and in DIR/bench/report.md); progress on stderr;
# raw results as TSV in DIR/bench/. Environment: FOREIGN_MAX as in
# run-hooks.sh; BCC_KERNEL_SOURCE to use other kernel headers for bcc.
#
# Traffic stays on loopback (127.0.0.1, ::1) or inside two namespaces of our
# own (198.18.0.0/24 on a veth pair, no other route: the replies to spoofed
# flood sources are dropped inside the server namespace). Every loop is
# bounded: each storm run ends after SECONDS (killed at +15 s), tracers
# stop by themselves (--duration / timeout) if this script dies, hping3 runs
# under a timeout, waits for readiness give up after 30 s; namespaces, the
# sysctl and every process started are cleaned up on exit.
set -euo pipefail

ROUNDS=5
DUR=3
WORKERS=2
MODE=connect
OUT=build-bench
BUILD=1
PARTS=peers,storm,flood,hookcost,replay
FLOOD_N=1000000
FLOOD_RATE=145000
FLOOD_ROUNDS=2
STORM_CONFIGS="untraced pw_watch pw_trace lt_tcpstates lt_tcplife bcc_tcpstates bcc_tcplife bt_states bt_count"
# Checked for loading only: kprobe- or fentry-based, expected not to load here.
CHECK_ONLY="lt_tcpconnect lt_tcpconnlat lt_bindsnoop bcc_tcpconnect bcc_tcpaccept bt_tcpaccept bt_tcplife bt_fentry"
CONFIGS=$STORM_CONFIGS
REPORT=

usage() { sed -n '/^# Usage/,/^# Markdown/p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while getopts "r:s:w:x:c:n:o:BR:h" opt; do
	case $opt in
	r) ROUNDS=$OPTARG ;;
	s) DUR=$OPTARG ;;
	w) WORKERS=$OPTARG ;;
	x) PARTS=$OPTARG ;;
	c) CONFIGS=$OPTARG ;;
	n) FLOOD_N=$OPTARG ;;
	o) OUT=$OPTARG ;;
	B) BUILD=0 ;;
	R) REPORT=$OPTARG ;;
	*) usage ;;
	esac
done
[[ $ROUNDS =~ ^[0-9]+$ && $ROUNDS -ge 1 && $ROUNDS -le 100 ]] || usage
[[ $DUR =~ ^[0-9]+$ && $DUR -ge 1 && $DUR -le 600 ]] || usage
[[ $WORKERS =~ ^[0-9]+$ && $WORKERS -ge 1 && $WORKERS -le 64 ]] || usage
[[ $FLOOD_N =~ ^[0-9]+$ && $FLOOD_N -ge 1000 && $FLOOD_N -le 10000000 ]] || usage
HPING_N=$((FLOOD_N / 10))
read -r -a CFG <<<"$(tr -s '[:space:]' ' ' <<<"$CONFIGS")"
has_part() { [[ ,$PARTS, == *,$1,* ]]; }

BENCH=run-bench
# shellcheck source=tools/bench/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$ROOT"
RES=$OUT/bench
[[ -n $REPORT ]] && RES=$REPORT

# --- peers ---------------------------------------------------------------------
# peer_cmd CONFIG: sets PCMD (argv), PREADY ("line" for portwatch's own ready
# line, else the number of programs it attaches when loaded), PHDR (header
# lines in its output), POUT (where its stdout goes), PDESC (hook and kind).
peer_cmd() {
	local bt=tools/bench/peers
	PHDR=1 POUT=$RES/run.out PREADY=1
	case $1 in
	pw_watch)
		PCMD=("$PW" watch -j --interval 10 --duration $((DUR + 60))) PREADY=line POUT=/dev/null
		PDESC="portwatch watch -j --interval 10 > /dev/null (every detector)" ;;
	pw_trace)
		PCMD=("$PW" trace -j --duration $((DUR + 60))) PREADY=line PHDR=0
		PDESC="portwatch trace -j > file" ;;
	lt_tcpstates) PCMD=(/usr/sbin/tcpstates) PDESC="libbpf-tools tcpstates (tracepoint sock:inet_sock_set_state)" ;;
	lt_tcplife) PCMD=(/usr/sbin/tcplife) PDESC="libbpf-tools tcplife (tracepoint sock:inet_sock_set_state)" ;;
	bcc_tcpstates) PCMD=(/usr/sbin/tcpstates-bpfcc) PDESC="bcc tcpstates-bpfcc (python; TRACEPOINT_PROBE sock:inet_sock_set_state)" ;;
	bcc_tcplife) PCMD=(/usr/sbin/tcplife-bpfcc) PDESC="bcc tcplife-bpfcc (python; TRACEPOINT_PROBE sock:inet_sock_set_state)" ;;
	bt_states) PCMD=(bpftrace "$bt/states.bt") PDESC="bpftrace $bt/states.bt: printf per state change" ;;
	bt_count)
		PCMD=(bpftrace "$bt/count.bt") PREADY=3 PHDR=0
		PDESC="bpftrace $bt/count.bt: counts in maps only (state changes, connect, accept4)" ;;
	lt_tcpconnect) PCMD=(/usr/sbin/tcpconnect) PDESC="libbpf-tools tcpconnect (fentry, else kprobe)" ;;
	lt_tcpconnlat) PCMD=(/usr/sbin/tcpconnlat) PDESC="libbpf-tools tcpconnlat (fentry, else kprobe)" ;;
	lt_bindsnoop) PCMD=(/usr/sbin/bindsnoop) PDESC="libbpf-tools bindsnoop (kprobe)" ;;
	bcc_tcpconnect) PCMD=(/usr/sbin/tcpconnect-bpfcc) PDESC="bcc tcpconnect-bpfcc (kprobe)" ;;
	bcc_tcpaccept) PCMD=(/usr/sbin/tcpaccept-bpfcc) PDESC="bcc tcpaccept-bpfcc (kretprobe)" ;;
	bt_tcpaccept) PCMD=(bpftrace /usr/sbin/tcpaccept.bt) PDESC="bpftrace tcpaccept.bt (kretprobe)" ;;
	bt_tcplife) PCMD=(bpftrace /usr/sbin/tcplife.bt) PDESC="bpftrace tcplife.bt (kprobe)" ;;
	bt_fentry)
		PCMD=(bpftrace -e 'kfunc:tcp_v4_connect { @ = count(); }') PDESC="bpftrace kfunc:tcp_v4_connect (fentry)" ;;
	*) return 1 ;;
	esac
}

# start_tracer CONFIG: starts it in the background (BGPID), stdout to POUT,
# stderr to $TMP/err; waits until ready; sets READY_MS, or returns 1 with the
# reason in $TMP/why.
start_tracer() {
	local cfg=$1 since r
	peer_cmd "$cfg"
	: >"$TMP/err"
	: >"$TMP/why"
	since=${EPOCHREALTIME/./}
	# timeout: the tracer stops by itself if this script dies; it passes our
	# SIGINT on. BCC_KERNEL_SOURCE: bcc compiles against kernel headers.
	BCC_KERNEL_SOURCE=$BCC_KSRC timeout -s INT $((DUR + 90)) "${PCMD[@]}" >"$POUT" 2>"$TMP/err" &
	BGPID=$!
	if [[ $PREADY == line ]]; then
		r=$("$READYWAIT" --pid "$BGPID" --since "$since" --line "$TMP/err" --pattern "portwatch: ready" \
			2>"$TMP/why") || r=
	else
		r=$("$READYWAIT" --pid "$BGPID" --since "$since" --progs "$PREADY" 2>"$TMP/why") || r=
	fi
	if [[ -z $r ]]; then
		stop_bg "$BGPID"; BGPID=
		# the tracer's own last words say why better than "exited"
		if [[ -s $TMP/err ]]; then
			{ grep -iE 'error|fail|not |denied|no such' "$TMP/err" || grep -v '^$' "$TMP/err"; } |
				tail -2 | tr '\n\t' '  ' | cut -c1-200 >"$TMP/why"
		fi
		return 1
	fi
	READY_MS=$(sed -n 's/^ready_ms=\([0-9.]*\).*/\1/p' <<<"$r")
	TPID=$({ pgrep -P "$BGPID" || true; } | head -1) # the tracer itself, under timeout
}

# tracer_counts CONFIG: after stop; prints "records lost" of the run.
tracer_counts() {
	local cfg=$1 rec lost
	case $cfg in
	pw_*) # "portwatch: N events, M shown, L lost to ring-buffer overflow, F filtered in kernel"
		rec=$(sed -n 's/^portwatch: \([0-9]*\) events.*/\1/p' "$TMP/err" | tail -1)
		lost=$(sed -n 's/.* \([0-9]*\) lost to ring-buffer.*/\1/p' "$TMP/err" | tail -1) ;;
	bt_count) # in-map counts: "@states[2, 1]: 123"
		rec=$(awk -F': ' '/^@/ { s += $2 } END { print s + 0 }' "$POUT")
		lost=0 ;;
	*)
		rec=$(($(wc -l <"$POUT") - PHDR))
		[[ $cfg == bt_* ]] && rec=$((rec - 1)) # "Attaching N probes..."
		# libbpf-tools: "lost N events on CPU #C"; bcc: "Possibly lost N samples";
		# bpftrace: "Lost N events"
		lost=$(cat "$TMP/err" "$POUT" | { grep -oiE 'lost [0-9]+' || true; } |
			awk '{ s += $2 } END { print s + 0 }') ;;
	esac
	echo "${rec:-NA} ${lost:-NA}"
}

# --- storm: one run --------------------------------------------------------------
# run_one CONFIG: conn_per_s connections cpu_util tracer_cpu_s records lost
# ready_ms steal foreign flags (TAB-separated)
run_one() {
	local cfg=$1 flags rate n util rec=- lost=- tcpu=0 steal foreign
	OUT='' S0='' S1='' TT=0 READY_MS=-
	flags=$(wait_quiet)
	if [[ $cfg == untraced ]]; then
		measure
	else
		if ! start_tracer "$cfg"; then
			log "$cfg did not get ready: $(<"$TMP/why")"
			printf 'NA\t0\t0\t0\t-\t-\t-\t0\t0\t%s\n' "$(add_flag "$flags" not-ready)"
			return
		fi
		measure "$BGPID"
		stop_bg "$BGPID"; BGPID=
		read -r rec lost < <(tracer_counts "$cfg")
		tcpu=$(awk -v t="$TT" -v hz="$HZ" 'BEGIN { printf "%.2f", t / hz }')
		[[ $POUT == /dev/null ]] || rm -f "$POUT"
	fi
	read -r steal foreign flags < <(run_flags "$flags")
	rate=$(json_num conn_per_s <<<"$OUT")
	n=$(json_num connections <<<"$OUT")
	util=$(json_num cpu_util <<<"$OUT")
	[[ -n $rate ]] || { log "$cfg: connstorm failed: $OUT"; rate=NA; }
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$rate" "${n:-0}" "${util:-0}" "$tcpu" "$rec" \
		"$lost" "$READY_MS" "$steal" "$foreign" "$flags"
}

# --- parts -----------------------------------------------------------------------
part_peers() {
	local cfg
	printf 'config\tloaded\tready_ms\tdescription\treason\n' >"$RES/peers.tsv"
	for cfg in "${CFG[@]}" $CHECK_ONLY; do
		[[ $cfg == untraced ]] && continue
		peer_cmd "$cfg" || die "unknown configuration $cfg"
		if start_tracer "$cfg"; then
			stop_bg "$BGPID"; BGPID=
			printf '%s\tyes\t%s\t%s\t-\n' "$cfg" "$READY_MS" "$PDESC" >>"$RES/peers.tsv"
			log "peer $cfg: loaded, ready in $READY_MS ms"
		else
			printf '%s\tno\t-\t%s\t%s\n' "$cfg" "$PDESC" "$(tr '\t' ' ' <"$TMP/why")" >>"$RES/peers.tsv"
			log "peer $cfg: did not load: $(<"$TMP/why")"
		fi
		[[ $POUT == /dev/null ]] || rm -f "$POUT"
	done
}

part_storm() {
	local cfg runs=$RES/storm.tsv
	local -a cfgs=()
	for cfg in "${CFG[@]}"; do # only what loads (peers part) is measured
		if [[ -s $RES/peers.tsv ]] && awk -F'\t' -v c="$cfg" '$1 == c && $2 == "no" { f = 1 } END { exit !f }' \
			"$RES/peers.tsv"; then
			log "storm: leaving out $cfg (did not load)"
			continue
		fi
		cfgs+=("$cfg")
	done
	printf '# mode=%s workers=%s seconds=%s rounds=%s baseline=%s configs=%s\n' "$MODE" "$WORKERS" \
		"$DUR" "$ROUNDS" "$BASELINE_N" "$(IFS=,; echo "${cfgs[*]}")" >"$runs"
	printf 'round\tconfig\tconn_per_s\tconnections\tcpu_util\ttracer_cpu_s\trecords\tlost\tready_ms\tsteal\tforeign\tflags\n' >>"$runs"
	log "warm-up (1 s, discarded)"
	timeout -s KILL 20 "$STORM" --workers "$WORKERS" --seconds 1 --mode "$MODE" >/dev/null
	run_rounds "$runs" "$ROUNDS" "${cfgs[@]}"
}

# Two namespaces joined by a veth pair: server 198.18.0.1/24 with a TCP
# listener on 8080, client 198.18.0.2/24. Neither has any other route, so
# nothing addressed outside 198.18.0.0/24 can leave them (SYN-ACKs to the
# spoofed sources find no route and are dropped in the server namespace).
NS_S='' NS_C='' VETH_S='' LISTENER=''
netns_up() {
	[[ -n $NS_S ]] && return
	NS_S=pwb$$s NS_C=pwb$$c VETH_S=pwb$$s0
	CLEANUPS+=("ip netns del $NS_S 2>/dev/null; ip netns del $NS_C 2>/dev/null")
	ip netns add "$NS_S"
	ip netns add "$NS_C"
	ip link add "$VETH_S" netns "$NS_S" type veth peer name pwb$$c0 netns "$NS_C"
	ip -n "$NS_S" addr add 198.18.0.1/24 dev "$VETH_S"
	ip -n "$NS_C" addr add 198.18.0.2/24 dev pwb$$c0
	ip -n "$NS_S" link set lo up
	ip -n "$NS_C" link set lo up
	ip -n "$NS_S" link set "$VETH_S" up
	ip -n "$NS_C" link set pwb$$c0 up
	# A listener for the flood's port; it ends by itself after 30 minutes.
	ip netns exec "$NS_S" python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 8080)); s.listen(128); time.sleep(1800)' &
	LISTENER=$!
	CLEANUPS+=("kill $LISTENER 2>/dev/null")
}
# rx_packets: packets the server's veth received, read through the listener's
# /proc/PID/net/dev (its namespace's view) with builtins only: no fork per sample.
rx_packets() {
	local ifc rxp rest
	while read -r ifc _ rxp rest; do
		[[ $ifc == "$VETH_S:" ]] && { echo "$rxp"; return; }
	done <"/proc/$LISTENER/net/dev"
	echo 0
}
# flood GEN N: a bounded SYN flood with random spoofed sources from the
# client namespace; prints "sent seconds received": seconds from the last
# sample before the first packet arrived to the sample after the last one
# (hping3 takes about a second to start). GEN:
#   hping3    hping3 -S -i u7 -c N --rand-source (sources anywhere in IPv4;
#             they exist only inside the two namespaces)
#   synflood  tools/bench/synflood.c at FLOOD_RATE packets/s, sources in
#             198.18.0.0/15 (hping3 -i u7 stays far below its nominal rate here)
flood() {
	local hp i
	: >"$TMP/rx"
	if [[ $1 == hping3 ]]; then
		# -c: bounded; timeout: bounded in time too (never --flood: it ignores -c)
		timeout -s INT 120 ip netns exec "$NS_C" hping3 -S -i u7 -c "$2" --rand-source -p 8080 -q \
			198.18.0.1 >"$TMP/hping" 2>&1 &
	else
		timeout -s INT 120 ip netns exec "$NS_C" "$SYNFLOOD" --dst 198.18.0.1 --port 8080 --count "$2" \
			--rate "$FLOOD_RATE" --seconds 100 >"$TMP/hping" 2>&1 &
	fi
	hp=$!
	for ((i = 0; i < 2600; i++)); do # 130 s at most; the generators stop by 120 s
		kill -0 "$hp" 2>/dev/null || break
		echo "${EPOCHREALTIME/./} $(rx_packets)" >>"$TMP/rx"
		sleep 0.05
	done
	wait "$hp" || true
	echo "${EPOCHREALTIME/./} $(rx_packets)" >>"$TMP/rx"
	awk -v sent="$(sed -n -e 's/^\([0-9]*\) packets transmitted.*/\1/p' -e 's/^{"sent":\([0-9]*\).*/\1/p' \
		"$TMP/hping" | tail -1)" '
		NR == 1 { rx0 = last = rx1 = $2; prev_t = $1; next }
		$2 > last && !t0 { t0 = prev_t }
		$2 > last { t1 = $1; rx1 = $2 }
		{ prev_t = $1; if ($2 > last) last = $2 }
		END { printf "%s %.3f %d\n", (sent == "" ? "NA" : sent), (t1 > t0 ? (t1 - t0) / 1e6 : 0), rx1 - rx0 }' "$TMP/rx"
}
# map_bytes PID: kernel memory of the BPF maps PID holds (fdinfo memlock,
# each map once: maps shared between objects appear under several fds).
map_bytes() {
	local f
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^map_id:/ { id = $2 } /^memlock:/ { m = $2 } END { if (id) print id, m }' "$f" 2>/dev/null
	done | sort -u -k1,1n | awk '{ s += $2 } END { print s + 0 }'
}
status_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

part_flood() {
	local runs=$RES/flood.tsv r k g n cfg flags sent secs rx t0 t1 maps0 maps1 rss hwm rec lost sup
	netns_up
	printf '# hping3_packets=%s synflood_packets=%s synflood_rate=%s rounds=%s\n' "$HPING_N" "$FLOOD_N" \
		"$FLOOD_RATE" "$FLOOD_ROUNDS" >"$runs"
	printf 'round\tconfig\tgenerator\tsent\tseconds\trx_packets\ttracer_cpu_s\tmap_bytes_ready\tmap_bytes_end\trss_kib\thwm_kib\tevents\tlost\tsuppressed\tflags\n' >>"$runs"
	for g in hping3 synflood; do
		n=$FLOOD_N
		[[ $g == hping3 ]] && n=$HPING_N
		for ((r = 0; r < FLOOD_ROUNDS; r++)); do
			for ((k = 0; k < 2; k++)); do
				cfg=$( ((k ^ (r & 1))) && echo pw_watch || echo untraced)
				flags=$(wait_quiet)
				t0=0 t1=0 maps0=- maps1=- rss=- hwm=- rec=- lost=- sup=-
				if [[ $cfg == pw_watch ]]; then
					if ! start_tracer pw_watch; then
						log "flood: portwatch did not get ready: $(<"$TMP/why")"; continue
					fi
					maps0=$(map_bytes "$TPID")
					t0=$(tree_ticks "$BGPID")
				fi
				read -r sent secs rx < <(flood "$g" "$n")
				if [[ $cfg == pw_watch ]]; then
					t1=$(tree_ticks "$BGPID")
					maps1=$(map_bytes "$TPID")
					rss=$(status_kib "$TPID" VmRSS)
					hwm=$(status_kib "$TPID" VmHWM)
					stop_bg "$BGPID"; BGPID=
					read -r rec lost < <(tracer_counts pw_watch)
					sup=$(sed -n 's/.* \([0-9]*\) first sightings not sent.*/\1/p' "$TMP/err" | tail -1)
				fi
				printf '%d\t%s\t%s\t%s\t%s\t%s\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$cfg" "$g" \
					"${sent:-NA}" "$secs" "$rx" "$(awk -v t=$((t1 - t0)) -v hz="$HZ" 'BEGIN { print t / hz }')" \
					"$maps0" "$maps1" "${rss:--}" "${hwm:--}" "$rec" "$lost" "${sup:-0}" "$flags" >>"$runs"
				log "flood $g round $((r + 1))/$FLOOD_ROUNDS $cfg: $(tail -1 "$runs" | cut -f4- | tr '\t' ' ')"
			done
		done
	done
}

# prog_stats PID PHASE OPS: one line per BPF program PID holds: phase ops
# prog_id name run_cnt run_time_ns (cumulative since load)
prog_stats() {
	local f id
	for f in /proc/"$1"/fdinfo/*; do
		awk '/^prog_id:/ { id = $2 } /^run_time_ns:/ { t = $2 } /^run_cnt:/ { c = $2 }
			END { if (id) print id, c + 0, t + 0 }' "$f" 2>/dev/null
	done | sort -u -k1,1n | while read -r id c t; do
		printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$id" "$(prog_name "$id")" "$c" "$t"
	done
}
prog_name() { # "type/name" of program ID
	bpftool prog show id "$1" 2>/dev/null | sed -nE '1s/^[0-9]+: ([a-z_]+) +name ([^ ]+).*/\1\/\2/p'
}

part_hookcost() {
	local runs=$RES/hookcost.tsv old pid phase n sent secs rx
	old=$(sysctl -n kernel.bpf_stats_enabled)
	CLEANUPS+=("sysctl -qw kernel.bpf_stats_enabled=$old")
	netns_up
	printf '# seconds=%s workers=%s flood_packets=%s bpf_stats_enabled_before=%s\n' "$DUR" "$WORKERS" \
		$((FLOOD_N / 5)) "$old" >"$runs"
	printf 'phase\tops\tprog_id\tprog\trun_cnt\trun_time_ns\n' >>"$runs"
	wait_quiet >/dev/null
	sysctl -qw kernel.bpf_stats_enabled=1
	start_tracer pw_watch || die "hookcost: portwatch did not get ready: $(<"$TMP/why")"
	pid=$TPID
	prog_stats "$pid" ready 0 >>"$runs"
	for phase in connect bind0 udp; do
		OUT=$(load "$phase") || true
		n=$(json_num connections <<<"$OUT")
		prog_stats "$pid" "$phase" "${n:-0}" >>"$runs"
		log "hookcost: $phase storm, ${n:-0} operations"
	done
	read -r sent secs rx < <(flood synflood $((FLOOD_N / 5)))
	prog_stats "$pid" flood "${rx:-0}" >>"$runs"
	log "hookcost: flood, ${rx:-0} packets received"
	stop_bg "$BGPID"; BGPID=
	sysctl -qw kernel.bpf_stats_enabled="$old"
}

part_replay() {
	local i
	: >"$RES/replay.tsv"
	for i in 1 2 3; do
		wait_quiet >/dev/null
		# on the last CPU, alone: "one core"
		"$REPLAY" --seconds 2 --cpu $(($(nproc) - 1)) | sed "s/^/$i\t/;1s/^$i\t/run\t/" |
			{ if ((i > 1)); then tail -n +2; else cat; fi; } >>"$RES/replay.tsv"
		log "replay run $i/3 done"
	done
}

part_profile() {
	local txt=$RES/profile.txt
	command -v perf >/dev/null || die "perf is not installed (linux-perf)"
	wait_quiet >/dev/null
	start_tracer pw_watch || die "profile: portwatch did not get ready: $(<"$TMP/why")"
	# cpu-clock: a software event; hardware PMU access traps in a VM and
	# shows up as native_write_msr, drowning everything else
	perf record -q -e cpu-clock -F 999 -a -g -o "$RES/perf.data" -- sleep "$DUR" 2>/dev/null &
	local perf_pid=$!
	load >/dev/null || true
	wait "$perf_pid" || true
	stop_bg "$BGPID"; BGPID=
	{
		echo "# perf record -e cpu-clock -a -g, $DUR s of connstorm --mode connect --workers $WORKERS under portwatch watch"
		echo "## by symbol (self)"
		perf report -i "$RES/perf.data" --no-children --sort sym --stdio -g none --percent-limit 0.7 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -40
		echo "## by command and object (self)"
		perf report -i "$RES/perf.data" --no-children --sort comm,dso --stdio -g none --percent-limit 0.5 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -20
		echo "## portwatch's own process, by symbol"
		perf report -i "$RES/perf.data" --no-children --comm portwatch --sort sym --stdio -g none \
			--percent-limit 0.3 2>/dev/null | grep -v '^#' | grep -v '^$' | head -25
	} >"$txt"
	rm -f "$RES/perf.data" "$RES/perf.data.old"
	log "profile in $txt"
}

# --- report ----------------------------------------------------------------------
pct() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b > 0 ? 100 * a / b : 0 }'; }

report_storm() {
	local hdr kv
	hdr=$(sed -n '1s/^# //p' "$1")
	for kv in $hdr; do
		case $kv in
		workers=*) WORKERS=${kv#*=} ;; seconds=*) DUR=${kv#*=} ;; rounds=*) ROUNDS=${kv#*=} ;;
		baseline=*) BASELINE_N=${kv#*=} ;; configs=*) CONFIGS=${kv#*=}; CONFIGS=${CONFIGS//,/ } ;;
		esac
	done
	echo "Load: \`connstorm --mode connect --workers $WORKERS --seconds $DUR\`, $ROUNDS interleaved rounds" \
		"(order rotated each round); resident BPF hook programs accepted as baseline: $BASELINE_N."
	echo
	awk -F'\t' -v order="$CONFIGS" -v dur="$DUR" -f "$BENCH_DIR/stats.awk" -f <(cat <<'AWK'
	/^#/ || $1 == "round" { next }
	{
		cfg = $2
		if ($3 == "NA") { fail[cfg]++; next }
		if ($12 != "-") { flagged[cfg]++; nflagged++; next }
		k = ++n[cfg]; v[cfg, k] = $3; rate[$1, cfg] = $3
		cpu[cfg, k] = 100 * $6 / dur
		if ($7 != "-") { rec[cfg] += $7; conns[cfg] += $4 }
		if ($8 != "-") { lost[cfg] += $8; haslost[cfg] = 1 }
		if ($9 != "-") { rd[cfg, ++nr[cfg]] = $9 }
	}
	END {
		for (i = 1; i <= n["untraced"]; i++) b[i] = v["untraced", i]
		base = median(b, n["untraced"])
		print "| config | runs | median conn/s | ratio to untraced | per-round ratio min–max | tracer CPU, % of one core (median) | records per connection | records lost | launch to ready, ms (median) |"
		print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
		m = split(order, cfgs, " ")
		for (c = 1; c <= m; c++) {
			cfg = cfgs[c]
			extra = (fail[cfg] ? sprintf(" +%d failed", fail[cfg]) : "") (flagged[cfg] ? sprintf(" +%d flagged", flagged[cfg]) : "")
			if (!n[cfg]) { printf "| %s | 0%s | – | – | – | – | – | – | – |\n", cfg, extra; continue }
			delete a; delete x; delete y
			for (i = 1; i <= n[cfg]; i++) { a[i] = v[cfg, i]; x[i] = cpu[cfg, i] }
			for (i = 1; i <= nr[cfg]; i++) y[i] = rd[cfg, i]
			med = median(a, n[cfg])
			rlo = 1e9; rhi = 0
			for (k in rate) {
				split(k, kk, SUBSEP)
				if (kk[2] != cfg || !((kk[1], "untraced") in rate)) continue
				q = rate[k] / rate[kk[1], "untraced"]
				if (q < rlo) rlo = q; if (q > rhi) rhi = q
			}
			printf "| %s | %d%s | %.0f | %s | %s | %s | %s | %s | %s |\n", cfg, n[cfg], extra, med,
				base ? sprintf("%.3f", med / base) : "–",
				(cfg == "untraced" || rhi == 0) ? "–" : sprintf("%.3f–%.3f", rlo, rhi),
				cfg == "untraced" ? "–" : sprintf("%.1f", median(x, n[cfg])),
				conns[cfg] ? sprintf("%.2f%s", rec[cfg] / conns[cfg], cfg == "bt_count" ? " (in-map counts)" : "") : "–",
				haslost[cfg] ? lost[cfg] : "–",
				nr[cfg] ? sprintf("%.0f", median(y, nr[cfg])) : "–"
		}
		if (nflagged)
			printf "\n%d run(s) flagged (CPU busy before the run, other tasks used > FOREIGN_MAX of the CPUs during it, or a foreign BPF hook program was loaded) and left out; see the raw TSV.\n", nflagged
	}
AWK
	) "$1"
}

report_peers() {
	echo "| config | what | loads here | launch to ready, ms (one launch) | why not |"
	echo "|---|---|---|---:|---|"
	awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s |\n", $1, $4, $2, $3, $5 == "-" ? "" : $5 }' "$1"
}

report_flood() {
	local hdr
	hdr=$(sed -n '1s/^# //p' "$1")
	echo "Generators, from 198.18.0.2 (own namespace) to a listener on 198.18.0.1:8080 (own namespace):" \
		"\`hping3 -S -i u7 -c N --rand-source\` and \`synflood\` (tools/bench/synflood.c, paced, sources" \
		"in 198.18.0.0/15); settings: $hdr. Seconds: while packets arrived (the server's veth rx counter," \
		"sampled every 50 ms); the tracer's CPU is over that window."
	echo
	echo "| generator | round | config | sent | received | seconds | packets/s received | tracer CPU, % of one core | kernel maps, MiB (ready → end) | RSS, MiB (peak) | events | first sightings not sent (rate limit) | lost |"
	echo "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' '/^#/ || $1 == "round" { next }
	{ mib0 = $8 == "-" ? "–" : sprintf("%.1f", $8 / 1048576); mib1 = $9 == "-" ? "–" : sprintf("%.1f", $9 / 1048576)
	  u = $2 == "untraced"
	  printf "| %s | %d | %s | %s | %s | %.2f | %.0f | %s | %s | %s | %s | %s | %s |%s\n", $3, $1 + 1, $2, $4, $6, $5,
		($5 > 0 ? $6 / $5 : 0), u ? "–" : sprintf("%.1f", ($5 > 0 ? 100 * $7 / $5 : 0)), u ? "–" : mib0 " → " mib1,
		$10 == "-" ? "–" : sprintf("%.1f (%.1f)", $10 / 1024, $11 / 1024), $12 == "-" ? "–" : $12,
		$14 == "-" ? "–" : $14, $13 == "-" ? "–" : $13, $15 == "-" ? "" : " flagged: " $15 }' "$1"
}

report_hookcost() {
	echo "Per program, between snapshots of \`/proc/PID/fdinfo\` (run_cnt, run_time_ns) taken after each phase;" \
		"runs per operation (connection, bind, datagram, packet) and average ns per run."
	echo
	awk -F'\t' '/^#/ || $1 == "phase" { next }
	{ key = $3; name[key] = $4; if (!(key in seen)) { seen[key] = 1; order[++np] = key }
	  if ($1 != "ready") { c = $5 - pc[key]; t = $6 - pt[key]; runs[$1, key] = c; time[$1, key] = t; ops[$1] = $2
	    if (!($1 in ph)) { ph[$1] = 1; phases[++nph] = $1 } }
	  pc[key] = $5; pt[key] = $6 }
	END {
		printf "| program |"; for (p = 1; p <= nph; p++) printf " %s: runs/op | %s: ns/run |", phases[p], phases[p]; print ""
		printf "|---|"; for (p = 1; p <= nph; p++) printf "---:|---:|"; print ""
		for (i = 1; i <= np; i++) {
			k = order[i]; any = 0
			for (p = 1; p <= nph; p++) any += runs[phases[p], k]
			if (!any) continue
			printf "| %s |", name[k]
			for (p = 1; p <= nph; p++) {
				ph1 = phases[p]; r = runs[ph1, k]
				# a handful of runs from other processes: cold caches, not a rate
				printf " %s | %s |", ((r && ops[ph1]) ? sprintf("%.2f", r / ops[ph1]) : "–"),
					(r >= 100 ? sprintf("%.0f", time[ph1, k] / r) : (r ? sprintf("(%d runs)", r) : "–"))
			}
			print ""
		}
		printf "| operations |"; for (p = 1; p <= nph; p++) printf " %s | |", ops[phases[p]]; print ""
		printf "| **all programs, ns per operation** |"
		for (p = 1; p <= nph; p++) { t = 0; for (i = 1; i <= np; i++) t += time[phases[p], order[i]]
			printf " | **%s** |", ops[phases[p]] ? sprintf("%.0f", t / ops[phases[p]]) : "–" }
		print ""
	}' "$1"
}

report_replay() {
	echo "| path | records/s on one core (median of 3) | ns per record | min–max records/s |"
	echo "|---|---:|---:|---:|"
	awk -F'\t' -f "$BENCH_DIR/stats.awk" -f <(cat <<'AWK'
	$1 == "run" { next }
	{ p = $2; if (!(p in seen)) { seen[p] = 1; order[++np] = p } v[p, ++n[p]] = $5 }
	END { for (i = 1; i <= np; i++) { p = order[i]; delete a; lo = 1e18; hi = 0
		for (j = 1; j <= n[p]; j++) { a[j] = v[p, j]; if (a[j] < lo) lo = a[j]; if (a[j] > hi) hi = a[j] }
		m = median(a, n[p]); printf "| %s | %.0f | %.0f | %.0f–%.0f |\n", p, m, 1e9 / m, lo, hi } }
AWK
	) "$1"
}

report() {
	local d=$1
	echo "# portwatch benchmarks"
	echo
	[[ -s $d/machine.txt ]] && { sed 's/^/    /' "$d/machine.txt"; echo; }
	if [[ -s $d/peers.tsv ]]; then echo "## Which peers load"; echo; report_peers "$d/peers.tsv"; echo; fi
	if [[ -s $d/storm.tsv ]]; then echo "## Loopback connect storm"; echo; report_storm "$d/storm.tsv"; echo; fi
	if [[ -s $d/flood.tsv ]]; then echo "## SYN flood into a namespace"; echo; report_flood "$d/flood.tsv"; echo; fi
	if [[ -s $d/hookcost.tsv ]]; then echo "## BPF program cost (kernel.bpf_stats_enabled)"; echo; report_hookcost "$d/hookcost.tsv"; echo; fi
	if [[ -s $d/replay.tsv ]]; then echo "## Userspace replay (tools/bench/replay.c)"; echo; report_replay "$d/replay.tsv"; echo; fi
	if [[ -s $d/profile.txt ]]; then echo "## Profile"; echo; echo '```'; cat "$d/profile.txt"; echo '```'; fi
}

if [[ -n $REPORT ]]; then
	report "$REPORT"
	exit 0
fi

# --- build -----------------------------------------------------------------------
[[ $(id -u) -eq 0 ]] || die "must run as root (BPF)"
STORM=$OUT/connstorm
PW=$OUT/portwatch
READYWAIT=$OUT/readywait
REPLAY=$OUT/replay
SYNFLOOD=$OUT/synflood
if ((BUILD)); then
	log "building into $OUT/"
	make -s OUTPUT="$OUT" >&2
	cc -O2 -pthread -Wall -Wextra -Werror -o "$STORM" tools/bench/connstorm.c
	cc -O2 -Wall -Wextra -Werror -o "$READYWAIT" tools/bench/readywait.c -lbpf
	cc -O2 -Wall -Wextra -Werror -o "$SYNFLOOD" tools/bench/synflood.c
	# replay links the pure modules (the Makefile's PURE list) from this build
	# shellcheck disable=SC2016 # $(PURE) is make's, not ours
	read -r -a pure < <(make -s --no-print-directory -f Makefile -f <(printf 'bench-pure:\n\t@echo $(PURE)\n') bench-pure)
	objs=("${pure[@]/#/$OUT/user/}")
	objs=("${objs[@]/%/.o}")
	make -s OUTPUT="$OUT" "${objs[@]}" >&2
	cc -g -O2 -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuser -I"$OUT" -o "$REPLAY" \
		tools/bench/replay.c "${objs[@]}" -lm
fi
for f in "$STORM" "$PW" "$READYWAIT" "$REPLAY" "$SYNFLOOD"; do
	[[ -x $f ]] || die "missing $f (run without -B)"
done
mkdir -p "$RES"

# bcc compiles its programs against kernel headers; this kernel ships none
# (no /lib/modules/RELEASE/build, no CONFIG_IKHEADERS). tools/install-deps.sh
# bench unpacks Debian's: the tracepoint tools read their arguments from
# tracefs, so only struct offsets they read beyond those can be off.
BCC_KSRC=${BCC_KERNEL_SOURCE:-}
if [[ -z $BCC_KSRC && ! -e /lib/modules/$(uname -r)/build ]]; then
	BCC_KSRC=$(find /var/cache/portwatch-bench -maxdepth 1 -name 'kheaders-*' 2>/dev/null | sort -V | tail -1) || true
fi

bench_begin
# A run's report is its own: results of parts not run this time go.
rm -f "$RES"/{machine.txt,peers.tsv,storm.tsv,flood.tsv,hookcost.tsv,replay.tsv,profile.txt,report.md}
{
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "nproc: $(nproc)"
	echo "kernel: $(uname -r)"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
	echo "portwatch: $(git describe --always --dirty 2>/dev/null || echo '?') ($PW)"
	for p in libbpf1 libbpf-tools bpfcc-tools bpftrace hping3 linux-perf clang; do
		echo "$p: $(dpkg-query -W -f '${Version}' "$p" 2>/dev/null || echo 'not installed')"
	done
	echo "bcc kernel headers: ${BCC_KSRC:-none}"
	echo "storm: connstorm --mode $MODE --workers $WORKERS --seconds $DUR, $ROUNDS rounds"
} >"$RES/machine.txt"
bpf_baseline
has_part peers && part_peers
has_part storm && part_storm
has_part flood && part_flood
has_part hookcost && part_hookcost
has_part replay && part_replay
has_part profile && part_profile
report "$RES" | tee "$RES/report.md"
