#!/usr/bin/env bash
# shim_fixture.sh BC SRC WORK FIXTURE VERDICT REGEX...: a candidate of
# fixtures/shim/ (the folio API, struct zone and its checked lock,
# zone_page_state) gets VERDICT in every memory-model column and each REGEX
# in its report.
. "$(dirname "$0")/lib.sh"
fixture=$1 verdict=$2
shift 2
run_bc shim check --no-proofs --seconds 0.2 --property-seconds 0 --fuzz-seconds 0 --out "$WORK/out" \
	"$SRC/reference/tests/fixtures/shim/$fixture.c"
if [[ $verdict == pass ]]; then expect_status shim 0; else expect_status shim 1; fi
expect_output shim "^$fixture\.c +$verdict +$verdict +$verdict +$verdict"
for regex in "$@"; do
	expect_output shim "$regex"
done
echo "ok: $fixture: $verdict"
