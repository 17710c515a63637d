// `buddycheck check`: every candidate through a fixed list of stages (one
// per column of the table: the suite under each memory model, the stateful
// property, the fuzz targets), each run as a child under its cell's
// wall-clock and memory limits, then the proofs of the reference routine.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace bc::cli {

// Exit statuses of every subcommand (README, --help).
enum exit_status : int {
	exit_pass = 0,       // no finding
	exit_finding = 1,    // a counterexample, a failed proof, TIMEOUT, OOM, a crash of the candidate
	exit_bad_input = 2,  // unreadable file, a candidate that does not compile, bad options
	exit_own_failure = 3 // buddycheck itself failed (a runner outside candidate code, a missing tool)
};

struct check_options {
	double seconds = 1, fuzz_seconds = 10, property_seconds = 1;
	uint64_t seed = 1;
	std::string out;            // empty: buddycheck-out/<time>-<pid>
	bool verbose = false, no_proofs = false, require_batched = false;
	double cell_seconds = 0;    // 0: per column, from the stage's own time
	uint64_t cell_memory_mb = 4096;
	std::vector<std::string> files; // empty: the built-in candidates
	std::string tree;               // a kernel tree: its family is a candidate (check --tree)
	std::string format = "text";    // text or json (on stdout)
	std::string sarif, junit;       // report files, or empty
};

// The directory of a run (check's, mutate's): --out, or
// buddycheck-out/<time>-<pid>; point_latest() makes buddycheck-out/latest
// point at it.
std::filesystem::path run_directory(const check_options &opt);
void point_latest(const std::filesystem::path &run);
// Empty when DIR can be created and written and has MIN_FREE bytes free;
// else one line saying why (WHAT names it: "output directory").
std::string writable_with_room(const std::filesystem::path &dir, uint64_t min_free, const char *what);

// Adds the `check` subcommand; RUN is set to its handler's result.
void add_check_command(CLI::App &app, check_options &opt);
int run_check(const check_options &opt);

} // namespace bc::cli
