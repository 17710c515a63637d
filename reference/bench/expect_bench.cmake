# ctest driver of `buddycheck bench --quick`: the table and the JSON are
# produced, and the deterministic counters say what batching must change.
#   -DBUDDYCHECK=path -DOUT=dir -DMODE=reference|control|broken
#   reference: exit 0; every scenario ran; CMA: batched takes the zone lock
#              fewer times than per-page, and the seed's profile shape holds
#   control:   --engine naive (per-page against itself): the same
#              assertions must FAIL (equal counts), so they can fail
#   broken:    --engine run-end-off-by-one loses pages: exit 1, FAILED line
#   runaway:   --engine runaway-chunk-loop frees chunks past its range
#              forever unless stopped: exit 1, FAILED line naming the finding
#   candidate_reference: --candidate reference.c (built -O2 without
#              sanitizers): the JSON names it, and its counters show the gain
#   candidate_naive: --candidate naive (the built-in, the old per-page code):
#              its counters show NO gain (zone lock and pcp inserts as many
#              as the oracle's, not the seed's profile shape after)
#   candidate_compile_error: -DCANDIDATE=file.c that does not compile: exit 2,
#              the compiler's message
cmake_minimum_required(VERSION 3.25)
set(json "${OUT}/bench-${MODE}.json")
file(REMOVE "${json}")
if(MODE STREQUAL "broken")
	set(engine --engine run-end-off-by-one)
elseif(MODE STREQUAL "runaway")
	set(engine --engine runaway-chunk-loop)
elseif(MODE STREQUAL "control")
	set(engine --engine naive)
elseif(MODE STREQUAL "candidate_reference")
	set(engine --candidate "${SOURCE}/reference/candidates/reference.c")
elseif(MODE STREQUAL "candidate_naive")
	set(engine --candidate naive)
elseif(MODE STREQUAL "candidate_compile_error")
	set(engine --candidate "${CANDIDATE}")
else()
	set(engine --engine reference)
endif()
execute_process(COMMAND "${BUDDYCHECK}" bench --quick ${engine} --json "${json}"
	RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)

# A broken engine must fail the bench: exit 1 and its FAILED line.
set(failed_broken "run-end-off-by-one: ")
set(why_broken "a page-losing engine must fail the bench")
set(failed_runaway "runaway-chunk-loop: finding chunk_prepared: chunk 0x14000 order 10 ")
set(why_runaway "an engine that frees past its range must be stopped at its first finding")
if(DEFINED failed_${MODE})
	if(NOT rc EQUAL 1 OR NOT out MATCHES "cma 16384 alloc\\+release +FAILED: ${failed_${MODE}}")
		message(FATAL_ERROR "${why_${MODE}} (exit 1, FAILED line); got exit ${rc}:\n${out}${err}")
	endif()
	return()
endif()
if(MODE STREQUAL "candidate_compile_error")
	if(NOT rc EQUAL 2 OR NOT err MATCHES "error: " OR NOT err MATCHES "does not compile" OR EXISTS "${json}")
		message(FATAL_ERROR "a candidate that does not compile: exit 2 with the compiler's message; got exit ${rc}:\n${out}${err}")
	endif()
	return()
endif()

if(NOT rc EQUAL 0)
	message(FATAL_ERROR "buddycheck bench exited ${rc}:\n${out}${err}")
endif()
foreach(want "seed figure" "cma 16384 alloc\\+release +1406 -> 402 usec +3\\.50x"
		"alloc o9\\+split\\+free_contig_range" "vmalloc fix_size p:512 h:1" "vmalloc random_size"
		"vfree 4096 shuffled array" "profile shape")
	if(NOT out MATCHES "${want}")
		message(FATAL_ERROR "the table lacks '${want}':\n${out}")
	endif()
endforeach()
if(NOT EXISTS "${json}")
	message(FATAL_ERROR "no JSON written to ${json}")
endif()
file(READ "${json}" doc)
string(JSON n LENGTH "${doc}" scenarios)
if(n LESS 16)
	message(FATAL_ERROR "${n} scenarios in the JSON, expected 16")
endif()
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
	string(JSON err GET "${doc}" scenarios ${i} error)
	string(JSON ratio GET "${doc}" scenarios ${i} wall_ratio)
	if(NOT err STREQUAL "" OR ratio LESS_EQUAL 0)
		message(FATAL_ERROR "scenario ${i}: error '${err}', wall ratio ${ratio}")
	endif()
endforeach()

string(JSON name GET "${doc}" scenarios 0 name)
string(JSON pp GET "${doc}" scenarios 0 per_page counters_total zone_lock)
string(JSON b GET "${doc}" scenarios 0 batched counters_total zone_lock)
string(JSON pp_ins GET "${doc}" scenarios 0 per_page counters_total pcp_insert)
string(JSON b_prep GET "${doc}" scenarios 0 batched counters_total prepare)
string(JSON before_ok GET "${doc}" cma_profile_shape before_pcp_commit_dominated)
string(JSON after_ok GET "${doc}" cma_profile_shape after_prepare_dominated)
set(holds TRUE)
if(NOT name MATCHES "^cma " OR pp EQUAL 0 OR NOT b LESS pp OR NOT before_ok OR NOT after_ok OR b_prep EQUAL 0)
	set(holds FALSE)
endif()
string(JSON b_ins GET "${doc}" scenarios 0 batched counters_total pcp_insert)
string(JSON engine_name GET "${doc}" batched_engine)
string(JSON candidate GET "${doc}" candidate)
set(facts "${name}: zone_lock per-page ${pp}, ${engine_name} ${b}; pcp_insert per-page ${pp_ins}, ${engine_name} ${b_ins}; shape before ${before_ok}, after ${after_ok}")
if(MODE MATCHES "^candidate_")
	string(REGEX REPLACE "^candidate_" "" stem "${MODE}")
	if(NOT engine_name STREQUAL "${stem}.c" OR NOT candidate MATCHES "/${stem}\\.c$"
			OR NOT out MATCHES "per-page = oracle, ${stem} = [^\n]*${stem}\\.c \\(candidate, clang-14 -O2"
			OR NOT out MATCHES " pp/${stem} ")
		message(FATAL_ERROR "the table and the JSON must name the candidate ${stem}.c (JSON: engine '${engine_name}', candidate '${candidate}'):\n${out}")
	endif()
endif()
if(MODE STREQUAL "candidate_naive")
	# The old per-page code: every page its own commit, as in the oracle
	# (equal or within 10%), so no batching gain and not the seed's shape.
	math(EXPR pp90 "${pp} * 9 / 10")
	math(EXPR ins90 "${pp_ins} * 9 / 10")
	if(pp EQUAL 0 OR b LESS pp90 OR b_ins LESS ins90 OR after_ok)
		message(FATAL_ERROR "naive.c must show no batching gain in CMA (${facts})")
	endif()
	message(STATUS "naive.c: no gain, as it must (${facts})")
elseif(MODE STREQUAL "control")
	if(holds)
		message(FATAL_ERROR "control: per-page against itself passed the batching assertions (${facts})")
	endif()
	message(STATUS "control: the assertions fail as they must (${facts})")
elseif(NOT holds)
	message(FATAL_ERROR "CMA: batched must take the zone lock fewer times than per-page, with the seed's profile shape (${facts})")
else()
	message(STATUS "${facts}")
endif()
