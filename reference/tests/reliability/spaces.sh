#!/usr/bin/env bash
# spaces.sh BC SRC WORK: a candidate and an output directory whose paths hold
# spaces; two candidates of the same name from two directories; the printed
# replay command pasted as it is.
. "$(dirname "$0")/lib.sh"
mkdir -p "dir with space/a" "dir with space/b"
cp "$SRC/reference/candidates/neg_uncapped_order.c" "dir with space/a/my cand.c"
cp "$SRC/reference/candidates/reference.c" "dir with space/b/my cand.c"
run_bc spaces check --no-proofs --seconds 0 --property-seconds 0 --fuzz-seconds 0 --out "$WORK/out dir" \
	"dir with space/a/my cand.c" "dir with space/b/my cand.c"
expect_status spaces 1
[[ -f "$WORK/out dir/my cand/flat.trace" ]] || fail "no trace of the first file"
[[ -d "$WORK/out dir/my cand-2" ]] || fail "the second file of the same name has no directory of its own"
[[ ! -e "$WORK/out dir/my cand-2/flat.trace" ]] || fail "the passing file has a counterexample trace"
cmd=$(grep -m1 '    replay: ' spaces.out | sed 's/^    replay: //')
[[ -n $cmd ]] || fail "no replay command printed"
(cd / && bash -c "$cmd") >replay.out 2>&1
rc=$?
[[ $rc == 1 ]] || { cat replay.out >&2; fail "the pasted replay command exited $rc, expected 1 (the counterexample)"; }
grep -q COUNTEREXAMPLE replay.out || fail "the pasted replay shows no counterexample"
echo "ok: paths with spaces, same-name files apart, replay command pasted from /"
