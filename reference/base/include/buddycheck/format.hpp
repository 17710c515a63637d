// How the library prints numbers in its messages (findings, violations,
// parse errors, counterexamples): one definition, so that every message
// spells a pfn the same way.
#pragma once

#include <cstdint>
#include <string>

namespace bc {

// "0x" and lowercase hex digits, no padding: hex(0) is "0x0", hex(255) "0xff".
std::string hex(uint64_t v);

} // namespace bc
