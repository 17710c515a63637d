// Random valid histories: a deterministic generator of traces, driven by the
// replay engine itself so that every operation it writes is valid.
#pragma once

#include "buddycheck/config.hpp"

#include <cstdint>
#include <string>

namespace bc {

struct generate_options {
	size_t ops = 1000;       // operations to write (expectations excluded)
	uint64_t seed = 1;
	size_t check_every = 500; // a `check` line every N operations (0: none)
};

// A whole trace (header, config lines, operations).  The same configuration,
// options and seed always give the same text.
std::string generate_trace(const config &c, const generate_options &g);

} // namespace bc
