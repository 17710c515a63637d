#!/bin/bash
# ctest proofs_cvc5/rlimit_bites: cvc5_check.sh must fail when the resource
# limit is too small.  The buddy group at --rlimit-per=30000: its hardest
# query (unsat.buddy.any.order.any.smt2, 57,549 units) answers "unknown" and
# is the one disagreement; the other 15 need at most 17,428 units and agree.
# Usage: cvc5_rlimit_bites.sh CVC5_CHECK PROOFS CVC5 DIR
set -u
check=$1 proofs=$2 cvc5=$3 dir=$4
out=$("$check" "$proofs" "$cvc5" "$dir" 30000 buddy 300)
rc=$?
echo "$out"
[ $rc -eq 1 ] || { echo "FAIL: cvc5_check.sh exited $rc with a too-small resource limit, expected 1"; exit 1; }
echo "$out" | grep -q '^MISMATCH unsat unknown .* unsat\.buddy\.any\.order\.any\.smt2$' ||
	{ echo "FAIL: no 'unknown' answer for unsat.buddy.any.order.any.smt2"; exit 1; }
echo "$out" | grep -q ': 16 of 16 files checked, 1 disagree with Z3' ||
	{ echo "FAIL: expected exactly that one disagreement"; exit 1; }
echo "the resource limit bites: exit 1, unknown for the one query that needs more"
