#!/usr/bin/env bash
# tree_cli.sh BUDDYCHECK FIXTURES CASE: `buddycheck check --tree` end to end
# on copies of the fixture tree (fixtures/linux/README.md).
#   pass     the tree's own family passes every memory-model column; the
#            line under the row names each function's file:line; the
#            skipped old free_pages_bulk is a note; the tree, read-only,
#            is not written to
#   bug      the chunk loop without its MAX_PAGE_ORDER cap: COUNTEREXAMPLE,
#            located at the tree's __free_frozen_pages() line
#   missing  calls the shim lacks: one line each with the tree's file:line,
#            exit 2
#   bad      not a tree, a missing directory, a tree without the family:
#            exit 2, one line
set -euo pipefail
bc=$1 fixtures=$2 case=$3
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
fail() { echo "tree_cli $case: $*"; exit 1; }
quick=(--no-proofs --seconds 0.2 --property-seconds 0 --fuzz-seconds 0)
cp -r "$fixtures/linux" "$work/linux"
cd "$work"

run() { # EXPECTED_STATUS ARGS...: the output in out, err
	local want=$1 rc=0
	shift
	"$bc" check "${quick[@]}" --out "$work/run-$RANDOM" "$@" >out 2>err || rc=$?
	[[ $rc == "$want" ]] || { cat out err; fail "exit $rc, not $want"; }
}
line_of() { grep -n -m1 -F -- "$2" "$1" | cut -d: -f1; }

case $case in
pass)
	chmod -R a-w linux
	run 0 --tree linux
	grep -Eq '^linux \(tree\) +pass +pass +pass +pass' out || { cat out; fail "not pass in every column"; }
	l=$(line_of linux/mm/page_alloc.c 'static void free_prepared_contig_range(')
	grep -q "from the tree: free_prepared_contig_range (mm/page_alloc.c:$l)" out || { cat out; fail "no origin line"; }
	grep -q "num_pages_contiguous (include/linux/mm.h:$(line_of linux/include/linux/mm.h 'static inline size_t num_pages_contiguous('))" out ||
		fail "num_pages_contiguous not from include/linux/mm.h"
	old=$(line_of linux/mm/page_alloc.c 'void free_pages_bulk(')
	grep -q "note: mm/page_alloc.c:$old: free_pages_bulk is in a block the preprocessor skips" out || { cat out; fail "no note on the skipped definition"; }
	diff -r "$fixtures/linux" linux >/dev/null || fail "the tree was changed"
	echo "tree_cli pass: every column pass, origins and the skipped definition named"
	;;
bug)
	python3 - linux/mm/page_alloc.c <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = "order = pfn ? min_t(unsigned int, __ffs(pfn), MAX_PAGE_ORDER)\n\t\t\t    : MAX_PAGE_ORDER;"
assert old in s
open(p, "w").write(s.replace(old, "order = pfn ? __ffs(pfn) : MAX_PAGE_ORDER;"))
PY
	run 1 --tree linux
	grep -Eq '^linux \(tree\) +COUNTEREXAMPLE' out || { cat out; fail "no COUNTEREXAMPLE"; }
	l=$(line_of linux/mm/page_alloc.c '__free_frozen_pages(page, order, FPI_PREPARED);')
	grep -q "chunk_order_cap: __free_frozen_pages(pfn .*) exceeds MAX_PAGE_ORDER" out || { cat out; fail "not the order cap"; }
	grep -q "source: mm/page_alloc.c:$l (the call that broke it)" out || { cat out; fail "the finding is not at mm/page_alloc.c:$l"; }
	echo "tree_cli bug: COUNTEREXAMPLE at mm/page_alloc.c:$l"
	;;
missing)
	python3 - linux/mm/page_alloc.c <<'PY'
import sys
p = sys.argv[1]; s = open(p).read()
old = "\t\t__free_frozen_pages(page, order, FPI_PREPARED);\n"
assert old in s
open(p, "w").write(s.replace(old, "\t\tif (zone_spans_pfn(page_zone(page), pfn))\n\t\t\taccount_freepages(page_zone(page), 1 << order, MIGRATE_MOVABLE);\n" + old))
PY
	run 2 --tree linux
	l=$(line_of linux/mm/page_alloc.c 'if (zone_spans_pfn(')
	grep -qx "buddycheck: mm/page_alloc.c:$l: zone_spans_pfn: a function buddycheck's kernel shim does not provide" err || { cat err; fail "zone_spans_pfn not named"; }
	grep -qx "buddycheck: mm/page_alloc.c:$((l + 1)): account_freepages: a function buddycheck's kernel shim does not provide" err || { cat err; fail "account_freepages not named"; }
	grep -qx "buddycheck: linux (tree) does not compile" err || fail "no last line"
	echo "tree_cli missing: each missing name in one line at its file:line"
	;;
bad)
	mkdir -p empty/mm && printf '// nothing of the family\nint x;\n' >empty/mm/page_alloc.c
	for t in linux/mm nosuch empty; do
		run 2 --tree "$t"
		[[ $(wc -l <err) == 1 ]] || { cat err; fail "--tree $t: not one line"; }
		grep -q '^buddycheck: ' err || fail "--tree $t: no buddycheck: line"
	done
	echo "tree_cli bad: one line and exit 2 for each"
	;;
*)
	fail "unknown case"
	;;
esac
