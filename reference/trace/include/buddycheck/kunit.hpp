// A counterexample as a KUnit test for a real tree (buddycheck replay
// --kunit): the trace's shape relative to a naturally aligned base the test
// allocates (alloc_contig_pages), the pages it poisons or keeps a reference
// on, the free calls through the function under test, then what the
// per-page oracle leaves (after a drain): which pages head free blocks, at
// what order, and which are not free.
#pragma once

#include "buddycheck/trace.hpp"

#include <string>

namespace bc {

struct kunit_result {
	std::string source;             // the C file
	std::string error;              // the trace has no KUnit form (one line)
	std::vector<std::string> notes; // operations left as comments
};

kunit_result kunit_reproducer(const trace &t);

} // namespace bc
