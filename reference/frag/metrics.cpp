// The study's measurements, computed as the kernel computes them: the
// unusable free space index and the fragmentation index of mm/vmstat.c
// (fill_contig_page_info(), unusable_free_index(), __fragmentation_index()),
// /proc/pagetypeinfo's pageblock counts; and two of buddycheck's own: mixed
// pageblocks (what CONFIG_PAGE_OWNER's "Number of mixed blocks" shows) and a
// compaction-cost proxy, since the model does not compact.
#include "buddycheck/frag.hpp"

#include "buddycheck/model.hpp"

#include <algorithm>

namespace bc::frag {

contig_page_info fill_contig_page_info(const Model &m, unsigned zone_idx, unsigned suitable_order)
{
	const zone &z = m.zones()[zone_idx];
	contig_page_info info;
	for (unsigned order = 0; order <= m.max_order(); order++) {
		const unsigned long blocks = z.area[order].nr_free;
		info.free_blocks_total += blocks;
		info.free_pages += blocks << order;
		if (order >= suitable_order)
			info.free_blocks_suitable += blocks << (order - suitable_order);
	}
	return info;
}

int unusable_free_index(unsigned order, const contig_page_info &info)
{
	// No free memory: all of it (none) is unusable.
	if (info.free_pages == 0)
		return 1000;
	// 0: no fragmentation, 1000: every free page is in a block too small.
	return int((info.free_pages - (info.free_blocks_suitable << order)) * 1000ULL / info.free_pages);
}

int fragmentation_index(unsigned order, const contig_page_info &info)
{
	const unsigned long requested = 1UL << order;
	if (!info.free_blocks_total)
		return 0;
	// Only meaningful when the request would fail: -1000 says it would not.
	if (info.free_blocks_suitable)
		return -1000;
	// 0: it fails for lack of memory, 1000: for fragmentation.
	return int(1000 - (1000 + info.free_pages * 1000ULL / requested) / info.free_blocks_total);
}

// Mobility class of an allocated pfn, or -1 when it is free; 3 for what
// no request allocated (leaked, reserved, a hole): never migratable.
static int mobility_of(const Model &m, uint64_t pfn)
{
	if (!m.pfn_valid(pfn))
		return 3;
	const uint8_t l = m.ledger(pfn);
	if (l & LEDGER_ALLOCATED)
		return int(std::min(m.alloc_mobility(pfn), unsigned(MIGRATE_RECLAIMABLE)));
	if (l)
		return 3;
	return -1; // free (buddy or pcp; a drain would merge the pcp pages)
}

pageblock_stats scan_pageblocks(const Model &m, unsigned zone_idx)
{
	const zone &z = m.zones()[zone_idx];
	const uint64_t pb = m.cfg().pageblock_nr_pages();
	pageblock_stats s;
	for (uint64_t start = (z.zone_start_pfn + pb - 1) & ~(pb - 1); start + pb <= z.zone_end_pfn; start += pb) {
		const unsigned mt = m.pageblock_mt(start);
		if (mt < MIGRATE_PCPTYPES)
			s.by_type[mt]++;
		unsigned kinds = 0; // bit per mobility class present
		for (uint64_t pfn = start; pfn < start + pb; pfn++) {
			const int c = mobility_of(m, pfn);
			if (c >= 0 && c < 3)
				kinds |= 1u << c;
		}
		if (kinds & (kinds - 1))
			s.mixed++;
		if (mt < MIGRATE_PCPTYPES && (kinds & ~(1u << mt)))
			s.polluted++;
	}
	return s;
}

compaction_proxy compaction_cost(const Model &m, unsigned zone_idx, unsigned order, uint64_t budget)
{
	const zone &z = m.zones()[zone_idx];
	const uint64_t n = uint64_t(1) << order;
	// Blocks by cost: cost = movable allocated pages to migrate out; a block
	// with any page no migration can move is not makeable.  Destination
	// pages for the migration are assumed to exist (the free memory).
	std::vector<uint64_t> by_cost(n + 1, 0);
	compaction_proxy c;
	for (uint64_t start = (z.zone_start_pfn + n - 1) & ~(n - 1); start + n <= z.zone_end_pfn; start += n) {
		uint64_t cost = 0;
		bool pinned = false;
		for (uint64_t pfn = start; pfn < start + n && !pinned; pfn++) {
			const int k = mobility_of(m, pfn);
			if (k == MIGRATE_MOVABLE)
				cost++;
			else if (k >= 0)
				pinned = true;
		}
		if (!pinned)
			by_cost[cost]++;
	}
	uint64_t spent = 0;
	for (uint64_t cost = 0; cost <= n; cost++) {
		if (!by_cost[cost])
			continue;
		if (c.min_cost < 0)
			c.min_cost = int64_t(cost);
		c.compactable += by_cost[cost];
		// Cheapest blocks first, as long as the budget lasts.
		const uint64_t affordable = cost ? std::min(by_cost[cost], (budget - spent) / cost) : by_cost[cost];
		c.at_budget += affordable;
		spent += affordable * cost;
	}
	return c;
}

} // namespace bc::frag
