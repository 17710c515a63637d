#!/usr/bin/env bash
# Negative control of layout_check.sh: a model file that includes the trace
# layer's replay.hpp, and a base file that includes the model, must each be
# reported with file:line, and the check must fail; the same tree without
# them passes.
set -u
check=${1:?usage: layout_control.sh LAYOUT_CHECK}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
mkdir -p "$t"/reference/{base,model,trace}/include/buddycheck
touch "$t"/reference/base/include/buddycheck/format.hpp "$t"/reference/model/include/buddycheck/model.hpp \
	"$t"/reference/trace/include/buddycheck/replay.hpp
printf '#include "buddycheck/format.hpp"\n#include <vector>\n' >"$t/reference/model/memmap.cpp"
printf '#include "buddycheck/model.hpp"\n#include "buddycheck/format.hpp"\n' >"$t/reference/trace/replay.cpp"
if ! out=$(bash "$check" "$t"); then
	echo "FAIL: a tree that keeps the layering was refused: $out"
	exit 1
fi
printf '#include "buddycheck/model.hpp"\n\n#include "buddycheck/replay.hpp"\n' >"$t/reference/model/memmap.cpp"
printf '#include "buddycheck/model.hpp"\n' >"$t/reference/base/format.cpp"
out=$(bash "$check" "$t")
rc=$?
[ "$rc" = 1 ] || { echo "FAIL: exit $rc for upward includes (want 1): $out"; exit 1; }
grep -q '^reference/model/memmap.cpp:3: includes buddycheck/replay.hpp from trace (above model)$' <<<"$out" ||
	{ echo "FAIL: memmap.cpp's upward include not reported: $out"; exit 1; }
grep -q '^reference/base/format.cpp:1: includes buddycheck/model.hpp from model (above base)$' <<<"$out" ||
	{ echo "FAIL: format.cpp's upward include not reported: $out"; exit 1; }
[ "$(wc -l <<<"$out")" = 2 ] || { echo "FAIL: expected exactly two lines: $out"; exit 1; }
echo "PASS: both upward includes reported"
