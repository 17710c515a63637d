# Runs `buddycheck check CANDIDATE` with BUDDYCHECK_PROOFS=PROOFS (a stand-in
# proofs binary) and asserts exit status STATUS and REGEX on stdout+stderr.
set(ENV{BUDDYCHECK_PROOFS} ${PROOFS})
execute_process(COMMAND ${BUDDYCHECK} check --seconds 0 --property-seconds 0 --fuzz-seconds 0 --out ${OUT} ${CANDIDATE}
  RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL ${STATUS})
  message(FATAL_ERROR "expected exit status ${STATUS}, got ${status}\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match '${REGEX}':\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "ok: ${out}${err}")
