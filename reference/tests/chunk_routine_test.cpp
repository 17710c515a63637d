// The routine proofs/ proves is the one the model runs: the batched
// reference's free_prepared_contig_range() (free_family.cpp prepared_range)
// frees exactly the chunks bc::next_chunk<bc::u64_word> computes, for many
// (pfn, count) runs, including pfn 0 (the ctz(0) guard) and runs that start
// unaligned and end at a section boundary.
#include "buddycheck/chunk.hpp"
#include "buddycheck/config.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <vector>

namespace {

using namespace bc;

// alloc_contig_range() gives the excess back through __free_contig_frozen_range().
void free_excess(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

std::vector<unsigned> next_chunk_orders(uint64_t pfn, uint64_t count, uint64_t max_order)
{
	std::vector<unsigned> orders;
	while (count) {
		auto step = next_chunk<u64_word>(pfn, count, max_order);
		orders.push_back(unsigned(step.order));
		pfn = step.next_pfn;
		count = step.next_count;
	}
	return orders;
}

TEST(ChunkRoutine, ReferenceFreesExactlyTheProvedChunks)
{
	config cfg = *preset("small");
	ASSERT_FALSE(validate(cfg));
	auto owned = std::make_unique<Model>(cfg);
	Model &m = *owned;
	set_current(&m);
	set_active_family(&reference_family());
	const uint64_t section = cfg.pages_per_section();

	// Runs inside one section and one zone (so one run reaches the chunk routine).
	std::vector<std::pair<uint64_t, uint64_t>> runs;
	for (const auto &z : cfg.zones) {
		for (uint64_t s = z.start_pfn / section * section; s < z.end_pfn; s += section) {
			uint64_t lo = std::max(s, z.start_pfn), hi = std::min(s + section, z.end_pfn);
			runs.push_back({lo, hi - lo});          // the whole section part
			runs.push_back({lo + 1, hi - lo - 1});  // unaligned start, to the boundary
			runs.push_back({lo, 1});
		}
	}
	std::mt19937_64 rng(6);
	while (runs.size() < 1500) {
		uint64_t pfn = rng() % cfg.nr_pfns();
		const zone_config *zone = nullptr;
		for (const auto &z : cfg.zones)
			if (pfn >= z.start_pfn && pfn < z.end_pfn)
				zone = &z;
		if (!zone)
			continue;
		uint64_t end = std::min((pfn / section + 1) * section, zone->end_pfn);
		runs.push_back({pfn, 1 + rng() % (end - pfn)});
	}
	ASSERT_EQ(runs[0].first, 0u); // pfn 0 is covered

	size_t chunks = 0;
	for (auto [pfn, count] : runs) {
		ASSERT_TRUE(m.alloc_contig_range(pfn, pfn + count, true, free_excess)) << pfn << "+" << count;
		for (uint64_t i = 0; i < count; i++)
			m.ledger_clear(pfn + i, LEDGER_ALLOCATED);
		m.free_log.clear();
		reference_family().free_contig_frozen_range_inner(pfn, count);
		auto want = next_chunk_orders(pfn, count, cfg.max_page_order);
		ASSERT_EQ(m.free_log, want) << "run [0x" << std::hex << pfn << ", +0x" << count << ")";
		chunks += want.size();
	}
	EXPECT_TRUE(m.findings.empty()) << m.findings.size() << " findings";
	EXPECT_GT(chunks, runs.size()); // multi-chunk runs were exercised
}

} // namespace
