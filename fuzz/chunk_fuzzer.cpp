// chunk_fuzzer: the chunk-splitting routine of free_prepared_contig_range()
// (bc::next_chunk<bc::u64_word>, buddycheck/chunk.hpp) on arbitrary
// (pfn, count, MAX_PAGE_ORDER, pages per section), walked over the whole
// range and checked chunk by chunk: exact tiling in order, natural
// alignment, order <= MAX_PAGE_ORDER, fits in what is left, inside one
// section, maximal, and as few chunks as a brute-force decomposition that
// never calls the routine.
//
// Input decoding (FuzzedDataProvider: each integer is taken from the END of
// the input, its last byte the most significant; missing bytes read as 0):
//   max_order     ConsumeIntegralInRange(0, 15)            1 byte
//   section_shift ConsumeIntegralInRange(max_order, 40)    1 byte (kernel rule:
//                 a MAX_PAGE_ORDER block never exceeds a section)
//   count_bits    ConsumeIntegralInRange(0, 20)            1 byte
//   count         1 + ConsumeIntegralInRange(0, 2^count_bits - 1)  0-3 bytes
//                 (log-uniform: short ranges, where edges live, are common)
//   where         ConsumeIntegralInRange(0, 4)             1 byte
//   raw           ConsumeIntegral<uint64_t>()              8 bytes
// and the range's first pfn by `where`:
//   0  raw (any 64-bit pfn)
//   1  pfn 0 (aligned to everything)
//   2  2^64 - 1 - count: the range ends at the top of the pfn space
//   3  near a section edge: ((raw >> 8) << section_shift) + (int8_t)raw
//   4  near a MAX_PAGE_ORDER block edge: ((raw >> 8) << max_order) + (int8_t)raw
// A range whose end would overflow 64 bits is cut to end at 2^64 - 1.
//
// BUDDYCHECK_CHUNK_MUTANT=1/2/3 builds the negative controls: the step below
// with no MAX_PAGE_ORDER cap, with ilog2(count) + 1 as the fit, or with pfn 0
// taken as aligned to nothing.  BUDDYCHECK_CHUNK_TRACE=1 in the environment
// prints each decoded range and its chunks (to read a crash or seed file).
#include "buddycheck/chunk.hpp"

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#ifndef BUDDYCHECK_CHUNK_MUTANT
#define BUDDYCHECK_CHUNK_MUTANT 0
#endif

// The checker's comparisons guide nothing and would dominate the time.
#define BC_NO_COVERAGE __attribute__((no_sanitize("coverage")))

namespace {

using W = bc::u64_word;
using ull = unsigned long long;

constexpr unsigned max_count_bits = 20; // count <= 2^20 keeps a walk short
constexpr uint64_t brute_force_max_count = 4096;

struct chunk_case {
	uint64_t pfn, count;
	unsigned max_order, section_shift;
};

chunk_case decode(const uint8_t *data, size_t size)
{
	FuzzedDataProvider fdp(data, size);
	chunk_case c;
	c.max_order = fdp.ConsumeIntegralInRange<unsigned>(0, 15);
	c.section_shift = fdp.ConsumeIntegralInRange<unsigned>(c.max_order, 40);
	unsigned count_bits = fdp.ConsumeIntegralInRange<unsigned>(0, max_count_bits);
	c.count = 1 + fdp.ConsumeIntegralInRange<uint64_t>(0, (uint64_t(1) << count_bits) - 1);
	unsigned where = fdp.ConsumeIntegralInRange<unsigned>(0, 4);
	uint64_t raw = fdp.ConsumeIntegral<uint64_t>();
	uint64_t near = uint64_t(int64_t(int8_t(raw & 0xff))); // -128..127, wraps
	switch (where) {
	case 0:
		c.pfn = raw;
		break;
	case 1:
		c.pfn = 0;
		break;
	case 2:
		c.pfn = UINT64_MAX - c.count;
		break;
	case 3:
		c.pfn = ((raw >> 8) << c.section_shift) + near;
		break;
	default:
		c.pfn = ((raw >> 8) << c.max_order) + near;
		break;
	}
	if (c.pfn > UINT64_MAX - c.count) {
		c.count = UINT64_MAX - c.pfn;
		if (c.count == 0) { // pfn 2^64 - 1: keep one page below it
			c.pfn = UINT64_MAX - 1;
			c.count = 1;
		}
	}
	return c;
}

// The step under test, or a negative control: chunk_order() with one defect.
__attribute__((always_inline)) inline bc::chunk_step<W> step(uint64_t pfn, uint64_t count, uint64_t max_order)
{
#if BUDDYCHECK_CHUNK_MUTANT == 0
	return bc::next_chunk<W>(pfn, count, max_order);
#else
#if BUDDYCHECK_CHUNK_MUTANT == 1
	// No MAX_PAGE_ORDER cap: pfn 0 aligned to everything, order bounded by the fit only.
	uint64_t order = std::min<uint64_t>(pfn ? W::ctz(pfn) : 64, W::ilog2(count));
#elif BUDDYCHECK_CHUNK_MUTANT == 2
	// Overshoots the fit: ilog2(count) + 1.
	uint64_t align = pfn ? W::ctz(pfn) : max_order;
	uint64_t order = std::min<uint64_t>(std::min<uint64_t>(align, W::ilog2(count) + 1), max_order);
#elif BUDDYCHECK_CHUNK_MUTANT == 3
	// pfn 0 not special-cased: its alignment taken as ctz's 0, not "everything".
	uint64_t align = pfn ? W::ctz(pfn) : 0;
	uint64_t order = std::min<uint64_t>(std::min<uint64_t>(align, W::ilog2(count)), max_order);
#else
#error "BUDDYCHECK_CHUNK_MUTANT must be 0, 1, 2 or 3"
#endif
	uint64_t size = W::shl(1, order);
	return {order, pfn + size, count - size};
#endif
}

// Aligned to 2^k pages: pfn 0 is aligned to every k, including k >= 64.
BC_NO_COVERAGE bool aligned(uint64_t pfn, uint64_t k)
{
	return k >= 64 ? pfn == 0 : (pfn & ((uint64_t(1) << k) - 1)) == 0;
}

// Minimal number of naturally aligned power-of-two blocks of order <=
// max_order that exactly cover [pfn, pfn + count): dynamic programming over
// the range's suffixes, independent of the routine under test.
BC_NO_COVERAGE uint64_t brute_force_min_chunks(uint64_t pfn, uint64_t count, unsigned max_order)
{
	static std::vector<uint32_t> best; // best[i]: blocks to cover [pfn + i, pfn + count)
	best.assign(count + 1, UINT32_MAX);
	best[count] = 0;
	for (uint64_t i = count; i-- > 0;) {
		for (unsigned k = 0; k <= max_order; k++) {
			uint64_t size = uint64_t(1) << k;
			if (size > count - i || !aligned(pfn + i, k))
				break; // larger blocks neither fit nor are aligned
			if (best[i + size] != UINT32_MAX && best[i + size] + 1 < best[i])
				best[i] = best[i + size] + 1;
		}
	}
	return best[0];
}

struct walk {
	chunk_case c;
	uint64_t nr = 0;          // chunks so far
	uint64_t orders[64] = {}; // the first 64, for reports
};

// Aborts with the range, the chunk at fault (none for an obligation of the
// whole walk) and the obligation it broke.
[[noreturn]] BC_NO_COVERAGE void broken(const walk &w, const char *obligation, uint64_t pfn, uint64_t left,
				      const bc::chunk_step<W> *s, const char *why)
{
	const chunk_case &c = w.c;
	std::fprintf(stderr,
		     "\n==== buddycheck chunk_fuzzer: chunk obligation '%s' broken ====\n"
		     "range: pfn 0x%llx count %llu (pfns 0x%llx-0x%llx), MAX_PAGE_ORDER %u, pages per section 2^%u\n",
		     obligation, ull(c.pfn), ull(c.count), ull(c.pfn), ull(c.pfn + c.count - 1), c.max_order,
		     c.section_shift);
	if (s)
		std::fprintf(stderr,
			     "chunk #%llu: pfn 0x%llx order %llu, %llu pages left before it; the routine returned "
			     "next pfn 0x%llx, %llu pages left\n",
			     ull(w.nr), ull(pfn), ull(s->order), ull(left), ull(s->next_pfn), ull(s->next_count));
	std::fprintf(stderr, "%s\n", why);
	if (w.nr) {
		std::fprintf(stderr, "orders of the chunks%s:", s ? " before it" : "");
		for (uint64_t i = 0; i < w.nr && i < 64; i++)
			std::fprintf(stderr, " %llu", ull(w.orders[i]));
		std::fprintf(stderr, "%s\n", w.nr > 64 ? " ..." : "");
	}
	std::abort();
}

enum class obligation { capped, fits, aligned, in_section, tiling, maximal };

// Formats and reports the obligation a chunk broke (cold: the checked path
// keeps no message buffer on its stack).
[[noreturn]] __attribute__((noinline, cold)) BC_NO_COVERAGE void chunk_broken(const walk &w, obligation which,
									       uint64_t pfn, uint64_t left,
									       const bc::chunk_step<W> &s)
{
	const chunk_case &c = w.c;
	const uint64_t o = s.order, size = o < 64 ? uint64_t(1) << o : 0, last = pfn + size - 1;
	char why[256];
	const char *name = "";
	switch (which) {
	case obligation::capped:
		name = "order <= MAX_PAGE_ORDER";
		std::snprintf(why, sizeof why, "order %llu exceeds MAX_PAGE_ORDER %u", ull(o), c.max_order);
		break;
	case obligation::fits:
		name = "fits";
		std::snprintf(why, sizeof why, "2^%llu = %llu pages do not fit in the %llu pages left", ull(o),
			      ull(size), ull(left));
		break;
	case obligation::aligned:
		name = "naturally aligned";
		std::snprintf(why, sizeof why, "pfn 0x%llx is not a multiple of 2^%llu", ull(pfn), ull(o));
		break;
	case obligation::in_section:
		name = "inside one section";
		std::snprintf(why, sizeof why, "first pfn 0x%llx is in section %llu, last pfn 0x%llx in section %llu",
			      ull(pfn), ull(pfn >> c.section_shift), ull(last), ull(last >> c.section_shift));
		break;
	case obligation::tiling:
		name = "exact tiling";
		std::snprintf(why, sizeof why,
			      "the next chunk must start at 0x%llx with %llu pages left (this one ends at 0x%llx)",
			      ull(pfn + size), ull(left - size), ull(last));
		break;
	case obligation::maximal:
		name = "maximal";
		std::snprintf(why, sizeof why,
			      "order %llu would also be capped, fit and be aligned: the chunk is not the largest",
			      ull(o + 1));
		break;
	}
	broken(w, name, pfn, left, &s, why);
}

// The obligations of one chunk [pfn, pfn + 2^order) with `left` pages of the
// range still to free, in this order (each later check relies on the
// earlier ones: the order is capped, so 2^order is defined, and so on).
BC_NO_COVERAGE void check_chunk(const walk &w, uint64_t pfn, uint64_t left, const bc::chunk_step<W> &s)
{
	const chunk_case &c = w.c;
	const uint64_t o = s.order;
	if (o > c.max_order)
		chunk_broken(w, obligation::capped, pfn, left, s);
	const uint64_t size = uint64_t(1) << o;
	if (size > left)
		chunk_broken(w, obligation::fits, pfn, left, s);
	if (!aligned(pfn, o))
		chunk_broken(w, obligation::aligned, pfn, left, s);
	if (pfn >> c.section_shift != (pfn + size - 1) >> c.section_shift)
		chunk_broken(w, obligation::in_section, pfn, left, s);
	if (s.next_pfn != pfn + size || s.next_count != left - size)
		chunk_broken(w, obligation::tiling, pfn, left, s);
	// Maximal: order + 1 breaks the cap, the fit or the alignment.
	if (o < c.max_order && 2 * size <= left && aligned(pfn, o + 1))
		chunk_broken(w, obligation::maximal, pfn, left, s);
}

BC_NO_COVERAGE void check_count(const walk &w)
{
	if (w.c.count > brute_force_max_count)
		return;
	uint64_t want = brute_force_min_chunks(w.c.pfn, w.c.count, w.c.max_order);
	if (w.nr != want) {
		char why[160];
		std::snprintf(why, sizeof why, "%llu chunks, but %llu aligned blocks of order <= %u cover the range",
			      ull(w.nr), ull(want), w.c.max_order);
		broken(w, "minimal number of chunks", w.c.pfn, w.c.count, nullptr, why);
	}
}

// Walks chunks from pfn until `left` is 0 or `limit` chunks were taken,
// checking each one.
__attribute__((always_inline)) inline void walk_chunks(walk &w, uint64_t &pfn, uint64_t &left, uint64_t limit,
						       bool verbose)
{
	while (left && w.nr < limit) {
		const bc::chunk_step<W> s = step(pfn, left, w.c.max_order);
		check_chunk(w, pfn, left, s); // aborts unless s tiles on from pfn
		if (verbose)
			std::fprintf(stderr, " %llu", ull(s.order));
		if (w.nr < 64)
			w.orders[w.nr] = s.order;
		w.nr++;
		pfn = s.next_pfn;
		left = s.next_count;
	}
}

// The rest of a long walk, without coverage instrumentation: past its first
// 64 chunks a walk repeats MAX_PAGE_ORDER blocks and ends in a tail of
// falling orders, paths its head already covers; the comparison callbacks
// of up to 2^20 steps would cost most of the time and guide nothing.
BC_NO_COVERAGE void walk_rest(walk &w, uint64_t &pfn, uint64_t &left, bool verbose)
{
	walk_chunks(w, pfn, left, UINT64_MAX, verbose);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const bool verbose = std::getenv("BUDDYCHECK_CHUNK_TRACE") != nullptr;
	walk w;
	w.c = decode(data, size);
	if (verbose)
		std::fprintf(stderr, "chunk_fuzzer: pfn 0x%llx count %llu MAX_PAGE_ORDER %u section shift %u: orders",
			     ull(w.c.pfn), ull(w.c.count), w.c.max_order, w.c.section_shift);
	uint64_t pfn = w.c.pfn, left = w.c.count;
	walk_chunks(w, pfn, left, 64, verbose); // instrumented: the head of the walk, where orders change
	walk_rest(w, pfn, left, verbose);
	if (verbose)
		std::fprintf(stderr, "\n");
	// Implied by the tiling check of every chunk; kept as the stated obligation.
	if (pfn != w.c.pfn + w.c.count)
		broken(w, "exact tiling", pfn, 0, nullptr, "the last chunk does not end at pfn + count");
	check_count(w);
	return 0;
}
