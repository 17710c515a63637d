#!/usr/bin/env bash
# The layering of README.md's "Layout": a folder's sources include headers of
# its own folder and of the folders below it, never above.  For each
# `#include "X"` of a C/C++ file of a checked folder, X is looked up in every
# folder's include directories; if it is found only in folders the file may
# not use, that is one line `file:line: includes X from FOLDER (above it)`
# and exit status 1 (candidates and test fixtures, inputs rather than
# code of a layer, are not checked).  Headers found nowhere (system or kernel-shim headers a
# candidate sees) are not the layering's business.
# usage: layout_check.sh SOURCE_ROOT
set -u
root=${1:?usage: layout_check.sh SOURCE_ROOT}
cd "$root" || exit 2

# folder | its include directories (relative to the root)
declare -A incdirs=(
	[base]="reference/base/include"
	[model]="reference/model/include"
	[trace]="reference/trace/include"
	[properties]="properties"
	[proofs]="proofs"
	[kernel]="reference/kernel/include reference/kernel/mm reference/kernel"
	[bench]="reference/bench"
	[fuzz]="fuzz"
	[mutate]="reference/mutate/include"
	[frag]="reference/frag/include"
	[intake]="reference/intake/include"
	[cli]="reference/cli"
)
# folder | its sources | the folders it may include from (itself first)
declare -A srcdir=(
	[base]=reference/base [model]=reference/model [trace]=reference/trace
	[properties]=properties [proofs]=proofs [kernel]=reference/kernel
	[bench]=reference/bench [fuzz]=fuzz [mutate]=reference/mutate [intake]=reference/intake [cli]=reference/cli
	[frag]=reference/frag
)
declare -A may=(
	[base]="base"
	[model]="model base"
	[trace]="trace model base"
	[properties]="properties trace model base"
	[proofs]="proofs model base"
	[kernel]="kernel properties trace model base"
	[bench]="bench kernel trace model base"
	[fuzz]="fuzz kernel trace model base"
	[mutate]="mutate base"
	[frag]="frag model base"
	[intake]="intake base"
	[cli]="cli frag intake mutate trace model base"
)

bad=0
for folder in "${!srcdir[@]}"; do
	dir=${srcdir[$folder]}
	[ -d "$dir" ] || continue
	while IFS= read -r -d '' file; do
		n=0
		while IFS= read -r line; do
			n=$((n + 1))
			[[ $line =~ ^[[:space:]]*#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]] || continue
			hdr=${BASH_REMATCH[1]}
			[ -e "$(dirname "$file")/$hdr" ] && continue # beside the file: its own folder
			found=""
			allowed=0
			for f in "${!incdirs[@]}"; do
				for d in ${incdirs[$f]}; do
					if [ -e "$d/$hdr" ]; then
						found+="$f "
						[[ " ${may[$folder]} " == *" $f "* ]] && allowed=1
					fi
				done
			done
			if [ -n "$found" ] && [ "$allowed" = 0 ]; then
				echo "$file:$n: includes $hdr from ${found% } (above $folder)"
				bad=1
			fi
		done <"$file"
	done < <(find "$dir" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) -not -path '*/candidates/*' -not -path '*/fixtures/*' -print0)
done
exit $bad
