#!/usr/bin/env bash
# readme_cli.sh BUDDYCHECK README [--self-test]: the README's CLI section
# ("## The CLI") names exactly the subcommands `buddycheck --help` lists and,
# under each subcommand's heading ("### `SUB`"), exactly the options and
# positionals `buddycheck SUB --help` prints (the first cell of its table's
# rows: `--opt ARG`, `-q`, `--quiet`, `FILE.c...`; -h/--help left out).
# Exit 0 when they agree, 1 with every difference listed.
# --self-test: the check must pass on README and fail on copies of it with
# one option removed and with one added (the check can fail).
set -uo pipefail
bc=$1 readme=$2

# Names in a CLI11 help text: each line of two spaces then a name under
# "Options:" or "Positionals:" ("  -q,--quiet ...", "  TRACE TEXT ...").
help_names() {
	awk '/^Options:/ || /^Positionals:/ { on = 1; next }
	     /^[^ ]/ { on = 0 }
	     on && /^  [^ ]/ { n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] != "-h" && a[i] != "--help") print a[i] }' | sort -u
}
subcommands() {
	"$bc" --help | awk '/^Subcommands:/ { on = 1; next } /^[^ ]/ { on = 0 } on && /^  [^ ]/ { print $1 }' | sort -u
}
# The README's CLI section, as "SUB NAME" lines (and "SUB" for a heading).
readme_names() {
	awk '/^## / { on = ($0 == "## The CLI"); next }
	     !on { next }
	     /^### `[^`]+`$/ { sub_ = $2; gsub("`", "", sub_); print sub_; next }
	     /^### / { sub_ = ""; next }
	     sub_ != "" && /^\| `/ {
		cell = $0; sub(/^\| /, "", cell); sub(/ \|.*/, "", cell)
		while (match(cell, /`[^`]+`/)) {
			tok = substr(cell, RSTART + 1, RLENGTH - 2); cell = substr(cell, RSTART + RLENGTH)
			split(tok, w, " "); name = w[1]; sub(/\.\.\.$/, "", name)
			print sub_ " " name
		}
	     }' "$1" | sort -u
}

check() { # README: 0 when it agrees with --help
	local file=$1 status=0 subs sub want have
	subs=$(subcommands)
	[[ -n $subs ]] || { echo "readme_cli: 'buddycheck --help' lists no subcommand"; return 1; }
	have=$(readme_names "$file")
	for sub in $(comm -3 <(echo "$subs") <(grep -v ' ' <<<"$have" | sort -u) | tr -d '\t'); do
		echo "readme_cli: subcommand '$sub' is in $(grep -qx "$sub" <<<"$subs" && echo "--help but not the README's CLI section" || echo "the README's CLI section but not --help")"
		status=1
	done
	for sub in $subs; do
		want=$("$bc" "$sub" --help | help_names) || { echo "readme_cli: 'buddycheck $sub --help' failed"; status=1; continue; }
		local mine
		mine=$(awk -v s="$sub" '$1 == s && NF == 2 { print $2 }' <<<"$have" | sort -u)
		while read -r o; do
			[[ -n $o ]] && echo "readme_cli: '$sub --help' prints $o, the README's '### \`$sub\`' table does not" && status=1
		done < <(comm -23 <(echo "$want") <(echo "$mine"))
		while read -r o; do
			[[ -n $o ]] && echo "readme_cli: the README lists $o for '$sub', '$sub --help' does not print it" && status=1
		done < <(comm -13 <(echo "$want") <(echo "$mine"))
	done
	return $status
}

if [[ ${3:-} != --self-test ]]; then
	check "$readme" && echo "readme_cli: the README's CLI section lists every subcommand's options, as --help"
	exit
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "readme_cli self-test: $*"; exit 1; }
check "$readme" >"$work/real.out" || { cat "$work/real.out"; fail "the README itself does not pass"; }
# One option removed: the row of replay's --full-checks.
grep -v '^| `--full-checks`' "$readme" >"$work/removed.md"
cmp -s "$readme" "$work/removed.md" && fail "no --full-checks row to remove"
check "$work/removed.md" >"$work/removed.out" && fail "a README without replay's --full-checks passed"
grep -q "replay --help' prints --full-checks" "$work/removed.out" || { cat "$work/removed.out"; fail "the missing option is not named"; }
# One option added: a --no-such-option row after check's --seed.
sed '0,/^| `--seed N`/s//| `--no-such-option` | not an option |\n&/' "$readme" >"$work/added.md"
check "$work/added.md" >"$work/added.out" && fail "a README with an option check lacks passed"
grep -q "lists --no-such-option for 'check'" "$work/added.out" || { cat "$work/added.out"; fail "the extra option is not named"; }
# A subcommand's heading removed.
sed 's/^### `corpus`$/### corpus/' "$readme" >"$work/nosub.md"
check "$work/nosub.md" >"$work/nosub.out" && fail "a README without corpus's heading passed"
grep -q "subcommand 'corpus' is in --help" "$work/nosub.out" || { cat "$work/nosub.out"; fail "the missing subcommand is not named"; }
echo "readme_cli self-test: the check passes on the README and fails on a removed option, an added one and a missing subcommand"
