# `cmake --install` (and DESTDIR staging): buddycheck runs from PATH with the
# source tree gone.  The layout matches the INSTALL recipes of
# recipes.cmake:
#   bin/buddycheck
#   libexec/buddycheck/{proofs,buddycheck-bench}
#   lib/buddycheck/lib*.a                  what a candidate's runner links
#   share/buddycheck/recipes.json
#   share/buddycheck/include/{kernel,model,mm}   the kernel shim's headers
#   share/buddycheck/reference/candidates/      the built-in candidates
#   share/buddycheck/corpus/{traces,*_fuzzer}/  golden traces, fuzz seeds
#   share/buddycheck/reference/mutate/equivalents.txt  mutate's equivalent mutants
#   share/buddycheck/src/                   the sources of the fuzz runtime
#                                           (built on first use, in the cache)

set(bc_data ${CMAKE_INSTALL_DATADIR}/buddycheck)
install(TARGETS buddycheck RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/reference/install/recipes.json DESTINATION ${bc_data})
install(TARGETS buddycheck_candidate_runner buddycheck_properties buddycheck_kernel_shim buddycheck_trace buddycheck_model buddycheck_base
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/buddycheck)
if(TARGET proofs)
  install(TARGETS proofs RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/buddycheck)
endif()
if(TARGET candidate-proofs)
  install(TARGETS candidate-proofs RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/buddycheck)
endif()
if(TARGET buddycheck_bench)
  install(TARGETS buddycheck_bench buddycheck_bench_candidate_main ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}/buddycheck)
  install(TARGETS buddycheck-bench RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/buddycheck)
endif()
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reference/kernel/include/ DESTINATION ${bc_data}/include/kernel)
# The model's headers the candidate's C sees (page.h, free_family.hpp).
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reference/model/include/ DESTINATION ${bc_data}/include/model)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reference/kernel/mm/ DESTINATION ${bc_data}/include/mm)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/reference/candidates/ DESTINATION ${bc_data}/reference/candidates FILES_MATCHING PATTERN "*.c")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/corpus/ DESTINATION ${bc_data}/corpus)
# buddycheck mutate's list of equivalent mutants.
install(FILES ${PROJECT_SOURCE_DIR}/reference/mutate/equivalents.txt DESTINATION ${bc_data}/reference/mutate)
# The fuzz runtime is this project built with the fuzz options: its sources.
install(FILES ${PROJECT_SOURCE_DIR}/CMakeLists.txt ${PROJECT_SOURCE_DIR}/CMakePresets.json DESTINATION ${bc_data}/src)
foreach(dir reference fuzz properties proofs corpus)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/${dir} DESTINATION ${bc_data}/src)
endforeach()
