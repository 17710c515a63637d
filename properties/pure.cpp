#include "pure.hpp"

#include "buddycheck/config.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/invariants.hpp"
#include "buddycheck/model.hpp"

#include "gen.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace bc::props {

chunk_step<u64_word> uncapped_chunk(const uint64_t &pfn, const uint64_t &count, const uint64_t & /*max_order*/)
{
	return next_chunk<u64_word>(pfn, count, 63);
}

chunk_step<u64_word> ffs_pfn_zero_chunk(const uint64_t &pfn, const uint64_t &count, const uint64_t &max_order)
{
	const uint64_t ffs = pfn ? u64_word::ctz(pfn) : 0;
	const uint64_t order = std::min({ffs, u64_word::ilog2(count), max_order});
	return {order, pfn + (uint64_t(1) << order), count - (uint64_t(1) << order)};
}

namespace {

// Every preset's build constants (the kernel ones and the scaled ones).
config gen_preset()
{
	const auto &names = preset_names();
	return *preset(names[any_in<size_t>(0, names.size())]);
}

// A start pfn: 0, small, aligned, arbitrary, or just below the top of the
// pfn space (then the range ends exactly at 2^64).
struct range {
	uint64_t pfn, count;
};
range gen_range(uint64_t max_count)
{
	const uint64_t count = any_in<uint64_t>(1, max_count + 1);
	switch (any_in(0, 5)) {
	case 0:
		return {0, count};
	case 1:
		return {any_in<uint64_t>(0, 4096), count};
	case 2: {
		const unsigned shift = any_in(0u, 40u);
		return {any_in<uint64_t>(0, uint64_t(1) << 20) << shift, count};
	}
	case 3:
		return {0 - count, count}; // ends at the top: pfn + count == 2^64
	default: {
		const uint64_t pfn = *rc::gen::resize(rc::kNominalSize, rc::gen::arbitrary<uint64_t>());
		return {std::min(pfn, 0 - count), count};
	}
	}
}

uint64_t section_of(const config &c, uint64_t pfn) { return pfn >> c.pfn_section_shift(); }

} // namespace

void chunk_tiling(chunk_fn chunk)
{
	const config c = gen_preset();
	const uint64_t max = c.max_page_order;
	const range r = gen_range(*rc::gen::element<uint64_t>(64, 4096, 1 << 16));
	const bool one_section = section_of(c, r.pfn) == section_of(c, r.pfn + (r.count - 1));
	uint64_t pfn = r.pfn, count = r.count, chunks = 0;
	while (count) {
		RC_ASSERT(chunks++ < r.count); // every chunk frees at least one page
		const auto s = chunk(pfn, count, max);
		const std::string at = "chunk " + std::to_string(chunks) + " at pfn " + hex(pfn) + ", order " +
				       std::to_string(s.order) + ", " + std::to_string(count) + " pages left";
		RC_ASSERT(s.order <= max);
		const uint64_t size = uint64_t(1) << s.order;
		RC_ASSERT(size <= count);                   // inside the range
		RC_ASSERT((pfn & (size - 1)) == 0);         // naturally aligned
		RC_ASSERT(s.next_pfn == pfn + size);        // in order, no gap
		RC_ASSERT(s.next_count == count - size);
		if (one_section)
			RC_ASSERT(section_of(c, pfn) == section_of(c, pfn + size - 1));
		// Maximal: one order more breaks the alignment, the fit or the cap.
		const uint64_t bigger = size << 1;
		const bool aligned_bigger = pfn == 0 || (pfn & (bigger - 1)) == 0;
		if (aligned_bigger && bigger <= count && s.order + 1 <= max)
			RC_FAIL(at + ": not maximal (order + 1 is aligned, fits and is allowed)");
		pfn = s.next_pfn;
		count = s.next_count;
	}
	RC_ASSERT(pfn == r.pfn + r.count); // tiles the range exactly (mod 2^64 at the top)
}

void chunk_count_minimal(chunk_fn chunk)
{
	const config c = gen_preset();
	const uint64_t max = c.max_page_order;
	const range r = gen_range(256);
	uint64_t chunks = 0;
	for (uint64_t pfn = r.pfn, count = r.count; count; chunks++) {
		const auto s = chunk(pfn, count, max);
		RC_ASSERT(s.order <= 63);
		RC_ASSERT((uint64_t(1) << s.order) <= count);
		pfn = s.next_pfn;
		count = s.next_count;
	}
	// best[i]: fewest aligned blocks tiling [pfn + i, pfn + count).
	std::vector<uint64_t> best(r.count + 1, ~uint64_t(0));
	best[r.count] = 0;
	for (uint64_t i = r.count; i-- > 0;) {
		const uint64_t p = r.pfn + i;
		for (uint64_t k = 0; k <= max && (uint64_t(1) << k) <= r.count - i; k++) {
			if (p & ((uint64_t(1) << k) - 1))
				break;
			best[i] = std::min(best[i], 1 + best[i + (uint64_t(1) << k)]);
		}
	}
	RC_ASSERT(chunks == best[0]);
}

// ---------------------------------------------------------------- canonical form

namespace {

unsigned merge_class(unsigned mt) { return migratetype_is_mergeable(mt) ? 0 : mt; }

// The largest block containing pfn that the merge rules allow and that
// lies in the freed set: the unique maximal decomposition, block by block.
std::pair<uint64_t, unsigned> maximal_block(const Model &m, const std::vector<uint8_t> &freed, uint64_t pfn)
{
	const zone *z = m.zone_of(pfn);
	uint64_t head = pfn;
	unsigned order = 0;
	for (unsigned k = 1; k <= m.max_order(); k++) {
		const uint64_t h = pfn & ~((uint64_t(1) << k) - 1), n = uint64_t(1) << k;
		bool ok = h + n <= m.nr_pfns();
		for (uint64_t q = h; ok && q < h + n; q++)
			ok = m.pfn_valid(q) && freed[q] && m.zone_of(q) == z &&
			     merge_class(m.pageblock_mt(q)) == merge_class(m.pageblock_mt(h));
		if (!ok)
			break;
		head = h;
		order = k;
	}
	return {head, order};
}

} // namespace

void canonical_form(const free_family &family)
{
	static const char *presets[] = {"tiny", "small", "small-64k"};
	config c = *preset(presets[any_in(0, 3)]);
	c.memmap = all_memmaps[any_in<size_t>(0, std::size(all_memmaps))];
	// Unaligned inner zone boundaries exercise "never merge across zones";
	// the family's runs do not split at zones (a documented finding), so
	// they stay inside one zone below.
	if (sometimes(50))
		kernel_like_zones(c);
	Model m(c);
	set_current(&m);
	const uint64_t n = m.nr_pfns();
	// Take every page (frozen, order by order, every migratetype).
	for (unsigned zi = 0; zi < m.zones().size(); zi++)
		for (unsigned mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			for (int order = int(m.max_order()); order >= 0; order--)
				while (m.alloc_pages(unsigned(order), mt, int(zi), false, true))
					;
	for (uint64_t p = 0; p < n; p++)
		RC_ASSERT(!m.pfn_valid(p) || !m.zone_of(p) || (m.ledger(p) & LEDGER_ALLOCATED));
	// Pageblock migratetypes, some CMA or isolated: nothing is free, so any
	// assignment is a valid state.  The kernel's pageblock_order is never
	// below PAGE_ALLOC_COSTLY_ORDER, so a block on a pcp list never spans
	// two pageblocks; preset tiny scales pageblock_order down to 2, so there
	// the migratetype is chosen per order-3 group of pageblocks instead.
	static const unsigned mts[] = {MIGRATE_MOVABLE, MIGRATE_UNMOVABLE, MIGRATE_RECLAIMABLE, MIGRATE_CMA, MIGRATE_ISOLATE};
	const unsigned group = std::max(c.pageblock_order, PAGE_ALLOC_COSTLY_ORDER);
	const auto group_mt = *rc::gen::container<std::vector<unsigned>>(size_t(n >> group),
									rc::gen::weightedElement<unsigned>({{12, 0}, {2, 1}, {2, 2}, {1, 3}, {1, 4}}));
	for (uint64_t b = 0; b < (n >> c.pageblock_order); b++)
		m.set_pageblock_mt(b << c.pageblock_order, mts[group_mt[(b << c.pageblock_order) >> group]]);

	// The freed set, as blocks: at each pfn, free nothing, or a block of a
	// chosen order (shrunk to the largest aligned one that fits the zone),
	// or a contiguous run through the family.
	struct piece {
		uint64_t pfn, len;
		unsigned order; // blocks
		int route;      // 0 pcp (free_frozen_pages), 1 direct (free_one_page), 2 family run
		unsigned cpu;
	};
	std::vector<piece> pieces;
	std::vector<uint8_t> freed(n, 0);
	for (uint64_t p = 0; p < n;) {
		if (!m.pfn_valid(p) || !m.zone_of(p) || any_in(0, 10) < 4) {
			p++;
			continue;
		}
		const zone *z = m.zone_of(p);
		piece pc{p, 1, 0, any_in(0, 3), any_in(0u, c.nr_cpus)};
		if (pc.route == 2) {
			uint64_t want = any_in<uint64_t>(1, 3 * c.max_order_nr_pages());
			while (pc.len < want && z->contains(p + pc.len) && m.pfn_valid(p + pc.len))
				pc.len++;
		} else {
			unsigned want = any_in(0u, m.max_order() + 1);
			while (pc.order < want && !(p & ((uint64_t(2) << pc.order) - 1)) && z->contains(p + (uint64_t(2) << pc.order) - 1))
				pc.order++;
			pc.len = uint64_t(1) << pc.order;
		}
		pieces.push_back(pc);
		for (uint64_t q = p; q < p + pc.len; q++)
			freed[q] = 1;
		p += pc.len;
	}
	// Any order of the frees.
	const auto order = *rc::gen::resize(rc::kNominalSize, rc::gen::unique<std::vector<size_t>>(pieces.size(), rc::gen::inRange<size_t>(0, pieces.size())));
	set_active_family(&family);
	// The first finding stops the frees (a family whose chunk loop runs
	// past its run would never return); it is reported below.
	m.stop_at_first_finding = true;
	try {
		for (size_t i : order) {
			const piece &pc = pieces[i];
			page *pg = m.pfn_to_page(pc.pfn);
			m.current_cpu = pc.cpu;
			for (uint64_t q = pc.pfn; q < pc.pfn + pc.len; q++)
				m.ledger_clear(q, LEDGER_ALLOCATED);
			if (pc.route == 0) {
				m.free_frozen_pages(pg, pc.order);
			} else if (pc.route == 1) {
				if (m.free_pages_prepare(pg, pc.order)) {
					for (uint64_t q = pc.pfn; q < pc.pfn + pc.len; q++)
						m.pfn_to_page(q)->bc_prepared = 0;
					m.free_one_page(*m.zone_of(pc.pfn), pc.pfn, pc.order, FPI_NONE);
				}
			} else {
				m.scope.ranges = {{pc.pfn, pc.pfn + pc.len}};
				family.free_contig_frozen_range_inner(pc.pfn, pc.len);
				m.scope.ranges.clear();
			}
		}
		m.drain_all_pages();
	} catch (const finding_stop &) {
		// in m.findings
	}
	set_active_family(nullptr);
	set_current(nullptr);

	for (const finding &f : m.findings)
		RC_FAIL("finding " + f.invariant + " at pfn " + hex(f.pfn) + ": " + f.message);
	for (uint64_t p = 0; p < n; p++) {
		if (!m.pfn_valid(p))
			continue;
		uint64_t head = 0;
		unsigned got = 0;
		const bool is_free = m.free_block_of(p, &head, &got);
		if (!freed[p]) {
			if (is_free)
				RC_FAIL("pfn " + hex(p) + " was never freed but is free (" + describe_pfn(m, p) + ")");
			continue;
		}
		if (!is_free)
			RC_FAIL("pfn " + hex(p) + " was freed but is not free (" + describe_pfn(m, p) + ")");
		const auto want = maximal_block(m, freed, p);
		if (head != want.first || got != want.second)
			RC_FAIL("pfn " + hex(p) + " is in block " + hex(head) + " order " + std::to_string(got) +
				"; the maximal decomposition has block " + hex(want.first) + " order " + std::to_string(want.second));
	}
	if (auto v = check_canonical_form(m))
		RC_FAIL("check_canonical_form disagrees: " + v->invariant + ": " + v->message);
}

} // namespace bc::props
