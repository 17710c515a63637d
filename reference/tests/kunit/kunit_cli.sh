#!/usr/bin/env bash
# kunit_cli.sh BUDDYCHECK SOURCE_ROOT CC: `buddycheck replay --kunit`.
#   - a golden trace (failed_prepare_low_pfn) becomes a KUnit test whose
#     expectations are the trace's own `expect free`/`expect leaked` lines;
#   - a counterexample `check` wrote (neg_uncapped_order, flat) becomes one
#     too; each compiles with -Wall -Werror against the shim's headers
#     (<kunit/test.h> included), dropped into a tree's mm/tests/ as the
#     README says;
#   - a trace whose allocations the allocator chose has no KUnit form:
#     exit 2, one line.
set -euo pipefail
bc=$1 src=$2 cc=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "kunit_cli: $*"; exit 1; }
compile() { # FILE.c: as a file of mm/tests/ in a tree whose headers are the shim
	mkdir -p "$work/tree/mm/tests"
	cp "$src/reference/kernel/mm/internal.h" "$work/tree/mm/internal.h"
	cp "$1" "$work/tree/mm/tests/"
	"$cc" -std=gnu11 -Wall -Werror -fsyntax-only -I"$src/reference/kernel/include" -I"$src/reference/model/include" \
		"$work/tree/mm/tests/$(basename "$1")" || fail "$(basename "$1") does not compile"
}
"$bc" replay --kunit "$src/corpus/traces/failed_prepare_low_pfn.trace" >"$work/golden.c"
grep -q '^#include <kunit/test.h>$' "$work/golden.c" || fail "no kunit/test.h"
grep -q 'KUNIT_CASE(buddycheck_failed_prepare_low_pfn)' "$work/golden.c" || fail "no KUNIT_CASE"
grep -q 'alloc_contig_pages(BC_SPAN' "$work/golden.c" || fail "no aligned base allocation"
grep -q 'SetPageHWPoison(pfn_to_page(base + 0x9));' "$work/golden.c" || fail "the poisoned page is not poisoned"
grep -q 'free_contig_range(base + 0x3, 13);' "$work/golden.c" || fail "not the trace's free call"
# The trace's own expectations, as KUnit's: 0x0 order 3, 0x8 order 0,
# 0xa order 1, 0xc order 2, 0x9 leaked.
for e in '0x0)), 3U' '0x8)), 0U' '0xa)), 1U' '0xc)), 2U'; do
	grep -qF "KUNIT_EXPECT_EQ(test, buddy_order(pfn_to_page(base + $e);" "$work/golden.c" || fail "no expectation $e"
done
grep -qF 'KUNIT_EXPECT_FALSE(test, PageBuddy(pfn_to_page(base + 0x9)));' "$work/golden.c" || fail "0x9 not expected leaked"
compile "$work/golden.c"

rc=0
"$bc" check --no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0 --out "$work/run" neg_uncapped_order >/dev/null 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "neg_uncapped_order: exit $rc"
"$bc" replay --kunit "$work/run/neg_uncapped_order/flat.trace" >"$work/counterexample.c"
grep -q 'KUNIT_CASE(buddycheck_flat)' "$work/counterexample.c" || fail "no case for the counterexample"
compile "$work/counterexample.c"

printf 'buddycheck-trace 1\nconfig preset=small\nalloc a order=2\nfree_pages a\n' >"$work/chosen.trace"
rc=0
"$bc" replay --kunit "$work/chosen.trace" >"$work/out" 2>"$work/err" || rc=$?
[[ $rc == 2 && $(wc -l <"$work/err") == 1 && ! -s "$work/out" ]] || { cat "$work/err"; fail "a chosen allocation: exit $rc"; }
grep -q 'has no KUnit form' "$work/err" || fail "not said why"
echo "kunit_cli: the golden trace and a counterexample compile as KUnit tests; a chosen allocation is refused"
