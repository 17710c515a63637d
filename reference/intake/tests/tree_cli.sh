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
#   series   the fixture series on the tree (format-patch files; the mbox
#            with its cover letter; patch 2 as a quoted-printable mail):
#            base pass, 1/3 pass, 2/3 COUNTEREXAMPLE at the tree's line
#            after patch 2, 3/3 pass; the tree, a git repository with the
#            output directory inside it, is left as it was
#   alone    without a tree: a patch adding free_pages_bulk() whole is
#            judged; one touching none of the family is untouched (exit 0);
#            one changing a function needs --tree (exit 2)
#   badpatch a patch that does not apply, a gap in the numbering, an empty
#            mbox, a binary file, a mail without a patch: exit 2, one line
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
series)
	series=$fixtures/series
	# The tree as a git repository, the output directory inside it: git
	# apply must patch the private copy, never the repository around it.
	git -C linux init -q && git -C linux add -A &&
		git -C linux -c user.name=t -c user.email=t@t commit -qm base
	expect_series() { # OUT_FILE
		grep -Eq '^base +pass +pass +pass +pass' "$1" || { cat "$1"; fail "base not pass"; }
		grep -Eq '^\[1/3\] [^ ].* +pass +pass +pass +pass' "$1" || { cat "$1"; fail "1/3 not pass"; }
		grep -Eq '^\[2/3\] [^ ].* +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE +COUNTEREXAMPLE' "$1" || { cat "$1"; fail "2/3 not COUNTEREXAMPLE"; }
		grep -Eq '^\[3/3\] [^ ].* +pass +pass +pass +pass' "$1" || { cat "$1"; fail "3/3 not pass"; }
		grep -q "source: mm/page_alloc.c:$l2 (the call that broke it)" "$1" || { cat "$1"; fail "2/3's finding not at mm/page_alloc.c:$l2"; }
	}
	# Where patch 2 leaves the __free_frozen_pages() call.
	cp -r linux after2 && rm -rf after2/.git
	(cd after2 && git apply "$series"/0001-*.patch "$series"/0002-mm-*.patch)
	l2=$(line_of after2/mm/page_alloc.c '__free_frozen_pages(page, order, FPI_PREPARED);')
	rc=0
	"$bc" check "${quick[@]}" --out linux/buddycheck-out --tree linux "$series"/000[123]-*.patch >out 2>err || rc=$?
	[[ $rc == 1 ]] || { cat out err; fail "format-patch files: exit $rc, not 1"; }
	expect_series out
	[[ -z $(git -C linux status --porcelain --untracked-files=no) ]] || { git -C linux status; fail "the tree was changed"; }
	run 1 --tree linux "$series/series.mbox"
	expect_series out
	run 1 --tree linux "$series"/0003-*.patch "$series/0002-qp.eml" "$series"/0001-*.patch
	expect_series out
	echo "tree_cli series: base pass, 1/3 pass, 2/3 COUNTEREXAMPLE at mm/page_alloc.c:$l2, 3/3 pass; the tree untouched"
	;;
alone)
	series=$fixtures/series
	run 0 "$series/add-bulk.patch"
	grep -Eq '^mm/page_alloc: add free_pages_b.* +pass +pass +pass +pass' out || { cat out; fail "add-bulk not judged"; }
	grep -Eq 'from the patch: free_pages_bulk \(mm/page_alloc.c:[0-9]+\), the other 7 from the reference' out || { cat out; fail "no origin"; }
	run 0 "$series/docs.patch"
	grep -q 'untouched (the patch changes no function of the family)' out || { cat out; fail "docs.patch not untouched"; }
	run 2 "$series"/0001-*.patch
	grep -q "changes free_prepared_contig_range (mm/page_alloc.c:[0-9]*) without adding it whole: judging a change needs the tree" err || { cat err; fail "no --tree needed line"; }
	[[ $(wc -l <err) == 1 ]] || { cat err; fail "not one line"; }
	run 2 "$series"/0002-mm-*.patch
	grep -q "changes chunk_order (mm/page_alloc.c:[0-9]*), which the family may call" err || { cat err; fail "helper change not refused"; }
	echo "tree_cli alone: an added function judged, untouched, --tree needed"
	;;
badpatch)
	series=$fixtures/series
	: >empty.mbox
	head -c 512 "$bc" >binary.patch
	printf 'From: a@example.org\nSubject: [PATCH] hello\n\nno diff in this mail\n' >nodiff.eml
	for args in "$series/0003-*.patch" "$series/0001-*.patch $series/0003-*.patch" empty.mbox binary.patch nodiff.eml; do
		# shellcheck disable=SC2086 # the cases are word lists and globs
		run 2 --tree linux $args
		[[ $(wc -l <err) == 1 ]] || { cat err; fail "$args: not one line"; }
		grep -q '^buddycheck: ' err || fail "$args: no buddycheck: line"
	done
	# shellcheck disable=SC2086
	run 2 --tree linux $series/0003-*.patch
	grep -q 'does not apply to the tree: ' err || { cat err; fail "not 'does not apply'"; }
	# shellcheck disable=SC2086
	run 2 --tree linux $series/0001-*.patch $series/0003-*.patch
	grep -qx 'buddycheck: the series skips 2/3 (it has 1/3, 3/3)' err || { cat err; fail "the gap not named"; }
	run 2 --tree linux empty.mbox
	grep -q 'an empty mbox' err || fail "empty mbox not named"
	echo "tree_cli badpatch: one line and exit 2 for each"
	;;
*)
	fail "unknown case"
	;;
esac
