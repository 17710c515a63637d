// Building and running candidate C files: entry-point scan, generated
// wrapper, cached clang build with ASan+UBSan, and the check suite.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bc::cli {

// The family entry points a candidate may define, in table order.
const std::vector<std::string> &entry_point_names();
// Names of the entry points `source` defines (not just declares or calls).
std::vector<std::string> defined_entry_points(const std::string &source);

// The generated C file that includes the candidate unmodified and fills
// the entry-point table with what it defines.
std::string make_wrapper(const std::filesystem::path &candidate, const std::string &source);

struct build_result {
	bool ok = false;
	std::filesystem::path runner;  // the candidate's binary
	std::string compiler_output;   // as the compiler printed it
	bool cached = false;
};
// Compiles (or finds in the cache) the runner binary of a candidate.
build_result build_candidate(const std::filesystem::path &candidate);

// The candidate's bench binary (buddycheck-bench with the candidate as the
// batched family): the wrapper compiled -O2 without sanitizers, linked with
// the default preset's bench, shim and model libraries.
build_result build_bench(const std::filesystem::path &candidate);

// A candidate named on the command line: the file if it exists, else the
// built-in reference/candidates/NAME or NAME.c (e.g. `naive`).
std::filesystem::path resolve_candidate(const std::string &name);

// The candidate's libFuzzer binary for target "differential" or "bulk",
// linked from the fuzz preset's libraries (built on first use) and the
// candidate's wrapper compiled with -fsanitize=fuzzer-no-link,address,undefined.
build_result build_fuzzer(const std::filesystem::path &candidate, const std::string &target);

std::filesystem::path source_dir();
std::filesystem::path cache_dir();

} // namespace bc::cli
