// `buddycheck mutate`: a mutation score for the checkers.  Every mutant of
// the candidate (reference/mutate: libclang, the family's function bodies)
// is judged by the same judge as `buddycheck check`: built by
// build_candidate (a compile failure: stillborn), then the stages of
// check_stages() in their column order, up to the first that kills it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bc::cli {

struct mutate_options {
	std::string file;              // empty: the built-in reference candidate
	unsigned jobs = 0;             // 0: the core count
	size_t sample = 0;             // 0: every mutant
	uint64_t seed = 1;             // the sample and check's seed
	std::string json;              // also write the results here
	double timeout = 60;           // wall-clock limit of each stage's cell, per mutant
	std::vector<std::string> only; // operators or mutant ids
	bool list = false;
	bool every_stage = false;                                    // every stage alone, not up to the first finding
	double seconds = 1, fuzz_seconds = 10, property_seconds = 1; // check's budgets
	std::string out;                                             // the run's directory (default buddycheck-out/<time>-<pid>)
	std::string equivalents; // default: reference/mutate/equivalents.txt of the data directory
	double fail_under = -1;  // percent: exit 1 below this score, or on a wrong equivalent (-1: never)
};

void add_mutate_command(CLI::App &app, mutate_options &opt);
int run_mutate(const mutate_options &opt);

} // namespace bc::cli
