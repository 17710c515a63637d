#!/usr/bin/env bash
# fuzz_fractional.sh BC SRC WORK: --fuzz-seconds 0.5 runs each fuzz target
# for half a second (libFuzzer counts whole seconds: buddycheck interrupts
# it), still finds a negative control, and is clean on the reference.
. "$(dirname "$0")/lib.sh"
quick=(check --no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0.5)
run_bc warmup "${quick[@]}" reference # builds the fuzz runtime and the fuzzers
expect_status warmup 0
SECONDS=0
start=$(date +%s%N)
run_bc clean "${quick[@]}" reference
ms=$((($(date +%s%N) - start) / 1000000))
expect_status clean 0
expect_output clean '^reference\.c +pass +pass +pass +pass +clean'
((ms < 20000)) || fail "a 0.5 s fuzz column took $ms ms in all"
run_bc found "${quick[@]}" neg_uncapped_order
expect_status found 1
expect_output found '^neg_uncapped_order\.c +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE +FOUND'
echo "ok: 0.5 s fuzzing: reference clean in $ms ms, neg_uncapped_order found"
