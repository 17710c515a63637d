#!/usr/bin/env bash
# ctest frag/report_matches_data: docs/fragmentation.md is exactly what
# `buddycheck frag --render-report` renders from the committed
# docs/fragmentation/summary.csv and meta.json, so every number in it is
# the data's.  Negative control: one number changed in a copy of the data
# changes the rendered report.
#   report_check.sh BUDDYCHECK SOURCE_DIR WORKDIR
set -u
bc=$1
src=$2
work=$3
rm -rf "$work"
mkdir -p "$work"
fail=0
(cd "$src/docs" && "$bc" frag --render-report fragmentation) >"$work/rendered.md" || {
	echo "FAIL: --render-report exited $?"
	exit 1
}
if ! cmp -s "$src/docs/fragmentation.md" "$work/rendered.md"; then
	echo "FAIL: docs/fragmentation.md is not what its data renders (regenerate it with the command in its header):"
	diff "$src/docs/fragmentation.md" "$work/rendered.md" | head -10
	fail=1
fi
# The copy has the same name: the plots' links in the two renderings agree.
mkdir -p "$work/t"
cp -r "$src/docs/fragmentation" "$work/t/fragmentation"
# The first steady-state mean of the data, replaced by another number.
awk -F, 'BEGIN { OFS = "," } NR == 2 { $6 = $6 + 1 } { print }' "$src/docs/fragmentation/summary.csv" >"$work/t/fragmentation/summary.csv"
(cd "$work/t" && "$bc" frag --render-report fragmentation) >"$work/tampered.md"
if cmp -s "$work/rendered.md" "$work/tampered.md"; then
	echo "FAIL: negative control: a changed number in summary.csv did not change the report"
	fail=1
fi
exit $fail
