// One test per behaviour row of reference/README.md (Rows, sections 1-5): the test
// suite names the section, the test names the row.  Every scenario ends
// with the model's invariants (check_all, and the canonical form after a
// drain), so a row's test also fails when the state it leaves is corrupt.
//
// Ledger rule: the ledger records what the caller knows.  Before a test
// hands pages to a free-family function it clears LEDGER_ALLOCATED for
// them (hand_back), as the trace executor in replay.cpp does, except for
// pages whose refcount stays above zero.
#include "buddycheck/chunk.hpp"
#include "buddycheck/config.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/invariants.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"
#include "buddycheck/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace bc;

// ------------------------------------------------------------------ helpers

config make_cfg(const char *name = "small", memmap_model mm = memmap_model::sparse)
{
	config c = *preset(name);
	c.memmap = mm;
	return c;
}

// A model that kernel-style code operates on: current() and the active free
// family point at it while a test drives it.
struct world {
	std::unique_ptr<Model> owned;
	Model &m;
	explicit world(const config &c, const free_family &f = reference_family()) : owned(make(c)), m(*owned)
	{
		activate(f);
	}
	void activate(const free_family &f = reference_family())
	{
		set_current(&m);
		set_active_family(&f);
	}
	static std::unique_ptr<Model> make(const config &c)
	{
		if (auto e = validate(c))
			throw std::runtime_error("configuration refused: " + *e);
		return std::make_unique<Model>(c);
	}
};

// Findings and broken invariants, empty when the state is consistent.
std::string problems(const Model &m, long nr_vmalloc = 0)
{
	std::string s;
	for (const finding &f : m.findings)
		s += "finding " + f.invariant + ": " + f.message + "\n";
	if (auto v = check_all(m, nr_vmalloc))
		s += v->invariant + ": " + v->message + "\n";
	return s;
}

// The same after every pcp list is drained, plus the canonical form.
std::string drained_problems(Model &m, long nr_vmalloc = 0)
{
	m.drain_all_pages();
	std::string s = problems(m, nr_vmalloc);
	if (auto v = check_canonical_form(m))
		s += v->invariant + ": " + v->message + "\n";
	return s;
}

std::string diff(const Model &a, const Model &b)
{
	auto v = diff_states(a, b);
	return v ? v->invariant + ": " + v->message : "";
}

// alloc_contig_range() gives the excess back through __free_contig_frozen_range().
void free_excess(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

// Exactly the pfns [start, start + n), order-0 pages (refcount 1, or frozen).
bool take(Model &m, uint64_t start, uint64_t n, bool frozen)
{
	return m.alloc_contig_range(start, start + n, frozen, free_excess);
}

void hand_back(Model &m, uint64_t pfn, uint64_t n = 1)
{
	for (uint64_t i = 0; i < n; i++)
		m.ledger_clear(pfn + i, LEDGER_ALLOCATED);
}

uint64_t pfn_of(const Model &m, const page *p) { return p ? m.page_to_pfn(p) : no_pfn; }

std::vector<page *> pages_of(const Model &m, const std::vector<uint64_t> &pfns)
{
	std::vector<page *> v;
	for (uint64_t p : pfns)
		v.push_back(m.pfn_to_page(p));
	return v;
}

std::vector<uint64_t> seq(uint64_t start, uint64_t n)
{
	std::vector<uint64_t> v;
	for (uint64_t i = 0; i < n; i++)
		v.push_back(start + i);
	return v;
}

// Migratetype list of the free buddy block headed at pfn.
unsigned list_mt(const Model &m, uint64_t pfn) { return unsigned(m.pfn_to_page(pfn)->index); }

// Where the free block covering pfn sits: BC_ON_BUDDY, BC_ON_PCP or BC_ON_NOTHING.
unsigned where(const Model &m, uint64_t pfn)
{
	uint64_t head;
	unsigned order;
	if (!m.free_block_of(pfn, &head, &order))
		return BC_ON_NOTHING;
	return m.pfn_to_page(head)->bc_where;
}

bool is_free(const Model &m, uint64_t pfn) { return m.free_block_of(pfn, nullptr, nullptr); }

// Presets "small": zones DMA [0, 0x83) and Normal [0x83, 0x400).
constexpr int DMA = 0, NORMAL = 1;
long pcp_count(const Model &m, int zone_idx = NORMAL, unsigned cpu = 0)
{
	return m.zones()[size_t(zone_idx)].pcp[cpu].count;
}

// A free family that records what the reference does and forwards to it,
// so tests see the runs, the common calls and NR_VMALLOC at the bulk free.
struct call {
	uint64_t pfn;
	unsigned long nr;
	bool frozen;
	bool operator==(const call &) const = default;
};
std::ostream &operator<<(std::ostream &o, const call &c)
{
	return o << "{0x" << std::hex << c.pfn << std::dec << ", " << c.nr << (c.frozen ? ", frozen}" : "}");
}

std::vector<call> g_runs;   // free_prepared_contig_range(page, nr)
std::vector<call> g_common; // __free_contig_range_common(pfn, nr, is_frozen)
long g_nr_vmalloc_at_bulk = -1;

void reset_recorder()
{
	g_runs.clear();
	g_common.clear();
	g_nr_vmalloc_at_bulk = -1;
}

void rec_prepared(page *p, unsigned long nr)
{
	g_runs.push_back({current().page_to_pfn(p), nr, true});
	reference_family().free_prepared_contig_range(p, nr);
}

void rec_common(unsigned long pfn, unsigned long nr, bool frozen)
{
	g_common.push_back({pfn, nr, frozen});
	reference_family().free_contig_range_common(pfn, nr, frozen);
}

void rec_bulk(page **pages, unsigned long nr)
{
	g_nr_vmalloc_at_bulk = current().nr_vmalloc;
	reference_family().free_pages_bulk(pages, nr);
}

const free_family &recording_family()
{
	static const free_family f = [] {
		free_family r = reference_family();
		r.name = "recording";
		r.free_prepared_contig_range = rec_prepared;
		r.free_contig_range_common = rec_common;
		r.free_pages_bulk = rec_bulk;
		return r;
	}();
	return f;
}

// ====================================================== 1. Configuration

TEST(Config, PresetTableMatchesKernel)
{
	struct row {
		const char *name;
		unsigned page_shift, max_order, pageblock_order, section_bits;
		uint64_t pages_per_section;
	};
	const row rows[] = {
		{"x86_64", 12, 10, 9, 27, 32768},
		{"arm64-4k", 12, 10, 9, 27, 32768},
		{"arm64-16k", 14, 11, 11, 27, 8192},
		{"arm64-64k", 16, 13, 13, 29, 8192},
	};
	for (const row &r : rows) {
		SCOPED_TRACE(r.name);
		auto c = preset(r.name);
		ASSERT_TRUE(c);
		EXPECT_EQ(c->page_shift, r.page_shift);
		EXPECT_EQ(c->max_page_order, r.max_order);
		EXPECT_EQ(c->pageblock_order, r.pageblock_order);
		EXPECT_EQ(c->section_size_bits, r.section_bits);
		EXPECT_EQ(c->pages_per_section(), r.pages_per_section);
		EXPECT_EQ(validate(*c), std::nullopt);
	}
	EXPECT_EQ(preset("x86_64")->thp_order, 9); // HPAGE_PMD_ORDER
	EXPECT_FALSE(preset("no-such-arch"));
}

TEST(Config, MaxPageOrderPlusPageShiftMustFitSection)
{
	config c = *preset("x86_64");
	c.section_size_bits = 21; // 12 + 10 > 21: the kernel's #error
	auto e = validate(c);
	ASSERT_TRUE(e);
	EXPECT_NE(e->find("exceeds SECTION_SIZE_BITS"), std::string::npos) << *e;
	c.section_size_bits = 22; // exactly on the rule
	default_zones(c);          // the pfn space shrank with the sections
	EXPECT_EQ(validate(c), std::nullopt);

	config s = *preset("small");
	s.section_size_bits = 16; // 12 + 5 > 16
	EXPECT_TRUE(validate(s));
}

TEST(Config, ArmSixtyFourKSitsExactlyOnTheRule)
{
	config c = *preset("arm64-64k");
	EXPECT_EQ(c.max_page_order + c.page_shift, c.section_size_bits);
	// A section is exactly one MAX_PAGE_ORDER block.
	EXPECT_EQ(c.pages_per_section(), c.max_order_nr_pages());
	EXPECT_EQ(validate(c), std::nullopt);
	c.max_page_order++;
	c.thp_order = -1;
	EXPECT_TRUE(validate(c));
}

TEST(Config, AlignedMaxOrderBlockNeverCrossesSection)
{
	for (const std::string &name : preset_names()) {
		SCOPED_TRACE(name);
		config c = *preset(name);
		ASSERT_EQ(validate(c), std::nullopt);
		const unsigned shift = c.pfn_section_shift();
		const uint64_t end = std::min<uint64_t>(c.nr_pfns(), 2 * c.pages_per_section());
		for (unsigned o = 0; o <= c.max_page_order; o++)
			for (uint64_t pfn = 0; pfn < end; pfn += uint64_t(1) << o)
				ASSERT_EQ(pfn >> shift, (pfn + (uint64_t(1) << o) - 1) >> shift) << "order " << o << " pfn " << pfn;
	}
}

TEST(Config, PageblockOrderAtMostMaxPageOrder)
{
	config c = *preset("small");
	c.pageblock_order = c.max_page_order + 1;
	auto e = validate(c);
	ASSERT_TRUE(e);
	EXPECT_NE(e->find("pageblock_order"), std::string::npos) << *e;
	c.pageblock_order = c.max_page_order;
	EXPECT_EQ(validate(c), std::nullopt);

	config x = *preset("x86_64");
	x.pageblock_order = 11;
	EXPECT_TRUE(validate(x));
}

TEST(Config, ScaledDownPresetsKeepTheKernelRules)
{
	for (const char *name : {"small", "small-64k", "tiny"}) {
		SCOPED_TRACE(name);
		config c = *preset(name);
		EXPECT_EQ(validate(c), std::nullopt);
		EXPECT_GE(c.max_page_order, 3u);
		EXPECT_LE(c.max_page_order, 5u);
		EXPECT_GE(c.pages_per_section(), 16u); // tiny: 2^4, one below the spec's example range
		EXPECT_LE(c.pages_per_section(), 256u);
		EXPECT_LE(c.nr_sections, 8u);
		EXPECT_LE(c.max_page_order + c.page_shift, c.section_size_bits);
		EXPECT_LE(c.pageblock_order, c.max_page_order);
	}
	// small-64k scales arm64-64k: a section is one MAX_PAGE_ORDER block.
	EXPECT_EQ(preset("small-64k")->pages_per_section(), preset("small-64k")->max_order_nr_pages());

	// Holes are part of the scaled-down shapes.
	config h = *preset("small");
	h.holes = {3};
	default_zones(h);
	EXPECT_EQ(validate(h), std::nullopt);
	h.holes = {8};
	EXPECT_TRUE(validate(h)); // beyond the last section
	h.holes = {0, 1, 2, 3, 4, 5, 6, 7};
	EXPECT_TRUE(validate(h)); // no memory at all
}

// ====================================================== 1. Memory models

TEST(MemoryModel, FlatAndVmemmapMemdescSectionIsZero)
{
	for (memmap_model mm : {memmap_model::flat, memmap_model::vmemmap}) {
		SCOPED_TRACE(memmap_name(mm));
		world w(make_cfg("small", mm));
		Model &m = w.m;
		for (uint64_t pfn : {0x0, 0x7f, 0x80, 0x17f, 0x180, 0x3ff})
			EXPECT_EQ(m.memdesc_section(m.pfn_to_page(pfn)), 0u) << pfn;
		// One virtually contiguous memmap: page + 1 is the next pfn's page
		// across a section boundary.
		EXPECT_EQ(m.pfn_to_page(0x7f) + 1, m.pfn_to_page(0x80));
		EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x17f) + 1), 0x180u);
		EXPECT_EQ(problems(m), "");
	}
}

TEST(MemoryModel, ClassicSparseKeepsSectionInFlags)
{
	world w(make_cfg("small", memmap_model::sparse));
	Model &m = w.m;
	for (uint64_t pfn = 0; pfn < m.nr_pfns(); pfn++)
		ASSERT_EQ(m.memdesc_section(m.pfn_to_page(pfn)), pfn >> 7) << pfn;
	// Allocation (prep_new_page) and freeing (free_pages_prepare) clear
	// page flags but never the section bits.
	ASSERT_TRUE(take(m, 0x181, 1, true));
	page *p = m.pfn_to_page(0x181);
	EXPECT_EQ(m.memdesc_section(p), 3u);
	p->flags.f |= (1UL << PG_dirty) | (1UL << PG_referenced);
	hand_back(m, 0x181);
	reference_family().free_contig_frozen_range_inner(0x181, 1);
	EXPECT_TRUE(is_free(m, 0x181));
	EXPECT_EQ(m.memdesc_section(p), 3u);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(MemoryModel, ClassicSparseMemmapIsPerSection)
{
	world w(make_cfg("small", memmap_model::sparse));
	Model &m = w.m;
	// Inside a section page + 1 is the next pfn's page ...
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x7e) + 1), 0x7fu);
	// ... but page + 1 past the last page of a section is no struct page.
	EXPECT_NE(m.pfn_to_page(0x7f) + 1, m.pfn_to_page(0x80));
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x7f) + 1), no_pfn);
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x17f) + 1), no_pfn);
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x3ff) + 1), no_pfn);
	EXPECT_EQ(problems(m), "");
}

TEST(MemoryModel, ClassicSparsePagePlusPlusWalkAcrossSectionIsReported)
{
	// The no-section-split variant keeps one run across 0x180 and walks
	// its struct pages with page++: under classic SPARSEMEM that pointer
	// leaves section 2's memmap, and the model reports it.  The variant
	// loses pages on purpose, so no invariant check here.
	const free_family *broken = family_by_name("no-section-split");
	ASSERT_NE(broken, nullptr);
	world w(make_cfg("small", memmap_model::sparse), *broken);
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x17c, 8, true));
	ASSERT_TRUE(m.findings.empty());
	hand_back(m, 0x17c, 8);
	broken->free_contig_frozen_range_inner(0x17c, 8);
	ASSERT_FALSE(m.findings.empty());
	EXPECT_EQ(m.findings.front().invariant, "struct_page_pointer");

	// The reference splits the run at the section and reports nothing.
	world ok(make_cfg("small", memmap_model::sparse));
	ASSERT_TRUE(take(ok.m, 0x17c, 8, true));
	hand_back(ok.m, 0x17c, 8);
	reference_family().free_contig_frozen_range_inner(0x17c, 8);
	EXPECT_EQ(drained_problems(ok.m), "");
}

TEST(MemoryModel, HolesAreNotPfnValid)
{
	for (memmap_model mm : {memmap_model::sparse, memmap_model::vmemmap, memmap_model::flat}) {
		SCOPED_TRACE(memmap_name(mm));
		config c = make_cfg("small", mm);
		c.holes = {2};
		default_zones(c);
		world w(c);
		Model &m = w.m;
		EXPECT_TRUE(m.pfn_valid(0xff));
		for (uint64_t pfn = 0x100; pfn < 0x180; pfn++)
			ASSERT_FALSE(m.pfn_valid(pfn)) << pfn;
		EXPECT_TRUE(m.pfn_valid(0x180));
		EXPECT_FALSE(m.pfn_valid(m.nr_pfns()));
		EXPECT_FALSE(is_free(m, 0x100));
		// The Normal zone spans the hole but only its present pages are free.
		EXPECT_EQ(m.zones()[NORMAL].nr_free_pages, long(0x400 - 0x83 - 0x80));
		EXPECT_EQ(m.buddy_order_at(0xe0), 5);
		EXPECT_EQ(m.buddy_order_at(0x180), 5);
		// No allocation reaches into the hole.
		EXPECT_FALSE(take(m, 0xf0, 0x20, true));
		EXPECT_EQ(drained_problems(m), "");
	}
}

TEST(MemoryModel, ZonesNeedNotBeMaxOrderAligned)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_EQ(m.zones()[DMA].zone_end_pfn, 0x83u);
	ASSERT_EQ(m.zones()[NORMAL].zone_start_pfn, 0x83u);
	// Boot frees each zone's part of section 1 in the largest aligned
	// blocks that stay inside the zone.
	EXPECT_EQ(m.buddy_order_at(0x80), 1);
	EXPECT_EQ(m.buddy_order_at(0x82), 0);
	EXPECT_EQ(m.buddy_order_at(0x83), 0);
	EXPECT_EQ(m.buddy_order_at(0x84), 2);
	EXPECT_EQ(m.buddy_order_at(0x88), 3);
	EXPECT_EQ(m.buddy_order_at(0x90), 4);
	EXPECT_EQ(m.buddy_order_at(0xa0), 5);
	EXPECT_EQ(m.zones()[DMA].nr_free_pages, 0x83);
	EXPECT_EQ(m.zones()[NORMAL].nr_free_pages, 0x400 - 0x83);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(MemoryModel, BuddiesNeverMergeAcrossZones)
{
	world w(make_cfg());
	Model &m = w.m;
	// 0x82 (DMA) and 0x83 (Normal) are order-0 buddies.
	ASSERT_EQ(0x82u ^ 1u, 0x83u);
	ASSERT_TRUE(take(m, 0x82, 1, true));
	ASSERT_TRUE(take(m, 0x83, 1, true));
	hand_back(m, 0x82);
	hand_back(m, 0x83);
	reference_family().free_contig_frozen_range_inner(0x83, 1);
	reference_family().free_contig_frozen_range_inner(0x82, 1);
	m.drain_all_pages();
	EXPECT_EQ(m.buddy_order_at(0x82), 0);
	EXPECT_EQ(m.buddy_order_at(0x83), 0);
	EXPECT_EQ(m.zone_of(0x82)->idx, unsigned(DMA));
	EXPECT_EQ(m.zone_of(0x83)->idx, unsigned(NORMAL));
	EXPECT_EQ(drained_problems(m), "");
}

// ====================================================== 2. The free family

TEST(FreeFamily, FreePreparedContigRangeChunksSeedExample)
{
	world w(make_cfg("x86_64"));
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x1003, 20, true));
	for (uint64_t pfn = 0x1003; pfn < 0x1003 + 20; pfn++)
		ASSERT_TRUE(m.free_pages_prepare(m.pfn_to_page(pfn), 0));
	hand_back(m, 0x1003, 20);
	m.free_log.clear();
	m.scope.ranges = {{0x1003, 0x1003 + 20}};
	reference_family().free_prepared_contig_range(m.pfn_to_page(0x1003), 20);
	m.scope.ranges.clear();
	// 0x1003, 0x1004-7, 0x1008-f, 0x1010-3, 0x1014-5, 0x1016
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{0, 2, 3, 2, 1, 0}));
	EXPECT_EQ(drained_problems(m), "");
	uint64_t head;
	unsigned order;
	ASSERT_TRUE(m.free_block_of(0x1003, &head, &order));
	EXPECT_EQ(head, 0x1000u);
	EXPECT_EQ(order, 10u);
}

TEST(FreeFamily, ChunkOrderCappedAtMaxPageOrder)
{
	// A 128-page section is 2^7 pages, but no chunk exceeds MAX_PAGE_ORDER 5.
	EXPECT_EQ(chunk_order<u64_word>(0x100, 128, 5), 5u);
	EXPECT_EQ(chunk_order<u64_word>(0x100, 128, 63), 7u);
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 128, true));
	for (uint64_t pfn = 0x100; pfn < 0x180; pfn++)
		ASSERT_TRUE(m.free_pages_prepare(m.pfn_to_page(pfn), 0));
	hand_back(m, 0x100, 128);
	m.free_log.clear();
	reference_family().free_prepared_contig_range(m.pfn_to_page(0x100), 128);
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{5, 5, 5, 5}));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, PfnZeroTakesMaxOrderAlignment)
{
	// ctz(0) is undefined: pfn 0 is aligned to MAX_PAGE_ORDER.
	EXPECT_EQ(chunk_order<u64_word>(0, 48, 5), 5u);
	EXPECT_EQ(chunk_order<u64_word>(0, 1, 5), 0u);
	EXPECT_EQ(chunk_order<u64_word>(0, uint64_t(1) << 20, 10), 10u);
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0, 48, true));
	for (uint64_t pfn = 0; pfn < 48; pfn++)
		ASSERT_TRUE(m.free_pages_prepare(m.pfn_to_page(pfn), 0));
	hand_back(m, 0, 48);
	m.free_log.clear();
	reference_family().free_prepared_contig_range(m.pfn_to_page(0), 48);
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{5, 4}));
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(0), 5);
	EXPECT_EQ(m.buddy_order_at(0x20), 5);
}

TEST(FreeFamily, CommonSkipsPageWhoseRefcountStaysAboveZero)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 8, false));
	m.pfn_to_page(0x103)->_refcount++; // someone else holds 0x103
	hand_back(m, 0x100, 3);
	hand_back(m, 0x104, 4);
	reset_recorder();
	m.free_log.clear();
	recording_family().free_contig_range_inner(0x100, 8);
	// The skipped page closes the run: [0x100, 0x103) and [0x104, 0x108).
	EXPECT_EQ(g_runs, (std::vector<call>{{0x100, 3, true}, {0x104, 4, true}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{1, 0, 2}));
	EXPECT_EQ(m.pfn_to_page(0x103)->_refcount, 1);
	EXPECT_EQ(m.ledger(0x103), LEDGER_ALLOCATED);
	EXPECT_FALSE(is_free(m, 0x103));
	EXPECT_EQ(problems(m), "");
	// The last reference frees it.
	hand_back(m, 0x103);
	recording_family().free_contig_range_inner(0x103, 1);
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
}

TEST(FreeFamily, CommonSkipsFailedPrepareAndFlushesRun)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 16, true));
	ASSERT_TRUE(m.make_bad(0x105, "lru"));
	hand_back(m, 0x100, 16);
	reset_recorder();
	m.free_log.clear();
	m.cost = cost_counters{};
	recording_family().free_contig_frozen_range_inner(0x100, 16);
	EXPECT_EQ(g_runs, (std::vector<call>{{0x100, 5, true}, {0x106, 10, true}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{2, 0, 1, 3}));
	EXPECT_EQ(m.cost.prepare_failed, 1u);
	EXPECT_EQ(m.ledger(0x105), LEDGER_LEAKED); // never returned, by design
	EXPECT_FALSE(is_free(m, 0x105));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, CommonSplitsRunsAtSectionChange)
{
	// Chunks are the same in every memory model (an aligned block never
	// crosses a section), but only classic sparse closes the run at the
	// section change, because only there is the section in page->flags.
	for (memmap_model mm : {memmap_model::sparse, memmap_model::flat, memmap_model::vmemmap}) {
		SCOPED_TRACE(memmap_name(mm));
		world w(make_cfg("small", mm), recording_family());
		Model &m = w.m;
		ASSERT_TRUE(take(m, 0x17c, 8, true));
		hand_back(m, 0x17c, 8);
		reset_recorder();
		m.free_log.clear();
		recording_family().free_contig_frozen_range_inner(0x17c, 8);
		if (mm == memmap_model::sparse)
			EXPECT_EQ(g_runs, (std::vector<call>{{0x17c, 4, true}, {0x180, 4, true}}));
		else
			EXPECT_EQ(g_runs, (std::vector<call>{{0x17c, 8, true}}));
		EXPECT_EQ(m.free_log, (std::vector<unsigned>{2, 2}));
		EXPECT_EQ(drained_problems(m), "");
		EXPECT_EQ(m.buddy_order_at(0x160), 5);
		EXPECT_EQ(m.buddy_order_at(0x180), 5);
	}
}

TEST(FreeFamily, CommonWarnsOnCompoundPage)
{
	world w(make_cfg());
	Model &m = w.m;
	const uint64_t head = pfn_of(m, m.alloc_pages(2, MIGRATE_MOVABLE, NORMAL, true, true));
	ASSERT_NE(head, no_pfn);
	hand_back(m, head, 4);
	reference_family().free_contig_frozen_range_inner(head, 4);
	// One WARN per compound page handed to __free_contig_range_common().
	// The model, like the kernel after a WARN, carries on and frees them.
	ASSERT_EQ(m.warnings.size(), 4u);
	for (uint64_t i = 0; i < 4; i++)
		EXPECT_EQ(m.warnings[i].pfn, head + i);
	EXPECT_TRUE(is_free(m, head));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, WrappersCallCommonWithFrozenness)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	const free_family &f = recording_family();
	struct step {
		uint64_t pfn;
		bool frozen;
		void (*fn)(unsigned long, unsigned long);
	};
	const step steps[] = {
		{0x100, false, f.free_contig_range},
		{0x110, true, f.free_contig_frozen_range},
		{0x120, false, f.free_contig_range_inner},        // __free_contig_range
		{0x130, true, f.free_contig_frozen_range_inner}, // __free_contig_frozen_range
	};
	for (const step &s : steps) {
		ASSERT_TRUE(take(m, s.pfn, 4, s.frozen));
		hand_back(m, s.pfn, 4);
		reset_recorder();
		s.fn(s.pfn, 4);
		EXPECT_EQ(g_common, (std::vector<call>{{s.pfn, 4, s.frozen}}));
		EXPECT_EQ(problems(m), "");
	}
	EXPECT_TRUE(m.warnings.empty());
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.buddy_order_at(0x120), 5);
}

TEST(FreeFamily, FreeContigRangeRefusesCompoundHead)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	page *head = m.alloc_pages(2, MIGRATE_MOVABLE, NORMAL, true, false);
	ASSERT_NE(head, nullptr);
	const uint64_t pfn = pfn_of(m, head);
	reset_recorder();
	m.free_log.clear();
	recording_family().free_contig_range(pfn, 4);
	ASSERT_EQ(m.warnings.size(), 1u);
	EXPECT_EQ(m.warnings[0].pfn, pfn);
	EXPECT_TRUE(g_common.empty());
	EXPECT_TRUE(m.free_log.empty());
	EXPECT_EQ(head->_refcount, 1);
	for (uint64_t i = 0; i < 4; i++)
		EXPECT_EQ(m.ledger(pfn + i), LEDGER_ALLOCATED);
	EXPECT_EQ(problems(m), "");
	// The right way to free it.
	hand_back(m, pfn, 4);
	m.__free_pages(head, 2);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, FreeContigFrozenRangeFreesCompoundHeadAsOneBlock)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	const uint64_t head = pfn_of(m, m.alloc_pages(3, MIGRATE_MOVABLE, NORMAL, true, true));
	ASSERT_NE(head, no_pfn);
	hand_back(m, head, 8);
	reset_recorder();
	m.free_log.clear();
	recording_family().free_contig_frozen_range(head, 8);
	EXPECT_TRUE(m.warnings.empty());
	EXPECT_TRUE(g_common.empty()); // not page by page
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{3}));
	uint64_t h;
	unsigned order;
	ASSERT_TRUE(m.free_block_of(head + 7, &h, &order));
	EXPECT_EQ(h, head);
	EXPECT_EQ(order, 3u);
	EXPECT_EQ(where(m, head), unsigned(BC_ON_PCP)); // order 3 is pcp-allowed
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, FreeContigFrozenRangeWarnsOnTailAndOnWrongSize)
{
	world w(make_cfg());
	Model &m = w.m;
	const uint64_t head = pfn_of(m, m.alloc_pages(2, MIGRATE_MOVABLE, NORMAL, true, true));
	ASSERT_NE(head, no_pfn);
	// A tail page: WARN, nothing freed.
	reference_family().free_contig_frozen_range(head + 1, 1);
	ASSERT_EQ(m.warnings.size(), 1u);
	EXPECT_EQ(m.warnings[0].pfn, head + 1);
	EXPECT_NE(m.warnings[0].message.find("tail"), std::string::npos) << m.warnings[0].message;
	EXPECT_FALSE(is_free(m, head));
	// The head with a size that is not its compound order: WARN, then the
	// kernel frees at the order the size gives (here 2^1 of its 2^2 pages).
	hand_back(m, head, 2);
	reference_family().free_contig_frozen_range(head, 2);
	ASSERT_EQ(m.warnings.size(), 2u);
	EXPECT_NE(m.warnings[1].message.find("does not match"), std::string::npos) << m.warnings[1].message;
}

TEST(FreeFamily, OraclePreparedRangeFreesPageByPage)
{
	world w(make_cfg("x86_64"));
	Model &m = w.m;
	set_active_family(&oracle_family());
	ASSERT_TRUE(take(m, 0x1003, 20, true));
	for (uint64_t pfn = 0x1003; pfn < 0x1003 + 20; pfn++)
		ASSERT_TRUE(m.free_pages_prepare(m.pfn_to_page(pfn), 0));
	hand_back(m, 0x1003, 20);
	m.free_log.clear();
	oracle_family().free_prepared_contig_range(m.pfn_to_page(0x1003), 20);
	EXPECT_EQ(m.free_log, std::vector<unsigned>(20, 0)); // twenty order-0 frees
	EXPECT_EQ(drained_problems(m), "");
	uint64_t head;
	unsigned order;
	ASSERT_TRUE(m.free_block_of(0x1003, &head, &order));
	EXPECT_EQ(head, 0x1000u); // merged back as the batched reference does
	EXPECT_EQ(order, 10u);
}

TEST(FreeFamily, FamiliesByName)
{
	EXPECT_EQ(family_by_name("reference"), &reference_family());
	EXPECT_EQ(family_by_name("naive"), &oracle_family());
	EXPECT_EQ(family_by_name("oracle"), &oracle_family()); // the alias
	EXPECT_STREQ(oracle_family().name, "naive");
	for (const auto &v : broken_variants())
		EXPECT_EQ(family_by_name(v.name), v.family) << v.name;
	EXPECT_EQ(family_by_name("no-such-engine"), nullptr);
}

TEST(FreeFamily, FreePagesBulkFreesContiguousPiecesAndReschedules)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 16, false));
	auto pages = pages_of(m, seq(0x100, 16));
	hand_back(m, 0x100, 16);
	reset_recorder();
	m.free_log.clear();
	m.cost = cost_counters{};
	recording_family().free_pages_bulk(pages.data(), pages.size());
	EXPECT_EQ(g_common, (std::vector<call>{{0x100, 16, false}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{4}));
	EXPECT_EQ(m.cost.cond_resched, 1u);
	EXPECT_EQ(problems(m), "");

	// Across a section boundary (classic sparse): two pieces.
	ASSERT_TRUE(take(m, 0x178, 16, false));
	pages = pages_of(m, seq(0x178, 16));
	hand_back(m, 0x178, 16);
	reset_recorder();
	m.cost = cost_counters{};
	recording_family().free_pages_bulk(pages.data(), pages.size());
	EXPECT_EQ(g_common, (std::vector<call>{{0x178, 8, false}, {0x180, 8, false}}));
	EXPECT_EQ(m.cost.cond_resched, 2u);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreeFamily, FreePagesBulkUnsortedArrayFreedCorrectlyInMorePieces)
{
	std::vector<uint64_t> sorted = seq(0x100, 16), swapped, reversed = seq(0x100, 16);
	for (uint64_t base : {0x104, 0x100, 0x10c, 0x108})
		for (uint64_t i = 0; i < 4; i++)
			swapped.push_back(base + i);
	std::reverse(reversed.begin(), reversed.end());

	struct run {
		std::vector<uint64_t> order;
		size_t pieces;
	};
	const run runs[] = {{sorted, 1}, {swapped, 4}, {reversed, 16}};
	std::vector<std::unique_ptr<world>> worlds;
	for (const run &r : runs) {
		worlds.push_back(std::make_unique<world>(make_cfg(), recording_family()));
		Model &m = worlds.back()->m;
		ASSERT_TRUE(take(m, 0x100, 16, false));
		auto pages = pages_of(m, r.order);
		hand_back(m, 0x100, 16);
		reset_recorder();
		m.cost = cost_counters{};
		recording_family().free_pages_bulk(pages.data(), pages.size());
		EXPECT_EQ(g_common.size(), r.pieces);
		EXPECT_EQ(m.cost.cond_resched, r.pieces);
		EXPECT_EQ(drained_problems(m), "");
	}
	// Not sorted, not worse: the same free state after a drain.
	EXPECT_EQ(diff(worlds[0]->m, worlds[1]->m), "");
	EXPECT_EQ(diff(worlds[0]->m, worlds[2]->m), "");
	EXPECT_EQ(worlds[1]->m.buddy_order_at(0x100), 5);
}

TEST(FreeFamily, NumPagesContiguousStopsAtPointerGapAndSectionChange)
{
	world w(make_cfg("small", memmap_model::sparse));
	Model &m = w.m;
	const free_family &f = reference_family();
	auto gap = pages_of(m, {0x100, 0x101, 0x103});
	EXPECT_EQ(f.num_pages_contiguous(gap.data(), gap.size()), 2u);
	auto across = pages_of(m, {0x17e, 0x17f, 0x180, 0x181});
	EXPECT_EQ(f.num_pages_contiguous(across.data(), across.size()), 2u);
	auto whole = pages_of(m, seq(0x100, 128));
	EXPECT_EQ(f.num_pages_contiguous(whole.data(), whole.size()), 128u);
	// Two sections whose memmaps happen to be adjacent in memory: the
	// pointers are contiguous, the section number in page->flags is not.
	page *p = m.pfn_to_page(0x105);
	const unsigned long saved = p->flags.f;
	p->flags.f = (saved & BC_PAGEFLAGS_MASK) | (5UL << BC_SECTIONS_PGSHIFT);
	auto forged = pages_of(m, {0x104, 0x105, 0x106});
	EXPECT_EQ(f.num_pages_contiguous(forged.data(), forged.size()), 1u);
	p->flags.f = saved;
	EXPECT_EQ(problems(m), "");

	// FLATMEM: one memmap, no section in flags, nothing stops the count.
	world flat(make_cfg("small", memmap_model::flat));
	auto flat_across = pages_of(flat.m, {0x17e, 0x17f, 0x180, 0x181});
	EXPECT_EQ(f.num_pages_contiguous(flat_across.data(), flat_across.size()), 4u);
}

TEST(FreeFamily, NumPagesContiguousReturnsAtLeastOne)
{
	world w(make_cfg("small", memmap_model::sparse));
	Model &m = w.m;
	const free_family &f = reference_family();
	auto one = pages_of(m, {0x105});
	EXPECT_EQ(f.num_pages_contiguous(one.data(), 1), 1u);
	auto backwards = pages_of(m, {0x105, 0x104});
	EXPECT_EQ(f.num_pages_contiguous(backwards.data(), 2), 1u);
	auto far = pages_of(m, {0x105, 0x300});
	EXPECT_EQ(f.num_pages_contiguous(far.data(), 2), 1u);
	auto edge = pages_of(m, {0x17f, 0x180});
	EXPECT_EQ(f.num_pages_contiguous(edge.data(), 2), 1u);
}

TEST(FreeFamily, OracleFreesEveryPageAtOrderZero)
{
	world oracle(make_cfg(), oracle_family());
	world batched(make_cfg(), reference_family());
	const std::vector<unsigned> sixteen_zeros(16, 0);
	for (world *w : {&oracle, &batched}) {
		const bool is_oracle = w == &oracle;
		SCOPED_TRACE(is_oracle ? "oracle" : "reference");
		w->activate(is_oracle ? oracle_family() : reference_family());
		Model &m = w->m;
		const free_family &f = active_family();
		const std::vector<unsigned> want = is_oracle ? sixteen_zeros : std::vector<unsigned>{4};

		ASSERT_TRUE(take(m, 0x100, 16, false)); // refcounted: __free_page()
		hand_back(m, 0x100, 16);
		m.free_log.clear();
		f.free_contig_range_inner(0x100, 16);
		EXPECT_EQ(m.free_log, want);

		ASSERT_TRUE(take(m, 0x120, 16, true)); // frozen: free_frozen_pages(page, 0)
		hand_back(m, 0x120, 16);
		m.free_log.clear();
		f.free_contig_frozen_range_inner(0x120, 16);
		EXPECT_EQ(m.free_log, want);

		ASSERT_TRUE(take(m, 0x140, 16, false));
		auto pages = pages_of(m, seq(0x140, 16));
		hand_back(m, 0x140, 16);
		m.free_log.clear();
		m.cost = cost_counters{};
		f.free_pages_bulk(pages.data(), pages.size());
		EXPECT_EQ(m.free_log, want);
		EXPECT_EQ(m.cost.cond_resched, is_oracle ? 16u : 1u);
		EXPECT_EQ(m.cost.prepare, 16u);
		EXPECT_EQ(drained_problems(m), "");
	}
	EXPECT_EQ(diff(oracle.m, batched.m), "");
}

// ====================================================== 3. Where a freed block goes

TEST(WhereFreedBlockGoes, FreeFrozenPagesPreparesUnlessFpiPrepared)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 2, true));
	hand_back(m, 0x100, 2);
	page *p0 = m.pfn_to_page(0x100), *p1 = m.pfn_to_page(0x101);
	m.cost = cost_counters{};
	ASSERT_TRUE(m.free_pages_prepare(p0, 0));
	m.__free_frozen_pages(p0, 0, FPI_PREPARED); // trusts the caller's prepare
	EXPECT_EQ(m.cost.prepare, 1u);
	m.free_frozen_pages(p1, 0); // prepares itself
	EXPECT_EQ(m.cost.prepare, 2u);
	EXPECT_EQ(where(m, 0x100), unsigned(BC_ON_PCP));
	EXPECT_EQ(where(m, 0x101), unsigned(BC_ON_PCP));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, FreeFrozenPagesDropsPageWhosePrepareFails)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x110, 1, true));
	ASSERT_TRUE(m.make_bad(0x110, "locked"));
	hand_back(m, 0x110);
	m.cost = cost_counters{};
	m.free_frozen_pages(m.pfn_to_page(0x110), 0);
	EXPECT_EQ(m.cost.prepare_failed, 1u);
	EXPECT_EQ(m.cost.pcp_insert, 0u);
	EXPECT_EQ(pcp_count(m), 0);
	EXPECT_FALSE(is_free(m, 0x110));
	EXPECT_EQ(m.ledger(0x110), LEDGER_LEAKED);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, PcpAllowedOrderCostlyAndThp)
{
	world w(make_cfg("x86_64"));
	Model &m = w.m;
	for (unsigned o = 0; o <= 10; o++) {
		SCOPED_TRACE("order " + std::to_string(o));
		const bool allowed = o <= 3 || o == 9;
		EXPECT_EQ(m.pcp_allowed_order(o), allowed);
		const uint64_t pfn = pfn_of(m, m.alloc_pages(o, MIGRATE_MOVABLE, NORMAL, false, true));
		ASSERT_NE(pfn, no_pfn);
		hand_back(m, pfn, uint64_t(1) << o);
		m.cost = cost_counters{};
		m.free_frozen_pages(m.pfn_to_page(pfn), o);
		EXPECT_EQ(m.cost.pcp_insert, allowed ? 1u : 0u);
		if (o <= 3) {
			EXPECT_EQ(where(m, pfn), unsigned(BC_ON_PCP));
			EXPECT_EQ(pcp_count(m), long(1) << o);
		} else if (!allowed) {
			EXPECT_EQ(where(m, pfn), unsigned(BC_ON_BUDDY));
			EXPECT_EQ(pcp_count(m), 0);
		} else {
			// Order 9 goes to the THP list, but 512 pages exceed this
			// preset's pcp high (378): the free itself drains it.
			EXPECT_EQ(m.cost.pcp_drain, 1u);
		}
		EXPECT_EQ(problems(m), "");
	}
	EXPECT_EQ(drained_problems(m), "");

	// Without THP only orders 0-3 use the pcp lists.
	world s(make_cfg("small"));
	for (unsigned o = 0; o <= s.m.max_order(); o++)
		EXPECT_EQ(s.m.pcp_allowed_order(o), o <= 3) << o;
}

TEST(WhereFreedBlockGoes, PcpListsPerOrderAndMigratetypeCountInPages)
{
	// One list per (order <= 3, pcp migratetype) plus the THP list.
	std::vector<unsigned> seen;
	for (unsigned o = 0; o <= PAGE_ALLOC_COSTLY_ORDER; o++)
		for (unsigned mt = 0; mt < MIGRATE_PCPTYPES; mt++)
			seen.push_back(Model::order_to_pindex(mt, o, 9));
	std::sort(seen.begin(), seen.end());
	EXPECT_EQ(std::unique(seen.begin(), seen.end()) - seen.begin(), long(NR_LOWORDER_PCP_LISTS));
	EXPECT_EQ(Model::order_to_pindex(MIGRATE_MOVABLE, 9, 9), NR_LOWORDER_PCP_LISTS);
	EXPECT_EQ(Model::pindex_to_order(NR_LOWORDER_PCP_LISTS, 9), 9u);

	world w(make_cfg());
	Model &m = w.m;
	const per_cpu_pages &pcp = m.zones()[NORMAL].pcp[0];
	auto on_list_head = [&](uint64_t pfn, unsigned mt, unsigned order) {
		return pcp.lists[Model::order_to_pindex(mt, order, -1)].next == &m.pfn_to_page(pfn)->pcp_list;
	};
	// Whole pageblocks, so that retyping them leaves no free block behind.
	ASSERT_TRUE(take(m, 0x100, 16, true));
	ASSERT_TRUE(take(m, 0x140, 16, true));
	hand_back(m, 0x100);
	hand_back(m, 0x104, 4);
	hand_back(m, 0x140, 8);
	m.set_pageblock_mt(0x100, MIGRATE_UNMOVABLE);
	m.set_pageblock_mt(0x140, MIGRATE_CMA);

	m.free_frozen_pages(m.pfn_to_page(0x100), 0);
	EXPECT_TRUE(on_list_head(0x100, MIGRATE_UNMOVABLE, 0));
	EXPECT_EQ(pcp.count, 1);
	m.free_frozen_pages(m.pfn_to_page(0x104), 2);
	EXPECT_TRUE(on_list_head(0x104, MIGRATE_UNMOVABLE, 2));
	EXPECT_EQ(pcp.count, 1 + 4); // in pages, not blocks
	// A CMA pageblock's pages use the MOVABLE pcp list.
	m.free_frozen_pages(m.pfn_to_page(0x140), 3);
	EXPECT_TRUE(on_list_head(0x140, MIGRATE_MOVABLE, 3));
	EXPECT_EQ(pcp.count, 1 + 4 + 8);
	EXPECT_EQ(problems(m), "");

	// Drained, each block lands on its pageblock's buddy list.
	m.drain_all_pages();
	EXPECT_EQ(list_mt(m, 0x140), unsigned(MIGRATE_CMA));
	EXPECT_EQ(list_mt(m, 0x104), unsigned(MIGRATE_UNMOVABLE));
	hand_back(m, 0x101, 3);
	hand_back(m, 0x108, 8);
	hand_back(m, 0x148, 8);
	reference_family().free_contig_frozen_range_inner(0x101, 3);
	reference_family().free_contig_frozen_range_inner(0x108, 8);
	reference_family().free_contig_frozen_range_inner(0x148, 8);
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(0x140), 4);
	EXPECT_EQ(list_mt(m, 0x140), unsigned(MIGRATE_CMA));
}

TEST(WhereFreedBlockGoes, PcpHighTriggersBatchDrain)
{
	world w(make_cfg()); // pcp high 32, batch 8
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 32, true));
	hand_back(m, 0x100, 32);
	m.cost = cost_counters{};
	for (uint64_t pfn = 0x100; pfn < 0x11f; pfn++)
		m.free_frozen_pages(m.pfn_to_page(pfn), 0);
	EXPECT_EQ(pcp_count(m), 31);
	EXPECT_EQ(m.cost.pcp_drain, 0u);
	m.free_frozen_pages(m.pfn_to_page(0x11f), 0); // count reaches high
	EXPECT_EQ(m.cost.pcp_drain, 1u);
	EXPECT_EQ(m.cost.pcp_drained_blocks, 8u);
	EXPECT_EQ(pcp_count(m), 24);
	// From the list tail: the 8 oldest pages went back, and merged.
	EXPECT_EQ(m.buddy_order_at(0x100), 3);
	for (uint64_t pfn = 0x108; pfn < 0x120; pfn++)
		EXPECT_EQ(where(m, pfn), unsigned(BC_ON_PCP)) << pfn;
	EXPECT_EQ(problems(m), "");
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, PcpDrainTakesListTailsRoundRobin)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 32, true));
	hand_back(m, 0x100, 32);
	m.cost = cost_counters{};
	for (uint64_t pfn = 0x100; pfn < 0x108; pfn += 2)
		m.free_frozen_pages(m.pfn_to_page(pfn), 1); // order-1 MOVABLE list
	for (uint64_t pfn = 0x108; pfn < 0x120; pfn++)
		m.free_frozen_pages(m.pfn_to_page(pfn), 0); // the 24th reaches high
	// The drain starts at the list after the one just freed to (order 0),
	// so the order-1 list goes first, oldest block first.
	EXPECT_EQ(m.cost.pcp_drain, 1u);
	EXPECT_EQ(m.cost.pcp_drained_blocks, 4u);
	EXPECT_EQ(m.buddy_order_at(0x100), 3);
	EXPECT_EQ(pcp_count(m), 24);
	EXPECT_EQ(where(m, 0x108), unsigned(BC_ON_PCP));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, IsolatedPageblockBypassesPcp)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 1, true));
	m.isolate_pageblocks(0x100, 0x110);
	const long nr_free = m.zones()[NORMAL].nr_free_pages;
	hand_back(m, 0x100);
	m.cost = cost_counters{};
	m.free_frozen_pages(m.pfn_to_page(0x100), 0);
	EXPECT_EQ(m.cost.pcp_insert, 0u);
	EXPECT_EQ(pcp_count(m), 0);
	EXPECT_EQ(m.buddy_order_at(0x100), 4); // merged with the isolated pieces
	EXPECT_EQ(list_mt(m, 0x100), unsigned(MIGRATE_ISOLATE));
	EXPECT_EQ(m.zones()[NORMAL].nr_free_pages, nr_free);
	EXPECT_EQ(problems(m), "");
	m.unisolate_pageblocks(0x100, 0x110);
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.zones()[NORMAL].nr_free_pages, nr_free + 16);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, SplitLargeBuddyFreesPageblockPieces)
{
	config c = make_cfg();
	c.cma = {{0x110, 0x120}};
	world w(c);
	Model &m = w.m;
	// Order 5 spans two pageblocks (pageblock_order 4): MOVABLE and CMA.
	ASSERT_TRUE(take(m, 0x100, 32, true));
	hand_back(m, 0x100, 32);
	m.cost = cost_counters{};
	m.free_frozen_pages(m.pfn_to_page(0x100), 5);
	EXPECT_EQ(m.cost.zone_lock, 1u);     // one free_one_page()
	EXPECT_EQ(m.cost.free_one_page, 2u); // two __free_one_page() pieces
	EXPECT_EQ(m.buddy_order_at(0x100), 4);
	EXPECT_EQ(list_mt(m, 0x100), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(m.buddy_order_at(0x110), 4);
	EXPECT_EQ(list_mt(m, 0x110), unsigned(MIGRATE_CMA));
	EXPECT_EQ(problems(m), "");

	// Two MOVABLE pageblocks: two pieces that merge back.
	ASSERT_TRUE(take(m, 0x140, 32, true));
	hand_back(m, 0x140, 32);
	m.cost = cost_counters{};
	m.free_frozen_pages(m.pfn_to_page(0x140), 5);
	EXPECT_EQ(m.cost.free_one_page, 2u);
	EXPECT_EQ(m.cost.merges, 1u);
	EXPECT_EQ(m.buddy_order_at(0x140), 5);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, FreeOnePageAccountsNrFreePagesExceptIsolated)
{
	world w(make_cfg());
	Model &m = w.m;
	const zone &z = m.zones()[NORMAL];
	uint64_t pfn = pfn_of(m, m.alloc_pages(4, MIGRATE_MOVABLE, NORMAL, false, true));
	ASSERT_NE(pfn, no_pfn);
	long before = z.nr_free_pages;
	hand_back(m, pfn, 16);
	m.free_frozen_pages(m.pfn_to_page(pfn), 4);
	EXPECT_EQ(z.nr_free_pages, before + 16);

	// Isolated: not counted until the isolation is undone.
	pfn = pfn_of(m, m.alloc_pages(4, MIGRATE_MOVABLE, NORMAL, false, true));
	ASSERT_NE(pfn, no_pfn);
	m.isolate_pageblocks(pfn, pfn + 16);
	before = z.nr_free_pages;
	hand_back(m, pfn, 16);
	m.free_frozen_pages(m.pfn_to_page(pfn), 4);
	EXPECT_EQ(z.nr_free_pages, before);
	EXPECT_EQ(problems(m), "");
	m.unisolate_pageblocks(pfn, pfn + 16);
	EXPECT_EQ(z.nr_free_pages, before + 16);

	// Pages on a pcp list are not NR_FREE_PAGES until drained.
	pfn = pfn_of(m, m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, true));
	before = z.nr_free_pages;
	hand_back(m, pfn);
	m.free_frozen_pages(m.pfn_to_page(pfn), 0);
	EXPECT_EQ(z.nr_free_pages, before);
	m.drain_all_pages();
	EXPECT_EQ(z.nr_free_pages, before + 1);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, MergeOnlyWithFreeBuddyOfSameOrderInZone)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 4, true));
	auto free0 = [&](uint64_t pfn) {
		hand_back(m, pfn);
		m.free_frozen_pages(m.pfn_to_page(pfn), 0);
		m.drain_all_pages();
	};
	m.cost = cost_counters{};
	free0(0x100); // buddy 0x101 allocated
	EXPECT_EQ(m.buddy_order_at(0x100), 0);
	free0(0x102); // buddy 0x103 allocated
	free0(0x103); // merges with 0x102 into order 1 ...
	EXPECT_EQ(m.buddy_order_at(0x102), 1);
	// ... whose buddy 0x100 is free but of order 0: no merge.
	EXPECT_EQ(m.buddy_order_at(0x100), 0);
	EXPECT_EQ(m.cost.merges, 1u);
	EXPECT_EQ(problems(m), "");
	free0(0x101); // completes every level up to MAX_PAGE_ORDER
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.cost.merges, 1u + 5u);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, MergeStopsAtMaxPageOrder)
{
	world w(make_cfg());
	Model &m = w.m;
	// 0x100 and 0x120 are free order-5 buddies: MAX_PAGE_ORDER, no merge.
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.buddy_order_at(0x120), 5);
	ASSERT_TRUE(take(m, 0x100, 32, true));
	hand_back(m, 0x100, 32);
	reference_family().free_contig_frozen_range_inner(0x100, 32);
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.buddy_order_at(0x120), 5);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, DifferentMigratetypesMergeOnlyIfBothMergeable)
{
	// CMA, HIGHATOMIC and ISOLATE never merge with MOVABLE at
	// pageblock_order, whichever side is freed first.
	for (unsigned mt : {unsigned(MIGRATE_CMA), unsigned(MIGRATE_HIGHATOMIC), unsigned(MIGRATE_ISOLATE)}) {
		for (bool other_first : {true, false}) {
			SCOPED_TRACE(std::string(migratetype_name(mt)) + (other_first ? ", MOVABLE first" : ", MOVABLE last"));
			world w(make_cfg());
			Model &m = w.m;
			ASSERT_TRUE(take(m, 0x200, 32, true));
			hand_back(m, 0x200, 32);
			m.set_pageblock_mt(0x200, mt);
			for (uint64_t pfn : other_first ? std::vector<uint64_t>{0x210, 0x200} : std::vector<uint64_t>{0x200, 0x210})
				reference_family().free_contig_frozen_range_inner(pfn, 16);
			EXPECT_EQ(m.buddy_order_at(0x200), 4);
			EXPECT_EQ(list_mt(m, 0x200), mt);
			EXPECT_EQ(m.buddy_order_at(0x210), 4);
			EXPECT_EQ(list_mt(m, 0x210), unsigned(MIGRATE_MOVABLE));
			EXPECT_EQ(drained_problems(m), "");
		}
	}
	// UNMOVABLE and MOVABLE merge; the buddy's pageblock takes our type.
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x200, 32, true));
	hand_back(m, 0x200, 32);
	m.set_pageblock_mt(0x210, MIGRATE_UNMOVABLE);
	reference_family().free_contig_frozen_range_inner(0x200, 16); // MOVABLE buddy
	reference_family().free_contig_frozen_range_inner(0x210, 16); // UNMOVABLE, merges
	EXPECT_EQ(m.buddy_order_at(0x200), 5);
	EXPECT_EQ(list_mt(m, 0x200), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.pageblock_mt(0x200), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.pageblock_mt(0x210), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, FreeToTailPutsBlockAtListTail)
{
	world w(make_cfg());
	Model &m = w.m;
	const list_head *l = &m.zones()[NORMAL].area[5].free_list[MIGRATE_MOVABLE];
	page *p = m.alloc_pages(5, MIGRATE_MOVABLE, NORMAL, false, true);
	ASSERT_NE(p, nullptr);
	hand_back(m, pfn_of(m, p), 32);
	m.__free_frozen_pages(p, 5, FPI_TO_TAIL);
	EXPECT_EQ(l->prev, &p->buddy_list);
	EXPECT_NE(l->next, &p->buddy_list);
	page *q = m.alloc_pages(5, MIGRATE_MOVABLE, NORMAL, false, true);
	ASSERT_EQ(q, p); // canonical allocation: the lowest pfn
	hand_back(m, pfn_of(m, q), 32);
	m.free_frozen_pages(q, 5);
	EXPECT_EQ(l->next, &q->buddy_list);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(WhereFreedBlockGoes, MergingIsOrderIndependentAfterDrain)
{
	// The same pages of one section, with an UNMOVABLE pageblock among
	// MOVABLE ones and two pages kept, freed in five different orders.
	const std::vector<uint64_t> kept = {0x133, 0x150};
	std::vector<uint64_t> freed;
	for (uint64_t pfn = 0x100; pfn < 0x180; pfn++)
		if (std::find(kept.begin(), kept.end(), pfn) == kept.end())
			freed.push_back(pfn);
	std::vector<uint64_t> shuffled = freed;
	uint64_t s = 12345;
	for (size_t i = shuffled.size(); i > 1; i--) {
		s = s * 6364136223846793005ULL + 1442695040888963407ULL;
		std::swap(shuffled[i - 1], shuffled[(s >> 33) % i]);
	}
	std::vector<uint64_t> descending(freed.rbegin(), freed.rend());

	std::vector<std::unique_ptr<world>> worlds;
	auto setup = [&]() -> Model & {
		worlds.push_back(std::make_unique<world>(make_cfg()));
		Model &m = worlds.back()->m;
		EXPECT_TRUE(take(m, 0x100, 128, true));
		m.set_pageblock_mt(0x110, MIGRATE_UNMOVABLE);
		for (uint64_t pfn : freed)
			hand_back(m, pfn);
		return m;
	};
	for (const auto *order : {&freed, &descending, &shuffled}) {
		Model &m = setup();
		for (uint64_t pfn : *order)
			m.free_frozen_pages(m.pfn_to_page(pfn), 0);
	}
	{
		setup(); // batched, one call per run between kept pages
		reference_family().free_contig_frozen_range_inner(0x151, 0x2f);
		reference_family().free_contig_frozen_range_inner(0x134, 0x1c);
		reference_family().free_contig_frozen_range_inner(0x100, 0x33);
	}
	for (auto &w : worlds)
		EXPECT_EQ(drained_problems(w->m), "");
	for (size_t i = 1; i < worlds.size(); i++)
		EXPECT_EQ(diff(worlds[0]->m, worlds[i]->m), "") << "history " << i;
	const Model &m = worlds[0]->m;
	EXPECT_EQ(m.buddy_order_at(0x100), 5);
	EXPECT_EQ(m.buddy_order_at(0x120), 4);
	EXPECT_EQ(m.buddy_order_at(0x130), 1);
	EXPECT_EQ(m.buddy_order_at(0x132), 0);
	EXPECT_EQ(m.buddy_order_at(0x134), 2);
	EXPECT_EQ(m.buddy_order_at(0x151), 0);
	EXPECT_EQ(m.buddy_order_at(0x160), 5);

	// The same through the lockstep replay: per-page oracle against the
	// batched reference, shuffled arrays, across a section boundary.
	const char *text = "buddycheck-trace 1\n"
			   "config preset=small memmap=sparse\n"
			   "alloc_contig a 0x160 64\n"
			   "free_pages_bulk a shuffle=7\n"
			   "check\n"
			   "vmalloc v 45\n"
			   "vfree v reversed\n"
			   "check\n";
	trace t;
	ASSERT_EQ(parse_trace(text, "order_independent.trace", t), std::nullopt);
	replay_result r = replay(t);
	EXPECT_EQ(r.v, verdict::pass) << format_result(t, r);
}

// ====================================================== 4. free_pages_prepare

TEST(FreePagesPrepare, PrepareFailsForHwpoisonAtOrderZero)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 1, true));
	m.set_hwpoison(0x100);
	hand_back(m, 0x100);
	m.cost = cost_counters{};
	EXPECT_FALSE(m.free_pages_prepare(m.pfn_to_page(0x100), 0));
	EXPECT_EQ(m.cost.prepare_failed, 1u);
	EXPECT_EQ(m.ledger(0x100), LEDGER_LEAKED);
	// Through the free path: never on a pcp or buddy list.
	ASSERT_TRUE(take(m, 0x101, 1, true));
	m.set_hwpoison(0x101);
	hand_back(m, 0x101);
	m.free_frozen_pages(m.pfn_to_page(0x101), 0);
	EXPECT_FALSE(is_free(m, 0x101));
	EXPECT_EQ(m.ledger(0x101), LEDGER_LEAKED);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreePagesPrepare, PrepareFailsForEachBadPageKind)
{
	world w(make_cfg());
	Model &m = w.m;
	uint64_t pfn = 0x100;
	for (const std::string &kind : Model::bad_kinds()) {
		SCOPED_TRACE(kind);
		ASSERT_TRUE(take(m, pfn, 1, true));
		page *p = m.pfn_to_page(pfn);
		ASSERT_EQ(m.bad_reason(p), "");
		ASSERT_TRUE(m.make_bad(pfn, kind));
		EXPECT_NE(m.bad_reason(p), "");
		hand_back(m, pfn);
		EXPECT_FALSE(m.free_pages_prepare(p, 0));
		EXPECT_EQ(m.ledger(pfn), LEDGER_LEAKED);
		EXPECT_FALSE(is_free(m, pfn));
		pfn++;
	}
	EXPECT_FALSE(m.make_bad(pfn, "no-such-kind"));
	// refcount != 0: a refcounted page handed to the frozen path.
	ASSERT_TRUE(take(m, 0x120, 1, false));
	EXPECT_EQ(m.bad_reason(m.pfn_to_page(0x120)), "nonzero _refcount");
	hand_back(m, 0x120);
	EXPECT_FALSE(m.free_pages_prepare(m.pfn_to_page(0x120), 0));
	EXPECT_EQ(m.ledger(0x120), LEDGER_LEAKED);
	// A bad tail page fails the whole block: none of it is freed.
	ASSERT_TRUE(take(m, 0x124, 4, true));
	ASSERT_TRUE(m.make_bad(0x126, "writeback"));
	hand_back(m, 0x124, 4);
	m.free_frozen_pages(m.pfn_to_page(0x124), 2);
	for (uint64_t i = 0x124; i < 0x128; i++) {
		EXPECT_FALSE(is_free(m, i)) << i;
		EXPECT_EQ(m.ledger(i), LEDGER_LEAKED) << i;
	}
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreePagesPrepare, PrepareSucceedsAndClearsState)
{
	world w(make_cfg());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x100, 1, true));
	page *p = m.pfn_to_page(0x100);
	p->flags.f |= (1UL << PG_referenced) | (1UL << PG_dirty) | (1UL << PG_uptodate) | (1UL << PG_workingset);
	p->private_ = 0x1234;
	hand_back(m, 0x100);
	ASSERT_TRUE(m.free_pages_prepare(p, 0));
	EXPECT_EQ(p->flags.f & BC_PAGEFLAGS_MASK, 0u);
	EXPECT_EQ(p->private_, 0u);
	EXPECT_EQ(p->mapping, nullptr);
	EXPECT_EQ(p->_mapcount, -1);
	EXPECT_EQ(p->bc_prepared, 1);
	EXPECT_EQ(m.memdesc_section(p), 2u); // not a page flag
	m.__free_frozen_pages(p, 0, FPI_PREPARED);
	EXPECT_TRUE(is_free(m, 0x100));
	EXPECT_EQ(p->bc_prepared, 0);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(FreePagesPrepare, PrepareWithPageChecksOffIgnoresBadFlags)
{
	config c = make_cfg();
	c.page_checks = false;
	world w(c);
	Model &m = w.m;
	uint64_t pfn = 0x100;
	for (const std::string &kind : Model::bad_kinds()) {
		SCOPED_TRACE(kind);
		ASSERT_TRUE(take(m, pfn, 1, true));
		ASSERT_TRUE(m.make_bad(pfn, kind));
		hand_back(m, pfn);
		m.free_frozen_pages(m.pfn_to_page(pfn), 0);
		EXPECT_TRUE(is_free(m, pfn));
		EXPECT_EQ(m.bad_reason(m.pfn_to_page(pfn)), ""); // prepare cleared it
		pfn++;
	}
	EXPECT_EQ(m.cost.prepare_failed, 0u);
	// HWPoison is not a page check: still refused.
	ASSERT_TRUE(take(m, 0x140, 1, true));
	m.set_hwpoison(0x140);
	hand_back(m, 0x140);
	m.free_frozen_pages(m.pfn_to_page(0x140), 0);
	EXPECT_FALSE(is_free(m, 0x140));
	EXPECT_EQ(m.ledger(0x140), LEDGER_LEAKED);
	EXPECT_EQ(drained_problems(m), "");
}

// ====================================================== 5. Allocation side

TEST(AllocationSide, RmqueueSmallestAndExpandSplitRest)
{
	world w(make_cfg());
	Model &m = w.m;
	const zone &z = m.zones()[NORMAL];
	const long nr_free = z.nr_free_pages;
	// Model simplification (model.cpp, alloc_policy::canonical): the block
	// taken is the lowest-pfn one of any mergeable migratetype, so that two
	// engines allocate the same pages; the kernel takes a list head.
	auto alloc = [&](unsigned order) { return pfn_of(m, m.alloc_pages(order, MIGRATE_MOVABLE, NORMAL, false, true)); };
	// Normal starts 0x83 o0, 0x84 o2, 0x88 o3, 0x90 o4, 0xa0 o5, ...
	EXPECT_EQ(alloc(1), 0x84u); // smallest block >= order 1 is 0x84 o2 ...
	EXPECT_EQ(m.buddy_order_at(0x86), 1); // ... its other half goes back
	EXPECT_EQ(z.nr_free_pages, nr_free - 2);
	EXPECT_EQ(alloc(0), 0x83u);
	EXPECT_EQ(alloc(3), 0x88u);
	EXPECT_EQ(alloc(4), 0x90u);
	EXPECT_EQ(alloc(2), 0xa0u); // from an order-5 block, split 4, 3, 2
	EXPECT_EQ(m.buddy_order_at(0xb0), 4);
	EXPECT_EQ(m.buddy_order_at(0xa8), 3);
	EXPECT_EQ(m.buddy_order_at(0xa4), 2);
	EXPECT_EQ(alloc(0), 0x86u); // from 0x86 o1, split 0
	EXPECT_EQ(m.buddy_order_at(0x87), 0);
	EXPECT_EQ(problems(m), "");

	const std::pair<uint64_t, unsigned> held[] = {{0x84, 1}, {0x83, 0}, {0x88, 3}, {0x90, 4}, {0xa0, 2}, {0x86, 0}};
	for (auto [pfn, order] : held) {
		hand_back(m, pfn, uint64_t(1) << order);
		m.free_frozen_pages(m.pfn_to_page(pfn), order);
	}
	EXPECT_EQ(drained_problems(m), "");
	world boot(make_cfg());
	EXPECT_EQ(diff(boot.m, m), ""); // every split merged back
}

TEST(AllocationSide, PcpAllocationForPcpAllowedOrders)
{
	config c = make_cfg();
	// Allocate as the kernel does, through the pcp lists (the canonical
	// policy drains them first so that allocation ignores them).
	c.alloc = alloc_policy::kernel;
	world w(c);
	Model &m = w.m;
	m.cost = cost_counters{};
	page *a = m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, false);
	ASSERT_NE(a, nullptr);
	// rmqueue_bulk() refilled the list with batch (8) pages, one handed out.
	EXPECT_EQ(pcp_count(m), 7);
	EXPECT_EQ(m.cost.zone_lock, 1u);
	page *b = m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, false);
	ASSERT_NE(b, nullptr);
	EXPECT_EQ(pcp_count(m), 6);
	EXPECT_EQ(m.cost.zone_lock, 1u); // straight from the pcp list
	page *big = m.alloc_pages(4, MIGRATE_MOVABLE, NORMAL, false, false);
	ASSERT_NE(big, nullptr);
	EXPECT_EQ(pcp_count(m), 6); // order 4 is not pcp-allowed
	EXPECT_EQ(m.cost.zone_lock, 2u);
	EXPECT_EQ(problems(m), "");
	for (auto [p, order] : {std::pair{a, 0u}, std::pair{b, 0u}, std::pair{big, 4u}}) {
		hand_back(m, pfn_of(m, p), uint64_t(1) << order);
		m.__free_pages(p, order);
	}
	EXPECT_EQ(drained_problems(m), "");
}

TEST(AllocationSide, SplitPageGivesEveryPageRefcountOne)
{
	world w(make_cfg());
	Model &m = w.m;
	page *p = m.alloc_pages(3, MIGRATE_MOVABLE, NORMAL, false, false);
	ASSERT_NE(p, nullptr);
	const uint64_t pfn = pfn_of(m, p);
	EXPECT_EQ(p->_refcount, 1);
	EXPECT_EQ(m.pfn_to_page(pfn + 1)->_refcount, 0);
	m.split_page(p, 3);
	for (uint64_t i = 0; i < 8; i++)
		EXPECT_EQ(m.pfn_to_page(pfn + i)->_refcount, 1) << i;
	// Each page is now freed on its own.
	for (uint64_t i = 0; i < 8; i++) {
		hand_back(m, pfn + i);
		m.__free_pages(m.pfn_to_page(pfn + i), 0);
		EXPECT_TRUE(is_free(m, pfn + i));
	}
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(pfn), 3);
}

TEST(AllocationSide, AllocContigRangeReturnsExcessThroughFrozenPath)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	reset_recorder();
	m.free_log.clear();
	// The enclosing free block is 0x100 o5: excess [0x100, 0x105) and [0x10b, 0x120).
	ASSERT_TRUE(take(m, 0x105, 6, false));
	EXPECT_EQ(g_common, (std::vector<call>{{0x100, 5, true}, {0x10b, 21, true}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{2, 0, 0, 2, 4}));
	for (uint64_t pfn = 0x105; pfn < 0x10b; pfn++) {
		EXPECT_EQ(m.pfn_to_page(pfn)->_refcount, 1) << pfn;
		EXPECT_EQ(m.ledger(pfn), LEDGER_ALLOCATED) << pfn;
	}
	EXPECT_EQ(m.pageblock_mt(0x100), unsigned(MIGRATE_MOVABLE)); // isolation undone
	EXPECT_EQ(m.pageblock_mt(0x110), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(drained_problems(m), "");
	EXPECT_EQ(m.buddy_order_at(0x100), 2);
	EXPECT_EQ(m.buddy_order_at(0x104), 0);
	EXPECT_EQ(m.buddy_order_at(0x10b), 0);
	EXPECT_EQ(m.buddy_order_at(0x10c), 2);
	EXPECT_EQ(m.buddy_order_at(0x110), 4);

	// Frozen: refcount 0.
	ASSERT_TRUE(take(m, 0x145, 3, true));
	for (uint64_t pfn = 0x145; pfn < 0x148; pfn++)
		EXPECT_EQ(m.pfn_to_page(pfn)->_refcount, 0) << pfn;
	EXPECT_EQ(drained_problems(m), "");
}

TEST(AllocationSide, AllocContigRangeDrainsPcpAndUndoesIsolation)
{
	config c = make_cfg();
	c.cma = {{0x180, 0x1a0}};
	world w(c);
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x180, 4, true));
	hand_back(m, 0x180, 4);
	m.free_frozen_pages(m.pfn_to_page(0x180), 2);
	ASSERT_EQ(where(m, 0x180), unsigned(BC_ON_PCP));
	ASSERT_TRUE(take(m, 0x180, 8, true)); // the pcp block is drained and taken
	EXPECT_EQ(pcp_count(m), 0);
	for (uint64_t pfn = 0x180; pfn < 0x188; pfn++)
		EXPECT_EQ(m.ledger(pfn), LEDGER_ALLOCATED) << pfn;
	// The CMA pageblocks are CMA again, and nothing is left isolated.
	EXPECT_EQ(m.pageblock_mt(0x180), unsigned(MIGRATE_CMA));
	EXPECT_EQ(m.pageblock_mt(0x190), unsigned(MIGRATE_CMA));
	for (const zone &z : m.zones())
		for (unsigned o = 0; o <= m.max_order(); o++)
			EXPECT_EQ(z.area[o].nr_free_mt[MIGRATE_ISOLATE], 0u) << z.name << " order " << o;
	EXPECT_EQ(drained_problems(m), "");
}

TEST(AllocationSide, AllocContigRangeFailsWhenPageBusy)
{
	config c = make_cfg();
	c.holes = {4};
	default_zones(c);
	world w(c);
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x108, 1, true));
	m.drain_all_pages();
	auto snapshot = [&] {
		std::vector<int> s;
		for (uint64_t pfn = 0; pfn < m.nr_pfns(); pfn++)
			s.push_back(m.pfn_valid(pfn) ? m.buddy_order_at(pfn) * 16 + int(m.pageblock_mt(pfn)) : -99);
		s.push_back(int(m.zones()[NORMAL].nr_free_pages));
		return s;
	};
	const auto before = snapshot();
	// Model simplification (model.cpp): no migration, so a busy page fails
	// the call where the kernel would first try to migrate it.
	EXPECT_FALSE(m.alloc_contig_range(0x100, 0x110, true, free_excess)); // 0x108 is busy
	EXPECT_FALSE(m.alloc_contig_range(0x80, 0x90, true, free_excess));   // two zones
	EXPECT_FALSE(m.alloc_contig_range(0x1f0, 0x210, true, free_excess)); // into a hole
	EXPECT_FALSE(m.alloc_contig_range(0x3f0, 0x410, true, free_excess)); // beyond the end
	EXPECT_EQ(snapshot(), before);
	EXPECT_EQ(m.ledger(0x100), 0);
	EXPECT_EQ(m.ledger(0x108), LEDGER_ALLOCATED);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(AllocationSide, CmaPageblocksReleasedThroughFreeContigFrozenRange)
{
	config c = make_cfg();
	c.cma = {{0x200, 0x240}};
	world w(c, recording_family());
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x200, 32, true)); // cma_alloc: frozen pages
	hand_back(m, 0x200, 32);
	reset_recorder();
	m.free_log.clear();
	recording_family().free_contig_frozen_range(0x200, 32); // cma_release
	EXPECT_EQ(g_common, (std::vector<call>{{0x200, 32, true}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{5}));
	EXPECT_EQ(m.buddy_order_at(0x200), 5);
	EXPECT_EQ(list_mt(m, 0x200), unsigned(MIGRATE_CMA));
	EXPECT_EQ(m.pageblock_mt(0x200), unsigned(MIGRATE_CMA));
	EXPECT_EQ(m.pageblock_mt(0x210), unsigned(MIGRATE_CMA));
	EXPECT_EQ(drained_problems(m), "");
}

TEST(AllocationSide, VmallocLargeOrderFirstAndNrVmalloc)
{
	world w(make_cfg());
	Model &m = w.m;
	std::vector<page *> pages;
	// 100 pages: min(MAX_PAGE_ORDER 5, ilog2(remaining)) = 5, 5, 5, then 2.
	ASSERT_TRUE(m.vmalloc_pages(100, false, pages));
	ASSERT_EQ(pages.size(), 100u);
	EXPECT_EQ(m.nr_vmalloc, 100);
	const std::pair<size_t, uint64_t> chunks[] = {{0, 32}, {32, 32}, {64, 32}, {96, 4}};
	for (auto [off, n] : chunks) {
		const uint64_t first = pfn_of(m, pages[off]);
		EXPECT_EQ(first % n, 0u) << "chunk at index " << off;
		for (uint64_t i = 0; i < n; i++)
			EXPECT_EQ(pfn_of(m, pages[off + i]), first + i) << "chunk at index " << off;
	}
	for (page *p : pages) // split_page()
		EXPECT_EQ(p->_refcount, 1);
	EXPECT_EQ(problems(m, 100), "");
	m.vfree_pages(pages.data(), pages.size());
	EXPECT_EQ(drained_problems(m, 0), "");
}

TEST(AllocationSide, VmallocLowersOrderOnFailure)
{
	world w(make_cfg());
	Model &m = w.m;
	// Take all memory, then give back eight isolated order-0 pages.
	std::vector<uint64_t> all;
	for (;;) {
		uint64_t pfn = pfn_of(m, m.alloc_pages(0, MIGRATE_MOVABLE, -1, false, true));
		if (pfn == no_pfn)
			break;
		all.push_back(pfn);
	}
	ASSERT_EQ(all.size(), size_t(0x400));
	std::vector<uint64_t> holes;
	for (uint64_t pfn = 0x200; pfn < 0x210; pfn += 2) {
		hand_back(m, pfn);
		m.free_frozen_pages(m.pfn_to_page(pfn), 0);
		holes.push_back(pfn);
	}
	std::vector<page *> pages;
	ASSERT_TRUE(m.vmalloc_pages(6, false, pages)); // order 2, 1 fail: order-0 pages
	ASSERT_EQ(pages.size(), 6u);
	EXPECT_EQ(m.nr_vmalloc, 6);
	for (page *p : pages)
		EXPECT_NE(std::find(holes.begin(), holes.end(), pfn_of(m, p)), holes.end());
	EXPECT_EQ(problems(m, 6), "");
	// Out of memory (model behaviour): what was allocated is given back.
	std::vector<page *> more;
	EXPECT_FALSE(m.vmalloc_pages(3, false, more));
	EXPECT_TRUE(more.empty());
	EXPECT_EQ(m.nr_vmalloc, 6);
	EXPECT_EQ(drained_problems(m, 6), "");
	m.vfree_pages(pages.data(), pages.size());
	EXPECT_EQ(drained_problems(m, 0), "");
}

TEST(AllocationSide, VfreeDecrementsNrVmallocAndFreesBulk)
{
	world w(make_cfg(), recording_family());
	Model &m = w.m;
	std::vector<page *> pages;
	ASSERT_TRUE(m.vmalloc_pages(40, false, pages)); // an order-5 and an order-3 piece
	ASSERT_EQ(m.nr_vmalloc, 40);
	reset_recorder();
	m.free_log.clear();
	m.cost = cost_counters{};
	// VM_MAP_PUT_PAGES is not modelled: vfree always updates NR_VMALLOC.
	m.vfree_pages(pages.data(), pages.size());
	EXPECT_EQ(m.nr_vmalloc, 0);
	EXPECT_EQ(g_nr_vmalloc_at_bulk, 0); // decremented before free_pages_bulk()
	EXPECT_EQ(g_common, (std::vector<call>{{pfn_of(m, pages[0]), 32, false}, {pfn_of(m, pages[32]), 8, false}}));
	EXPECT_EQ(m.free_log, (std::vector<unsigned>{5, 3}));
	EXPECT_EQ(m.cost.cond_resched, 2u);
	EXPECT_EQ(drained_problems(m, 0), "");
	world boot(make_cfg());
	EXPECT_EQ(diff(boot.m, m), "");
}

} // namespace
