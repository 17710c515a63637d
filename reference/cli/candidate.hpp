// A candidate C file: what it defines (entry points, with lines), whether it
// is usable input at all, and its cached builds (runner, bench, fuzzers),
// made by the recipes CMake wrote (recipe.hpp) in the shared cache
// (cache.hpp).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace bc::cli {

// The family entry points a candidate may define, in table order.
const std::vector<std::string> &entry_point_names();

struct definition {
	std::string name;
	int line = 0;
};
// Every function the source defines at file scope (not declares or calls).
std::vector<definition> function_definitions(const std::string &source);
// Those of them that are entry points of the family.
std::vector<definition> defined_entry_points(const std::string &source);

// A file the candidate's code comes from: how the compiler and the
// sanitizers name it (a path, or a tree-relative name under #line), and
// how a finding shows it.
struct source_file {
	std::string path;
	std::string shown;
};

struct candidate_source {
	std::filesystem::path file; // absolute
	std::string text;
	std::string label;                                       // the table's row name; empty: the file's name
	std::vector<source_file> sources;                        // empty: the file itself
	std::vector<std::pair<std::string, std::string>> origin; // function, where it came from ("mm/page_alloc.c:2871")
	std::string origin_kind = "file";                        // "tree", "patch": where ORIGIN points
	std::string name() const { return label.empty() ? file.filename().string() : label; }
	std::vector<source_file> code_files() const
	{
		return sources.empty() ? std::vector<source_file>{{file.string(), file.filename().string()}} : sources;
	}
	std::vector<definition> defined;                             // entry points it defines
	std::vector<std::pair<definition, std::string>> near_misses; // a definition, the entry point it resembles
	std::string error;                                           // not usable input: one line
	bool ok() const { return error.empty(); }
};
// Reads and inspects ARG: a file, or a built-in candidate's name (`naive`).
// A missing or unreadable file, a directory, a non-text file, and a file
// that defines none of the entry points are errors (with the near misses).
candidate_source inspect_candidate(const std::string &arg);

// The generated C file that includes the candidate unmodified and fills
// the entry-point table with what it defines.
std::string make_wrapper(const std::filesystem::path &candidate, const std::string &source);

struct build_result {
	enum status_kind { ok, compile_error, tool_error } status = tool_error;
	std::filesystem::path binary;
	std::string output; // the compiler's messages (compile_error), or what failed (tool_error)
	bool cached = false;
};
// A build that did not succeed, said on stderr: the compiler's messages
// and "NAME does not compile" (returns 2, bad input), or what failed and
// that it is buddycheck's own failure (returns 3).
int report_build_failure(const build_result &b, const std::string &name);
// From the compiler's messages, one line per name the shim lacks:
// "mm/page_alloc.c:124: zone_spans_pfn: a function buddycheck's kernel shim
// does not provide" (each name once, at its first use).
std::vector<std::string> missing_symbols(const std::string &compiler_output);

// What every build of a candidate depends on besides its text (the
// compiler, the shim's headers), for cache stamps.
std::string toolchain_fingerprint();

// The candidate's runner (recipe "runner") or bench binary ("bench").
build_result build_candidate(const candidate_source &c, const std::string &recipe_name);
// Its libFuzzer binary for target "differential" or "bulk", linked with the
// fuzz runtime (the model, shim and harness instrumented for libFuzzer),
// itself built once per buddycheck version into the cache.
build_result build_fuzzer(const candidate_source &c, const std::string &target);

} // namespace bc::cli
