# ClusterFuzzLite's .clusterfuzzlite/build.sh run with its variables set to
# local values (clang-14, ASan+UBSan, libFuzzer): the production targets,
# their seed corpora, .dict and .options come out and run on the seeds.
# Included from fuzz/CMakeLists.txt; only in the local libFuzzer build (not
# under AFL++ or an external engine, where build.sh itself is the build).
# The first run builds everything in its own directory (about 2 minutes on
# 2 cores); later runs rebuild what changed.
# Its work directory is outside the source tree: $SRC/buddycheck is a symlink
# to the tree, and a $SRC inside it makes a symlink loop that CMake's
# try_compile (run by build.sh's configure) does not survive.
if(NOT BUDDYCHECK_AFL AND BUDDYCHECK_FUZZ_ENGINE STREQUAL "")
  string(MD5 cflite_key "${CMAKE_BINARY_DIR}")
  set(cflite_tmp "$ENV{TMPDIR}")
  if(cflite_tmp STREQUAL "")
    set(cflite_tmp /tmp)
  endif()
  add_test(NAME fuzz/cflite_build_sh
    COMMAND ${PROJECT_SOURCE_DIR}/ci/cflite-build-test ${cflite_tmp}/buddycheck-cflite-${cflite_key})
  set_tests_properties(fuzz/cflite_build_sh PROPERTIES LABELS fuzz TIMEOUT 900)
endif()
