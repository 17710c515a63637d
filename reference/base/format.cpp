#include "buddycheck/format.hpp"

#include <cstdio>

namespace bc {

std::string hex(uint64_t v)
{
	char b[32];
	std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
	return b;
}

} // namespace bc
