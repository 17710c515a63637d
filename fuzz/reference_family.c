/*
 * The entry-point table of "no candidate": every entry point is the
 * reference's own (the C++ batched reference of reference/model/free_family.cpp),
 * which differential_fuzzer and bulk_fuzzer fuzz.  reference/candidates/
 * reference.c, the same family written kernel-style, gets its own binaries.
 */
#include <buddycheck_candidate.h>

const struct bc_candidate_entry_points bc_candidate = {
	.name = "reference",
};
