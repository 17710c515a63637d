#!/bin/bash
# ctest proofs_cvc5: every query of `proofs --emit-smt2` checked by cvc5,
# which must give Z3's answer (the MANIFEST and file names: unsat = proved
# obligation, sat = refuted mutant).  A cvc5 timeout (--tlimit, per file) or
# error is reported and fails the test: nothing is skipped.
# Usage: cvc5_check.sh PROOFS CVC5 DIR TLIMIT_MS OBLIGATION[,OBLIGATION...]
# (one ctest per group of obligations, each with its own DIR).
set -u
proofs=$1 cvc5=$2 dir=$3 tlimit=$4 only=$5
rm -rf "$dir" && mkdir -p "$dir" || exit 2
"$proofs" --only "$only" --emit-smt2 "$dir" > "$dir/proofs.out" || { cat "$dir/proofs.out"; echo "proofs failed"; exit 1; }
[ -s "$dir/MANIFEST" ] || { echo "no MANIFEST"; exit 1; }
check() { # WANT FILE -> "ok|MISMATCH WANT GOT MS FILE"
	local s=$(date +%s%N)
	local got=$("$cvc5" --lang smt2 --tlimit="$tlimit" "$dir/$2" 2>&1 | head -1)
	local ms=$((($(date +%s%N) - s) / 1000000))
	[ "$got" = "$1" ] && echo "ok $1 $got ${ms}ms $2" || echo "MISMATCH $1 ${got:-no-output} ${ms}ms $2"
}
export -f check; export cvc5 dir tlimit
start=$(date +%s%N)
xargs -P "$(nproc)" -L 1 bash -c 'check "$0" "$1"' < "$dir/MANIFEST" > "$dir/cvc5.out"
wall=$((($(date +%s%N) - start) / 1000000))
total=$(wc -l < "$dir/MANIFEST"); checked=$(wc -l < "$dir/cvc5.out"); bad=$(grep -c '^MISMATCH' "$dir/cvc5.out")
sort -t' ' -k4 -n "$dir/cvc5.out" | sort -k4,4n | tail -3 | sed 's/^/slowest: /'
grep '^MISMATCH' "$dir/cvc5.out"
echo "cvc5 $("$cvc5" --version | head -1 | sed 's/.*version //'): $checked of $total files checked, $bad disagree with Z3 (timeouts count as disagreement, --tlimit=$tlimit ms), cvc5 wall ${wall} ms"
[ "$checked" -eq "$total" ] && [ "$bad" -eq 0 ]
