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

// The operations of a trace, in the order of the grammar's table (op_table
// in trace.cpp: each one's name, operands, parser, printer and doc line;
// op_grammar() prints it).  Expectations last: kinds from check on are not
// run on the engines.
enum class op_kind : uint8_t {
	alloc,
	split,
	free_pages,
	free_frozen,
	free_page,
	get,
	free_contig_range,
	free_contig_range_inner,  // __free_contig_range
	free_contig_frozen_inner, // __free_contig_frozen_range
	free_contig_frozen_range,
	free_pages_bulk,
	alloc_contig,
	cma_release,
	vmalloc,
	vfree,
	poison,
	make_bad,
	drain,
	cpu,
	check,
	expect_chunks,
	expect_free,
	expect_leaked,
	expect_allocated,
	expect_warn,
	expect_fail,
	expect_bug,
};

// A bad-page kind of make_bad: its index in Model::bad_kinds().
enum class bad_page_kind : uint8_t {};

// Order of a page array handed to free_pages_bulk / vfree.
enum class array_order : uint8_t { as_allocated, sorted, reversed, shuffled };

// One operation; each field means one thing, and an operation sets the
// ones its operands name (op_table in trace.cpp).
struct op {
	op_kind kind{};
	// Flags and small operands, packed (fuzzers keep thousands of ops).
	bool by_handle = false; // H instead of PFN COUNT / PFN...
	bool compound = false, frozen = false, huge = false; // alloc comp, frozen; alloc_contig frozen; vmalloc huge
	bool interleave = false;                             // vmalloc: chunks alternate nodes
	bool all = false;       // drain (all): every cpu
	bool caller_error = false; // followed by `expect bug`: a caller error the kernel BUGs on, the trace's end
	array_order arr = array_order::as_allocated; // free_pages_bulk H, vfree H
	bad_page_kind bad{};    // make_bad KIND
	int line = 0;
	unsigned order = 0;     // alloc order=K, expect free ORDER
	unsigned mt = 1;        // alloc mt=, MIGRATE_MOVABLE by default
	int zone = -1;          // alloc zone=NAME: index in config::zones, -1: any
	unsigned cpu = 0;       // drain CPU, cpu N
	uint64_t pfn = 0;       // PFN, START
	uint64_t count = 0;     // COUNT, NR (pages)
	uint64_t seed = 0;      // shuffle=SEED
	std::string text;       // the line as written (trimmed), for reports
	std::string handle;     // H
	std::string zone_name;  // alloc zone=NAME, to print it back
	std::vector<uint64_t> pfns;   // free_pages_bulk PFN...
	std::vector<unsigned> orders; // expect chunks O,O,...
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
// The grammar of the operations, one line each ("NAME OPERANDS  doc"), from
// the table the parser and op_to_line use.
std::string op_grammar();

} // namespace bc
