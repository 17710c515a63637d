#!/bin/bash -eu
# ClusterFuzzLite (OSS-Fuzz conventions) build of the production fuzz targets.
#
# Uses only $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT $SRC: the
# flags carry the sanitizer and the engine's instrumentation, so the project
# adds neither (BUDDYCHECK_FUZZ_ENGINE), and no CMake preset is used (they pin
# clang-14).  Writes to $OUT, for each target (fuzz/<target>.cpp):
#   <target>                 the binary, linked with $LIB_FUZZING_ENGINE
#   <target>_seed_corpus.zip its seeds (ci/fuzz-seeds), if it has any
#   <target>.dict/.options   from fuzz/ (or corpus/), if present
# The negative-control binaries (<target>_<candidate>) are not built: they
# crash by design.  Run locally by ci/cflite-build-test (ctest label fuzz).

src="$SRC/buddycheck"
# Outside the source tree, so it never meets the build/<preset> directories.
build="$SRC/buddycheck-build"

# An empty build type: $CFLAGS/$CXXFLAGS alone decide optimisation and debug
# info, and asserts stay on.
cmake -S "$src" -B "$build" -G Ninja \
	-DCMAKE_BUILD_TYPE= \
	-DCMAKE_C_COMPILER="$CC" -DCMAKE_CXX_COMPILER="$CXX" \
	-DCMAKE_C_FLAGS="$CFLAGS" -DCMAKE_CXX_FLAGS="$CXXFLAGS" \
	-DBUDDYCHECK_FUZZ=ON -DBUDDYCHECK_SANITIZE=OFF -DBUDDYCHECK_AFL=OFF -DBUDDYCHECK_COVERAGE=OFF \
	-DBUDDYCHECK_FUZZ_ENGINE="$LIB_FUZZING_ENGINE"

# The production targets are the ones with a source of their own.
targets=()
for f in "$src"/fuzz/*_fuzzer.cpp; do
	targets+=("$(basename "$f" .cpp)")
done
if ((${#targets[@]} == 0)); then
	echo "build.sh: no fuzz/*_fuzzer.cpp" >&2
	exit 1
fi
cmake --build "$build" --target "${targets[@]}"

make_zip() { # ZIP DIR: every file of DIR at the top of ZIP
	local zip dir=$2
	zip="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
	rm -f "$zip"
	if command -v zip >/dev/null; then
		(cd "$dir" && zip -q -X "$zip" ./*)
	elif command -v python3 >/dev/null; then
		(cd "$dir" && python3 -m zipfile -c "$zip" ./*)
	else # CMake is there anyway
		(cd "$dir" && cmake -E tar cf "$zip" --format=zip -- *)
	fi
}

seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
mkdir -p "$OUT"
for t in "${targets[@]}"; do
	bin="$build/fuzz/$t"
	if [[ ! -x $bin ]]; then
		bin=$(find "$build" -type f -name "$t" -perm -u+x | head -n 1)
	fi
	if [[ -z $bin || ! -x $bin ]]; then
		echo "build.sh: target $t built no executable" >&2
		exit 1
	fi
	cp "$bin" "$OUT/$t"

	n=$("$src/ci/fuzz-seeds" "$t" "$seeds/$t")
	if ((n > 0)); then
		make_zip "$OUT/${t}_seed_corpus.zip" "$seeds/$t"
	fi

	for ext in dict options; do
		for dir in "$src/fuzz" "$src/corpus"; do
			if [[ -f $dir/$t.$ext ]]; then
				cp "$dir/$t.$ext" "$OUT/$t.$ext"
				break
			fi
		done
	done
	echo "build.sh: $t: $n seed(s)"
done
