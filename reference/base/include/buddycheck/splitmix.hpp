// splitmix64: a fixed, portable generator, so that a seed means the same
// sequence everywhere (the generator's histories, the replay's shuffles).
#pragma once

#include <cstdint>

namespace bc {

// The next value of the sequence; advances STATE.
inline uint64_t splitmix64(uint64_t &state)
{
	uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

} // namespace bc
