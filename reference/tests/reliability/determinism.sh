#!/usr/bin/env bash
# determinism.sh BC SRC WORK: the same files, options and seed give the same
# table and byte-identical counterexample traces, with a cold and a warm
# cache, in two output directories.
. "$(dirname "$0")/lib.sh"
args=(check --no-proofs --seconds 0.5 --property-seconds 0.5 --fuzz-seconds 0 --seed 7 neg_uncapped_order neg_frees_failed_prepare naive)
rm -rf "$BUDDYCHECK_CACHE_DIR"
run_bc cold "${args[@]}" --out "$WORK/cold"
run_bc warm "${args[@]}" --out "$WORK/warm"
expect_status cold 1
expect_status warm 1
diff <(rows cold) <(rows warm) || fail "the tables differ"
n=0
while IFS= read -r t; do
	cmp "$WORK/cold/$t" "$WORK/warm/$t" || fail "$t differs"
	n=$((n + 1))
done < <(cd "$WORK/cold" && find . -name '*.trace' | sort)
((n >= 6)) || fail "only $n traces to compare"
echo "ok: same table, $n traces byte-identical"
