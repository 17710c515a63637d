#!/usr/bin/env bash
# prove_candidate.sh [--function F] [--only OBL,...] [--emit-smt2 DIR] CANDIDATE_PROOFS CC SOURCE_ROOT FILE.c [EXPECT...]:
# compiles FILE.c as buddycheck compiles a candidate for its proofs (clang
# -O1 -g, the shim's headers, free_prepared_contig_range kept out of line by
# a noinline declaration before the file), runs candidate-proofs on the IR
# and checks its RESULT line against each EXPECT (key=value: verdict=,
# refuted=, not_maximal=; a value may be a regex).
set -euo pipefail
emit=() function=()
if [[ ${1:-} == --function ]]; then
	function=(--function "$2")
	shift 2
fi
if [[ ${1:-} == --only ]]; then
	function+=(--only "$2")
	shift 2
fi
if [[ ${1:-} == --emit-smt2 ]]; then
	rm -rf "$2" && mkdir -p "$2"
	emit=(--emit-smt2 "$2")
	shift 2
fi
proofs=$1 cc=$2 src=$3 file=$4
shift 4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
defines=""
for n in free_prepared_contig_range __free_contig_range_common __free_contig_range __free_contig_frozen_range \
	free_contig_range free_contig_frozen_range free_pages_bulk num_pages_contiguous; do
	grep -Eq "^[a-z].*[^a-z_]$n\(" "$file" && defines+="#define BC_CANDIDATE_DEFINES_$n 1"$'\n'
done
# The chunk loop and the run splitting kept out of line (at -O1 a static
# function is inlined into its callers), static or not as the file has them.
storage() { grep -Eq "^static .*$1\(" "$file" && echo static; }
decls=""
grep -Eq '^[a-z].*[^a-z_]free_prepared_contig_range\(' "$file" &&
	decls+="$(storage free_prepared_contig_range) void free_prepared_contig_range(struct page *page, unsigned long nr_pages) __attribute__((noinline, used));"$'\n'
grep -Eq '^[a-z].*[^a-z_]__free_contig_range_common\(' "$file" &&
	decls+="$(storage __free_contig_range_common) void __free_contig_range_common(unsigned long pfn, unsigned long nr_pages, _Bool is_frozen) __attribute__((noinline, used));"$'\n'
printf '%sstruct page;\n%s#include "%s"\n' "$defines" "$decls" "$file" >"$work/wrapper.c"
"$cc" -std=gnu11 -O1 -g -S -emit-llvm -I"$src/reference/kernel/include" -I"$src/reference/model/include" \
	-I"$src/reference/kernel/mm" "$work/wrapper.c" -o "$work/candidate.ll"
rc=0
"$proofs" "${emit[@]}" "${function[@]}" "$work/candidate.ll" >"$work/out" || rc=$?
cat "$work/out"
result=$(grep '^RESULT ' "$work/out")
for e in "$@"; do
	key=${e%%=*} want=${e#*=}
	got=$(sed -E "s/.* $key=([^ ]*).*/\1/" <<<" ${result#RESULT }")
	[[ $got =~ ^($want)$ ]] || { echo "prove_candidate: $(basename "$file"): $key=$got, expected $want"; exit 1; }
done
[[ $rc -le 2 ]] || { echo "prove_candidate: candidate-proofs exited $rc"; exit 1; }
echo "prove_candidate: $(basename "$file"): ${result#RESULT }"
