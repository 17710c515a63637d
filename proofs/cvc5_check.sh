#!/bin/bash
# ctest proofs_cvc5: every query of `proofs --emit-smt2` checked by cvc5,
# which must give Z3's answer (the MANIFEST and file names: unsat = proved
# obligation, sat = refuted mutant).  cvc5 is bounded by its deterministic
# resource limit (--rlimit-per, resource units per query: the same answer on
# an idle or a loaded machine), not by the clock; a query that exhausts it
# answers "unknown", which fails the test like any disagreement.  A wall-clock
# backstop (timeout(1), BACKSTOP_S seconds per file) only guards against a
# hung process.  Nothing is skipped.
# Usage: cvc5_check.sh PROOFS CVC5 DIR RLIMIT OBLIGATION[,OBLIGATION...] [BACKSTOP_S]
# (one ctest per group of obligations, each with its own DIR).  PROOFS "-":
# DIR already holds the queries and MANIFEST (candidate-proofs --emit-smt2).
set -u
proofs=$1 cvc5=$2 dir=$3 rlimit=$4 only=$5 backstop=${6:-900}
if [ "$proofs" != - ]; then
	rm -rf "$dir" && mkdir -p "$dir" || exit 2
	"$proofs" --only "$only" --emit-smt2 "$dir" > "$dir/proofs.out" || { cat "$dir/proofs.out"; echo "proofs failed"; exit 1; }
fi
[ -s "$dir/MANIFEST" ] || { echo "no MANIFEST"; exit 1; }
check() { # WANT FILE -> "ok|MISMATCH WANT GOT MS UNITS FILE"
	local s=$(date +%s%N)
	local out=$(timeout --kill-after=10 "$backstop" "$cvc5" --lang smt2 --rlimit-per="$rlimit" --stats --stats-internal "$dir/$2" 2>&1)
	local rc=$?
	local ms=$((($(date +%s%N) - s) / 1000000))
	local got=$(echo "$out" | head -1)
	local units=$(echo "$out" | sed -n 's/^resource::resourceUnitsUsed = //p')
	[ $rc -ge 124 ] && got="killed-by-backstop-${backstop}s"
	[ "$got" = "$1" ] && echo "ok $1 $got ${ms}ms ${units:-?}units $2" || echo "MISMATCH $1 ${got:-no-output} ${ms}ms ${units:-?}units $2"
}
export -f check; export cvc5 dir rlimit backstop
start=$(date +%s%N)
xargs -P "$(nproc)" -L 1 bash -c 'check "$0" "$1"' < "$dir/MANIFEST" > "$dir/cvc5.out"
wall=$((($(date +%s%N) - start) / 1000000))
total=$(wc -l < "$dir/MANIFEST"); checked=$(wc -l < "$dir/cvc5.out"); bad=$(grep -c '^MISMATCH' "$dir/cvc5.out")
sort -t' ' -k5 -n "$dir/cvc5.out" | tail -3 | sed 's/^/most resources: /'
grep '^MISMATCH' "$dir/cvc5.out"
echo "cvc5 $("$cvc5" --version | head -1 | sed 's/.*version //'): $checked of $total files checked, $bad disagree with Z3 (unknown = resource limit exhausted: --rlimit-per=$rlimit units per query; wall-clock backstop ${backstop} s per file), cvc5 wall ${wall} ms"
[ "$checked" -eq "$total" ] && [ "$bad" -eq 0 ]
