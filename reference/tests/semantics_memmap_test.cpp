// Semantics, section 1: the memory models and zones, as the model's
// memmap.cpp builds them (mm/mm_init.c, mm/sparse.c: FLATMEM,
// SPARSEMEM_VMEMMAP, classic SPARSEMEM, holes, unaligned zones); split out
// of the semantics tests along the model's files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

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

} // namespace
