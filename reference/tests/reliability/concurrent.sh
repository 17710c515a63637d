#!/usr/bin/env bash
# concurrent.sh BC SRC WORK ROUNDS CANDIDATE...: the candidates checked at
# once (one process each) over one cold cache, ROUNDS times: every run
# gets its candidate's expected row and exit status, and the cache ends
# with one entry per distinct candidate.
. "$(dirname "$0")/lib.sh"
rounds=$1
shift
expected() { # the row of a candidate run alone (its header's verdicts)
	case $1 in
	reference) echo "reference.c +pass +pass +pass +pass" ;;
	naive) echo "naive.c +not-batched +not-batched +not-batched +not-batched" ;;
	neg_uncapped_order) echo "neg_uncapped_order.c +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE" ;;
	*) fail "no expected row for $1" ;;
	esac
}
status_of() { [[ $1 == neg_* ]] && echo 1 || echo 0; }
for ((r = 1; r <= rounds; r++)); do
	rm -rf "$BUDDYCHECK_CACHE_DIR"
	i=0
	for c in "$@"; do
		i=$((i + 1))
		run_bc "r$r-$i" check --no-proofs --seconds 0.2 --property-seconds 0 --fuzz-seconds 0 "$c" &
	done
	wait
	i=0
	for c in "$@"; do
		i=$((i + 1))
		expect_status "r$r-$i" "$(status_of "$c")"
		expect_output "r$r-$i" "^$(expected "$c")"
	done
	distinct=$(printf '%s\n' "$@" | sort -u | wc -l)
	entries=$(ls "$BUDDYCHECK_CACHE_DIR/entries" | wc -l)
	[[ $entries == "$distinct" ]] || fail "round $r: $entries cache entries for $distinct candidates"
	leftovers=$(ls "$BUDDYCHECK_CACHE_DIR/tmp" | wc -l)
	[[ $leftovers == 0 ]] || fail "round $r: $leftovers build directories left in the cache's tmp/"
done
echo "ok: $rounds rounds of $# concurrent runs, every verdict right"
