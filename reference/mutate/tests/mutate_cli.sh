#!/usr/bin/env bash
# mutate_cli.sh BUDDYCHECK CASE: `buddycheck mutate` end to end.
#   list       --list on the reference: mutants of every operator, one a line
#   bad_input  a missing file, a file with no family function, a binary
#              file, a directory, an unknown --only, a negative --sample:
#              exit 2 and one line on stderr
#   control    the negative control: deleting `nr_pages -= 1UL << order;`
#              (the chunk loop runs past its range) must be killed; deleting
#              `cond_resched();` (a scheduling point: nothing the checkers
#              can see) must survive
set -euo pipefail
bc=$1 case=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "mutate_cli $case: $*"; exit 1; }

case $case in
list)
	"$bc" mutate --list >"$work/list"
	n=$(wc -l <"$work/list")
	[[ $n -ge 50 ]] || fail "only $n mutants of the reference"
	for op in ROR LCR NEG CRP AOR MMS SDL ARS; do
		grep -q "^$op-[0-9]" "$work/list" || fail "no $op mutant in --list"
	done
	"$bc" mutate --list >"$work/again"
	cmp -s "$work/list" "$work/again" || fail "two --list runs differ"
	"$bc" mutate --list --only ROR,SDL-1 >"$work/only"
	[[ $(grep -vc '^ROR-' "$work/only") == 1 ]] || fail "--only ROR,SDL-1 did not select ROR and SDL-1"
	"$bc" mutate --list --sample 8 --seed 3 >"$work/sample"
	[[ $(wc -l <"$work/sample") == 8 ]] || fail "--sample 8 did not give 8 mutants"
	[[ $(cut -d- -f1 "$work/sample" | sort -u | wc -l) == 8 ]] || fail "--sample 8 is not spread over the 8 operators"
	# Every entry of the equivalents list names a mutant of the reference
	# (a stale key, after an edit of reference.c, fails here).
	listed=$(grep -cv -e '^#' -e '^$' reference/mutate/equivalents.txt || true)
	marked=$(grep -c '  (equivalent)$' "$work/list" || true)
	[[ $listed == "$marked" ]] || fail "equivalents.txt has $listed entries, --list marks $marked mutants equivalent"
	echo "mutate_cli list: $n mutants, every operator, deterministic, $marked equivalent"
	;;
bad_input)
	printf 'int main(void) { return 0; }\n' >"$work/none.c"
	printf '\x7fELF\x00\x01' >"$work/binary.c"
	for args in "$work/missing.c" "$work/none.c" "$work/binary.c" "--only NOPE" "--sample -3" "$work"; do
		set +e
		# shellcheck disable=SC2086 # the cases are word lists
		"$bc" mutate --list $args >"$work/out" 2>"$work/err"
		rc=$?
		set -e
		[[ $rc == 2 ]] || fail "mutate $args: exit $rc, not 2"
		[[ $(wc -l <"$work/err") == 1 ]] || { cat "$work/err"; fail "mutate $args: not one line on stderr"; }
		[[ ! -s "$work/out" ]] || fail "mutate $args: printed mutants"
		grep -q '^buddycheck: ' "$work/err" || fail "mutate $args: no 'buddycheck:' line"
	done
	echo "mutate_cli bad_input: exit 2 with one line, for each case"
	;;
control)
	"$bc" mutate --list >"$work/list"
	runaway=$(awk '$1 ~ /^SDL-/ && /`nr_pages -= 1UL << order;` -> `;`/ { print $1 }' "$work/list")
	resched=$(awk '$1 ~ /^SDL-/ && /`cond_resched\(\);` -> `;`/ { print $1 }' "$work/list")
	# The VM_WARN_ON_ONCE(PageHead) deletion: only a golden trace that walks
	# a compound page into its BUG (expect bug) sees the missing WARN.
	warn=$(awk '$1 ~ /^SDL-/ && /`VM_WARN_ON_ONCE\(PageHead\(page\)\);` -> `;`/ { print $1 }' "$work/list")
	[[ -n $runaway && -n $resched && -n $warn ]] || fail "the control mutants are not in --list"
	"$bc" mutate --only "$runaway,$resched,$warn" --every-stage --jobs 2 --seconds 0.2 --property-seconds 0 --fuzz-seconds 0 --timeout 30 \
		--out "$work/run" --json "$work/result.json" >"$work/out" 2>"$work/err" || { cat "$work/err"; fail "mutate failed"; }
	python3 - "$work/result.json" "$runaway" "$resched" "$warn" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
by = {m["id"]: m for m in j["mutants"]}
k, s = by[sys.argv[2]], by[sys.argv[3]]
assert k["verdict"] == "killed", ("runaway loop not killed", k)
assert k["stage"] and k["invariant"], k
assert s["verdict"] == "survived", ("cond_resched deletion not survived", s)
w = by[sys.argv[4]]
assert w["verdict"] == "killed" and w["check"] == "differential", ("deleted WARN not killed by the differential check", w)
assert w["stage"].startswith("golden/") and all(x.startswith("golden/") for x in w["found_by"]), w
assert k["found_by"] and not s["found_by"], (k, s)
for m in j["mutants"]:
    for f in ("id", "key", "site", "operator", "function", "line", "diff", "class", "stage", "invariant", "seconds"):
        assert f in m, (f, m)
print("killed:", k["id"], k["stage"], k["invariant"], "| survived:", s["id"])
PY
	grep -q '^score: ' "$work/out" || fail "no score line"
	grep -q '^SDL ' "$work/out" || fail "no SDL row in the kill matrix"
	grep -q '^each stage alone' "$work/out" || fail "no per-stage table with --every-stage"
	[[ ! -e reference/candidates/mutants ]] || fail "wrote into the source tree"
	echo "mutate_cli control: the runaway mutant killed, the cond_resched deletion survived"
	;;
*)
	fail "unknown case"
	;;
esac
