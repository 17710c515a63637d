// Candidates from where kernel developers keep their code: the free
// family's functions found in a kernel source tree by libclang (extract.cpp),
// and the candidate C file made of them (compose.cpp).  Uses base only; the
// CLI judges the result like any candidate file (reference/cli/tree.cpp).
#pragma once

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace bc::intake {

// One function definition taken from the tree, exactly as written.
struct extracted {
	std::string name;
	std::string file;    // relative to the tree, "mm/page_alloc.c"
	int line = 0;        // its first line
	int end_line = 0;    // its closing brace's line
	std::string text;    // from the start of its first line to the closing brace
	bool entry = false;  // an entry point of the family (else a helper it calls)
	std::string used_by; // a helper: the function that calls it
};

struct extraction {
	std::vector<extracted> functions;  // each file's in file order; files in search order
	std::vector<std::string> notes;    // "file:line: ..." what was seen but not taken
	std::vector<std::string> searched; // the files parsed, relative
	std::string error;                 // not a kernel tree: one line
	bool ok() const { return error.empty(); }
};

struct extract_options {
	std::vector<std::string> entry_points; // the family's names
	std::vector<std::string> include_dirs; // the kernel shim's (parsing sees the shim, never the tree's headers)
	std::vector<std::string> extra_args;   // e.g. -DBC_CANDIDATE_DEFINES_x=1
	std::set<std::string> shim_symbols;    // names the shim provides: such a callee is never taken from the tree
	// A patched state of the tree without copying it: files under OVERLAY
	// (same relative paths) take the place of the tree's, and REMOVED ones
	// are gone.
	std::filesystem::path overlay;
	std::set<std::string> removed;
};

// The names (functions, macros, types) the shim's headers under INCLUDE_DIRS
// declare or define, from parsing all of them.
std::set<std::string> shim_symbols(const std::vector<std::string> &include_dirs);

// Finds the entry points in TREE where the kernel keeps them (mm/page_alloc.c,
// include/linux/mm.h, mm/vmalloc.c, mm/internal.h, then every other mm/*.[ch]
// and include/linux/*.h that names a missing one), and the static helpers
// they call that the same file defines and the shim does not provide.  A
// directory without mm/page_alloc.c is not a kernel tree (error).
extraction extract_family(const std::filesystem::path &tree, const extract_options &opt);

// The same for one file's text, REL its path in a tree: what a patch adds
// (its new side, lines where the patch puts them).
extraction extract_from_text(const std::string &rel, const std::string &text, const extract_options &opt);

// A candidate C file of the extracted functions: the shim's headers, then
// each function under a #line directive naming its own file and line in the
// tree (compile errors, WARNs and findings then point into the tree); the
// entry points it does not define are the reference's.
std::string compose_candidate(const extraction &x, const std::string &tree_label);

} // namespace bc::intake
