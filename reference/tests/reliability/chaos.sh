#!/usr/bin/env bash
# chaos.sh BC SRC WORK FIXTURE VERDICT CELL_SECONDS REGEX...: a misbehaving
# candidate gets VERDICT in every memory-model column and each REGEX in its
# report, exit 1, within its cell limits (3 columns x CELL_SECONDS, plus the
# build and 20 s).  Only the TIMEOUT case has a short limit: the others must
# get their verdict however busy the machine is.
. "$(dirname "$0")/lib.sh"
fixture=$1 verdict=$2 cell=$3
shift 3
start=$(date +%s%N)
run_bc chaos check --no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0 --cell-seconds "$cell" --cell-memory-mb 768 \
	--out "$WORK/out" "$CHAOS/$fixture.c"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
expect_status chaos 1
expect_output chaos "^$fixture\.c +$verdict +$verdict +$verdict"
for regex in "$@"; do
	expect_output chaos "$regex"
done
((elapsed_ms < (3 * cell + 20) * 1000)) || fail "took $elapsed_ms ms"
echo "ok: $fixture: $verdict in $elapsed_ms ms"
