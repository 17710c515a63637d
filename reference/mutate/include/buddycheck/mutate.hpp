// Mutants of a candidate C file: libclang parses it (with the kernel shim's
// include paths, as the candidate build does), and every site of the
// operator set below in the bodies of the family's functions (the entry
// points it defines and the static helpers they call) becomes one text
// edit on the original file.  Only tokens spelled in the file are edited,
// never the inside of a macro expansion (min_t, __ffs, PageHead, ... from
// the shim).  The order is deterministic: by offset in the file, then by
// operator and replacement.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace bc::mutate {

// The operators, in the order of the report's table.
const std::vector<std::string> &operator_names(); // ROR LCR NEG CRP AOR MMS SDL ARS
// One line each: what the operator does.
const std::string &operator_doc(const std::string &op);

struct mutant {
	std::string id;       // OPERATOR-N: the N-th mutant of that operator in file order (from 1)
	std::string op;       // ROR, LCR, ...
	std::string function; // the family function it is in
	int line = 0, column = 0;
	size_t offset = 0, length = 0; // the edit: bytes [offset, offset + length) of the file ...
	std::string replacement;       // ... become this
	std::string original, mutated; // the line(s) the edit touches, before and after (whitespace normalised, one line)
	std::string key;               // stable: function, operator, original and mutated text, occurrence (no offsets)
};

struct generate_options {
	std::vector<std::string> entry_points; // the family's entry point names
	std::vector<std::string> include_dirs; // -I of the candidate build
	std::vector<std::string> extra_args = {"-std=gnu11"};
};

struct generate_result {
	std::vector<mutant> mutants;
	std::vector<std::string> functions;   // the family functions found, in file order
	std::string error;                    // bad input: one line (nothing generated)
	std::vector<std::string> diagnostics; // clang's errors (tolerated: the AST is used anyway)
	bool ok() const { return error.empty(); }
};

// Parses FILE (its text TEXT) and generates every mutant.
generate_result generate_mutants(const std::filesystem::path &file, const std::string &text, const generate_options &opt);

// TEXT with the mutant's edit applied.
std::string apply(const std::string &text, const mutant &m);

// The committed list of equivalent mutants: "KEY<TAB>REASON" lines ('#'
// comments).  Unreadable or malformed: error set.
struct equivalent {
	std::string key, reason;
};
struct equivalents_file {
	std::vector<equivalent> entries;
	std::string error;
};
equivalents_file load_equivalents(const std::filesystem::path &file);

// A deterministic sample of N of the mutants (all if N >= size), spread over
// the operators (round robin over them, each operator's mutants shuffled by
// SEED), returned in the mutants' order.
std::vector<size_t> sample(const std::vector<mutant> &mutants, size_t n, uint64_t seed);

} // namespace bc::mutate
