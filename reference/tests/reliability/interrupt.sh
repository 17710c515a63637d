#!/usr/bin/env bash
# interrupt.sh BC SRC WORK SIGNAL STATUS: SIGINT/SIGTERM stops every child
# and exits 128+signal with a line saying so.
. "$(dirname "$0")/lib.sh"
sig=$1 status=$2
"$BC" check --no-proofs --seconds 60 --property-seconds 0 --fuzz-seconds 0 reference >run.out 2>&1 &
pid=$!
# Wait until a runner is running (the build done), then interrupt.
for _ in $(seq 1 600); do
	pgrep -f "$BUDDYCHECK_CACHE_DIR/entries/.*/runner suite" >/dev/null && break
	sleep 0.1
done
pgrep -f "$BUDDYCHECK_CACHE_DIR/entries/.*/runner suite" >/dev/null || fail "no runner started"
kill "-$sig" "$pid"
wait "$pid"
echo $? >run.rc
expect_status run "$status"
expect_output run "interrupted by SIG$sig; stopped [1-9][0-9]* running child"
sleep 0.2
! pgrep -f "$BUDDYCHECK_CACHE_DIR/entries/.*/runner" >/dev/null || fail "a runner survived"
echo "ok: SIG$sig -> $status, no child left"
