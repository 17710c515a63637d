# Runs `buddycheck check CANDIDATE` and asserts exit status 2 with the
# compiler's own diagnostic (REGEX) on stderr.
execute_process(COMMAND ${BUDDYCHECK} check --seconds 0 --fuzz-seconds 0 --out ${OUT} ${CANDIDATE}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL 2)
  message(FATAL_ERROR "expected exit status 2, got ${status}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT err MATCHES "${REGEX}")
  message(FATAL_ERROR "stderr does not show the compiler's message '${REGEX}':\n${err}")
endif()
if(NOT err MATCHES "does not compile")
  message(FATAL_ERROR "stderr lacks the 'does not compile' line:\n${err}")
endif()
message(STATUS "ok")
