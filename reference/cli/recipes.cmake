# How `buddycheck` builds a candidate: the one place that says it.  CMake
# writes the recipes (compiler, flags, libraries per variant) as JSON beside
# the buddycheck binary; the candidate builder (tools/candidate.cpp) only
# reads them.  Paths in the installed copy are relative to its prefix
# (`@PREFIX@`), resolved from where the installed binary lies.

find_program(BUDDYCHECK_CANDIDATE_CC NAMES clang-14 clang DOC "C compiler of candidate builds (needs ASan, UBSan, libFuzzer)")
find_program(BUDDYCHECK_CANDIDATE_CXX NAMES clang++-14 clang++ DOC "C++ driver that links candidate builds")
if(NOT BUDDYCHECK_CANDIDATE_CC)
  set(BUDDYCHECK_CANDIDATE_CC clang-14)
endif()
if(NOT BUDDYCHECK_CANDIDATE_CXX)
  set(BUDDYCHECK_CANDIDATE_CXX clang++-14)
endif()

# -fexceptions: the model stops a candidate at its first finding by an
# exception that unwinds through the candidate's frames.
set(bc_common_cflags -std=gnu11 -Wall -g -fexceptions -Werror=implicit-function-declaration
  -Werror=incompatible-pointer-types)
set(bc_sanitize -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)

# A JSON array of the list's items (paths and flags: only \ and " to escape).
function(bc_json_array out)
  set(items "")
  foreach(x IN LISTS ARGN)
    string(REPLACE "\\" "\\\\" x "${x}")
    string(REPLACE "\"" "\\\"" x "${x}")
    list(APPEND items "\"${x}\"")
  endforeach()
  list(JOIN items ", " joined)
  set(${out} "[${joined}]" PARENT_SCOPE)
endfunction()

# RECIPES_JSON(out PREFIX_MODE) with the paths of the build tree (BUILD) or
# of the installed copy (INSTALL).
function(bc_recipes_json out mode)
  if(mode STREQUAL "INSTALL")
    set(lib "@PREFIX@/${CMAKE_INSTALL_LIBDIR}/buddycheck")
    set(inc "@PREFIX@/${CMAKE_INSTALL_DATADIR}/buddycheck/include")
    set(src "@PREFIX@/${CMAKE_INSTALL_DATADIR}/buddycheck/src")
    set(data "@PREFIX@/${CMAKE_INSTALL_DATADIR}/buddycheck")
    set(runner "${lib}/libbuddycheck_candidate_runner.a")
    set(props "${lib}/libbuddycheck_properties.a")
    set(shim "${lib}/libbuddycheck_kernel_shim.a")
    set(model "${lib}/libbuddycheck_trace.a" "${lib}/libbuddycheck_model.a" "${lib}/libbuddycheck_base.a")
    set(bench "${lib}/libbuddycheck_bench.a")
    set(bench_main "${lib}/libbuddycheck_bench_candidate_main.a")
    set(proofs "@PREFIX@/${CMAKE_INSTALL_LIBEXECDIR}/buddycheck/proofs")
    set(candidate_proofs "@PREFIX@/${CMAKE_INSTALL_LIBEXECDIR}/buddycheck/candidate-proofs")
    set(bench_bin "@PREFIX@/${CMAKE_INSTALL_LIBEXECDIR}/buddycheck/buddycheck-bench")
    set(includes "${inc}/kernel" "${inc}/model" "${inc}/mm")
  else()
    set(src "${PROJECT_SOURCE_DIR}")
    set(data "${PROJECT_SOURCE_DIR}")
    set(runner "$<TARGET_FILE:buddycheck_candidate_runner>")
    set(props "$<TARGET_FILE:buddycheck_properties>")
    set(shim "$<TARGET_FILE:buddycheck_kernel_shim>")
    set(model "$<TARGET_FILE:buddycheck_trace>" "$<TARGET_FILE:buddycheck_model>" "$<TARGET_FILE:buddycheck_base>")
    set(bench "")
    set(bench_main "")
    set(bench_bin "")
    set(proofs "")
    set(candidate_proofs "")
    if(TARGET candidate-proofs)
      set(candidate_proofs "$<TARGET_FILE:candidate-proofs>")
    endif()
    if(TARGET buddycheck_bench)
      set(bench "$<TARGET_FILE:buddycheck_bench>")
      set(bench_main "$<TARGET_FILE:buddycheck_bench_candidate_main>")
      set(bench_bin "$<TARGET_FILE:buddycheck-bench>")
    endif()
    if(TARGET proofs)
      set(proofs "$<TARGET_FILE:proofs>")
    endif()
    set(includes "${PROJECT_SOURCE_DIR}/reference/kernel/include" "${PROJECT_SOURCE_DIR}/reference/model/include"
      "${PROJECT_SOURCE_DIR}/reference/kernel/mm")
  endif()
  set(rapidcheck "$<TARGET_LINKER_FILE:rapidcheck>")
  set(benchmark "")
  find_package(benchmark CONFIG QUIET) # imported targets are per directory
  if(TARGET benchmark::benchmark)
    set(benchmark "$<TARGET_LINKER_FILE:benchmark::benchmark>")
  endif()
  bc_json_array(j_includes ${includes})
  bc_json_array(j_runner_cflags ${bc_common_cflags} -O1 ${bc_sanitize})
  bc_json_array(j_runner_ldflags -fsanitize=address,undefined)
  bc_json_array(j_runner_libs ${runner} ${props} ${shim} ${model} ${rapidcheck})
  bc_json_array(j_bench_cflags ${bc_common_cflags} -O2)
  # The bench libraries of a sanitized build (the asan preset) need the
  # sanitizers' runtimes at the link; the candidate's code stays -O2 alone.
  set(bench_ldflags -pthread)
  if(BUDDYCHECK_SANITIZE)
    list(APPEND bench_ldflags -fsanitize=address,undefined)
  endif()
  bc_json_array(j_bench_ldflags ${bench_ldflags})
  bc_json_array(j_bench_libs ${bench_main} ${bench} ${shim} ${model} ${benchmark})
  bc_json_array(j_fuzz_cflags ${bc_common_cflags} -O1 -Wno-unused-function -fsanitize=fuzzer-no-link ${bc_sanitize})
  bc_json_array(j_fuzz_ldflags -fsanitize=fuzzer,address,undefined)
  bc_json_array(j_fuzz_targets buddycheck_base buddycheck_model buddycheck_trace buddycheck_kernel_shim fuzz_harness_differential fuzz_harness_bulk)
  bc_json_array(j_fuzz_diff_libs fuzz/libfuzz_harness_differential.a reference/kernel/libbuddycheck_kernel_shim.a reference/trace/libbuddycheck_trace.a reference/model/libbuddycheck_model.a reference/base/libbuddycheck_base.a)
  bc_json_array(j_fuzz_bulk_libs fuzz/libfuzz_harness_bulk.a reference/kernel/libbuddycheck_kernel_shim.a reference/trace/libbuddycheck_trace.a reference/model/libbuddycheck_model.a reference/base/libbuddycheck_base.a)
  bc_json_array(j_fuzz_cmake -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUDDYCHECK_FUZZ=ON -DBUDDYCHECK_SANITIZE=ON)
  set(${out} "{
  \"format\": 1,
  \"version\": \"${PROJECT_VERSION}\",
  \"cc\": \"${BUDDYCHECK_CANDIDATE_CC}\",
  \"cxx\": \"${BUDDYCHECK_CANDIDATE_CXX}\",
  \"includes\": ${j_includes},
  \"data_dir\": \"${data}\",
  \"proofs\": \"${proofs}\",
  \"candidate_proofs\": \"${candidate_proofs}\",
  \"bench_binary\": \"${bench_bin}\",
  \"recipes\": {
    \"runner\": {\"cflags\": ${j_runner_cflags}, \"ldflags\": ${j_runner_ldflags}, \"libs\": ${j_runner_libs}},
    \"bench\": {\"cflags\": ${j_bench_cflags}, \"ldflags\": ${j_bench_ldflags}, \"libs\": ${j_bench_libs}},
    \"fuzz-differential\": {\"cflags\": ${j_fuzz_cflags}, \"ldflags\": ${j_fuzz_ldflags}, \"runtime_libs\": ${j_fuzz_diff_libs}},
    \"fuzz-bulk\": {\"cflags\": ${j_fuzz_cflags}, \"ldflags\": ${j_fuzz_ldflags}, \"runtime_libs\": ${j_fuzz_bulk_libs}}
  },
  \"fuzz_runtime\": {\"source_dir\": \"${src}\", \"cmake_args\": ${j_fuzz_cmake}, \"targets\": ${j_fuzz_targets}}
}
" PARENT_SCOPE)
endfunction()

include(GNUInstallDirs)
bc_recipes_json(bc_build_recipes BUILD)
file(GENERATE OUTPUT $<TARGET_FILE_DIR:buddycheck>/buddycheck-recipes.json CONTENT "${bc_build_recipes}")
bc_recipes_json(bc_install_recipes INSTALL)
file(GENERATE OUTPUT ${PROJECT_BINARY_DIR}/reference/install/recipes.json CONTENT "${bc_install_recipes}")
