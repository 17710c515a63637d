// Text traces: a configuration and a history of allocator operations, one
// per line (format: README.md, "Writing a trace").
#pragma once

#include "buddycheck/config.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bc {

enum class op_kind : uint8_t {
	alloc,                      // alloc H order=K [mt=..] [zone=..] [comp] [frozen]
	split,                      // split H
	free_pages,                 // free_pages H       (__free_pages, refcounted)
	free_frozen,                // free_frozen H      (free_frozen_pages, frozen)
	free_page,                  // free_page PFN      (__free_page)
	get,                        // get PFN            (one more reference)
	free_contig_range,          // free_contig_range PFN COUNT | H
	free_contig_range_inner,    // __free_contig_range PFN COUNT | H
	free_contig_frozen_inner,   // __free_contig_frozen_range PFN COUNT | H
	free_contig_frozen_range,   // free_contig_frozen_range PFN COUNT | H
	free_pages_bulk,            // free_pages_bulk PFN... | H [order]
	alloc_contig,               // alloc_contig H START COUNT [frozen]
	cma_release,                // cma_release H
	vmalloc,                    // vmalloc H NR [huge]
	vfree,                      // vfree H [order]
	poison,                     // poison PFN
	make_bad,                   // make_bad PFN KIND
	drain,                      // drain [CPU|all]
	cpu,                        // cpu N
	check,                      // check
	expect_chunks,              // expect chunks O,O,...
	expect_free,                // expect free PFN ORDER
	expect_leaked,              // expect leaked PFN
	expect_allocated,           // expect allocated PFN
	expect_warn,                // expect warn
	expect_fail,                // expect fail        (previous allocation failed)
};

// Order of a page array handed to free_pages_bulk / vfree.
enum class array_order : uint8_t { as_allocated, sorted, reversed, shuffled };

struct op {
	op_kind kind{};
	int line = 0;
	std::string text;   // the line as written (trimmed), for reports
	std::string handle; // H
	bool by_handle = false;
	uint64_t pfn = 0, count = 0; // PFN COUNT, START COUNT, NR
	unsigned order = 0;
	unsigned mt = 1; // MIGRATE_MOVABLE
	int zone = -1;
	bool compound = false, frozen = false, huge = false, all = false;
	std::vector<uint64_t> pfns; // free_pages_bulk PFN...; expect chunks orders
	array_order arr = array_order::as_allocated;
	uint64_t seed = 0;
	std::string kind_arg; // make_bad KIND
};

// Back to a default op, keeping the memory of its strings and vectors (for
// code that parses or decodes millions of operations).
void clear_op(op &o);

struct trace {
	std::string file;
	config cfg;
	std::vector<op> ops;
	// `# expect: KEY=VALUE ...` comment lines: what a golden trace documents
	// as its verdict (expect=pass|counterexample, invariant=NAME,
	// engine=FAMILY), read by `buddycheck check` and the tests.
	std::vector<std::pair<std::string, std::string>> meta;
	std::string meta_value(const std::string &key, const std::string &def = "") const;
};

// One parse error: "file:line: message".
struct trace_error {
	std::string file;
	int line = 0;
	std::string message;
	std::string str() const { return file + ":" + std::to_string(line) + ": " + message; }
};

// Parses a trace.  Static errors (syntax, unknown operation, configuration
// refused, pfn outside the zones or in a hole, count 0, overflowing range)
// come back as the first error; dynamic ones (a handle that does not exist,
// freeing a page that is not allocated) are found by replay().
// What a fuzzer parses: the operations it will replay, without their text.
struct parse_limits {
	size_t max_ops = SIZE_MAX; // stop before the operation after this many (expectations not counted)
	bool op_text = true;       // keep each operation's line in op::text
	int stopped_at = 0;        // out: the line parsing stopped before; 0 when it read everything
};

std::optional<trace_error> parse_trace(std::string_view text, const std::string &file, trace &out,
				       parse_limits *limits = nullptr);
std::optional<trace_error> load_trace(const std::string &path, trace &out);

// The configuration as trace `config` lines (the inverse of parsing).
std::string config_to_trace(const config &c);
// An operation as its trace line.
std::string op_to_line(const op &o);

} // namespace bc
