#!/usr/bin/env bash
# kill9.sh BC SRC WORK: `buddycheck check` killed with -9 at several points
# (during the build, during the runs), then the same command again: the
# same verdict as an undisturbed run, no corrupt entry, no lock left
# blocking (the rerun ends in its usual time).
. "$(dirname "$0")/lib.sh"
args=(check --no-proofs --seconds 0.5 --property-seconds 0.5 --fuzz-seconds 0 neg_uncapped_order reference)
run_bc baseline "${args[@]}"
expect_status baseline 1
rows baseline >baseline.rows
for delay in 0.05 0.6 1.5 3; do
	rm -rf "$BUDDYCHECK_CACHE_DIR"
	"$BC" "${args[@]}" >/dev/null 2>&1 &
	pid=$!
	sleep "$delay"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	sleep 0.2 # the children die with it (PR_SET_PDEATHSIG)
	SECONDS=0
	run_bc "rerun-$delay" "${args[@]}"
	expect_status "rerun-$delay" 1
	rows "rerun-$delay" | diff baseline.rows - || fail "killed at $delay s: another verdict on the rerun"
	((SECONDS < 150)) || fail "killed at $delay s: the rerun took $SECONDS s (a stale lock?)"
	for e in "$BUDDYCHECK_CACHE_DIR"/entries/*; do
		[[ -f $e/stamp && -x $e/runner ]] || fail "killed at $delay s: corrupt cache entry $e"
	done
done
echo "ok: killed at 4 points, every rerun gave the undisturbed verdict"
