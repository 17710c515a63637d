// The main of a candidate's bench binary: `buddycheck bench --candidate
// FILE.c` links it with the candidate's wrapper (compiled -O2, without
// sanitizers), the bench library, the kernel shim and the model.
#include "buddycheck_candidate.h"
#include "scenarios.hpp"

int main(int argc, char **argv)
{
	static const bc::free_family fam = bc::candidate_family();
	return bc::bench::bench_main(argc, argv, &fam);
}
