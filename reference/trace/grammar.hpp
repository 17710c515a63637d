// The parsing of one trace line's operands, shared by the line reader
// (trace.cpp) and the table of operations (grammar.cpp).
#pragma once

#include "buddycheck/trace.hpp"

#include <string>
#include <vector>

namespace bc::detail {

struct parse_failure {
	std::string message;
};

// Strict unsigned number: decimal or 0x-hex, no sign, no trailing junk, no overflow.
uint64_t number(const std::string &s, const char *what);
unsigned small_number(const std::string &s, const char *what, unsigned max);
// A handle name, else parse_failure.
std::string handle_arg(const std::string &s);

// One operation line: its words and the configuration it is read in.
struct op_line {
	const config &cfg;
	const std::vector<std::string> &w;

	// Static validity of [pfn, pfn + count): in range, present, in zones.
	void check_range(uint64_t pfn, uint64_t count) const;
	// The line has MIN..MAX words, else its usage.
	void need(size_t min, size_t max, const char *usage) const;
	// PFN COUNT | H
	void range_or_handle(op &o, const char *usage) const;
	void array_order_arg(op &o, const std::string &a) const;
	void single_pfn(op &o, const std::string &s) const;
};

// The operation of the line into o: op_table's row for its name.
void parse_op(const op_line &l, op &o);

} // namespace bc::detail
