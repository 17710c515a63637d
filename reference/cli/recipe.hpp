// The build recipes CMake wrote (tools/recipes.cmake): which compiler,
// flags and libraries each kind of candidate build uses, and where
// buddycheck's data (golden traces, built-in candidates, runtime sources)
// and helper binaries lie, in the build tree or in the installed copy.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace bc::cli {

struct recipe {
	std::vector<std::string> cflags, ldflags;
	std::vector<std::string> libs;         // linked as they are
	std::vector<std::string> runtime_libs; // relative to the fuzz runtime's build
};

struct toolchain {
	std::filesystem::path file; // the recipes file read
	std::string version;
	std::string cc, cxx;        // after $BUDDYCHECK_CC / $BUDDYCHECK_CXX
	std::vector<std::string> includes;
	std::filesystem::path data_dir; // corpus/, reference/candidates/
	std::filesystem::path proofs, bench_binary;
	std::filesystem::path candidate_proofs; // proofs/ir: the obligations on a candidate's compiled code
	std::map<std::string, recipe> recipes;
	std::filesystem::path fuzz_source_dir;
	std::vector<std::string> fuzz_cmake_args, fuzz_targets;
};

// Loaded once: $BUDDYCHECK_RECIPES, else beside the binary (build tree),
// else PREFIX/share/buddycheck/recipes.json (installed).  Throws
// tool_failure when there is none or it does not parse.
const toolchain &load_toolchain();

// The buddycheck binary that runs (the printed commands name it; the
// recipes lie beside it or under its prefix).
std::filesystem::path self_path();

// buddycheck's own failure (not the user's input): exit status 3.
struct tool_failure {
	std::string message;
};

} // namespace bc::cli
