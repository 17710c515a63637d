#!/usr/bin/env bash
# exit_status.sh BC SRC WORK: every documented exit status, each from the
# case that must give it.
. "$(dirname "$0")/lib.sh"
quick=(--no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0)
check_case() { # NAME STATUS REGEX ARGS...
	local name=$1 status=$2 regex=$3
	shift 3
	run_bc "$name" "$@"
	expect_status "$name" "$status"
	expect_output "$name" "$regex"
	echo "ok: $name -> $status"
}
printf '' >empty.c
printf '#include <linux/mm.h>\nvoid free_prepared_contig_ranges(struct page *page, unsigned long nr_pages)\n{\n}\n' >misnamed.c
head -c 4096 "$BC" >binary.c
check_case pass 0 '^reference\.c +pass' check "${quick[@]}" reference
check_case finding 1 'COUNTEREXAMPLE' check "${quick[@]}" neg_uncapped_order
# A located finding: the candidate's line of the call that broke the contract.
expect_output finding 'source: /.*/neg_uncapped_order\.c:53 \(the call that broke it\)'
check_case require_batched 1 'NOT-BATCHED' check "${quick[@]}" --require-batched naive
check_case not_batched_is_no_finding 0 'not-batched' check "${quick[@]}" naive
check_case bad_option 2 "buddycheck: .*--no-such-option" check --no-such-option
check_case bad_number 2 'buddycheck: .*--seconds' check --seconds soon
check_case fuzz_seconds_range 2 'buddycheck: .*--fuzz-seconds' check --fuzz-seconds -1
check_case no_command 2 'no command'
check_case unknown_command 2 "unknown command 'chek'" chek
check_case replay_engine_and_candidate 2 '--engine excludes --candidate' replay --engine reference --candidate naive "$SRC/corpus/traces/section_crossing_classic_sparse.trace"
check_case bench_engine_and_candidate 2 '--engine excludes --candidate' bench --engine reference --candidate naive
check_case no_such_file 2 '^buddycheck: nosuch\.c: no such file' check "${quick[@]}" nosuch.c
check_case directory 2 'is a directory' check "${quick[@]}" "$WORK"
check_case empty_file 2 "defines none of the family's entry points" check "${quick[@]}" empty.c
check_case misnamed 2 'misnamed\.c:2: free_prepared_contig_ranges looks like free_prepared_contig_range' check "${quick[@]}" misnamed.c
check_case binary 2 'not a C source file' check "${quick[@]}" binary.c
[[ $(wc -l <binary.out) == 1 ]] || fail "binary input: more than one line"
check_case syntax_error 2 'syntax_error\.c:7:.*expected' check "${quick[@]}" "$SRC/reference/tests/fixtures/syntax_error.c"
! grep -q 'wrapper\.c' syntax_error.out || fail "syntax error reported in the generated wrapper"
check_case unwritable_out 2 'cannot create the output directory' check "${quick[@]}" --out /proc/buddycheck-out reference
BUDDYCHECK_PROOFS=$WORK/no-such-proofs check_case missing_proofs 3 "cannot run the proofs.*own failure" check --seconds 0 --property-seconds 0 --fuzz-seconds 0 reference
BUDDYCHECK_CC=/nonexistent/clang check_case missing_compiler 3 "own failure" check "${quick[@]}" reference
check_case cache_usage 2 'cache' cache frobnicate
check_case cache_clean 0 'removed' cache clean
