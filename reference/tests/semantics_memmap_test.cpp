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

// Preset small: 8 sections of 128 pages (0x80), MAX_PAGE_ORDER 5.
//
//   section    0      1      2      3      4 ...
//   pfn      0x000  0x080  0x100  0x180  0x200
//   boot     [ s0 | s1 | s3 | s4 | ... ]  one buffer, hole 2 left out
//   hotplug  [ s0 ] [ s1 ] [ s3 ] ...     one allocation each
inline config with_hole(memmap_model mm, uint64_t hole = 2)
{
	config c = make_cfg("small", mm);
	c.holes = {hole};
	default_zones(c);
	return c;
}

TEST(MemoryModel, HotplugSparseMemmapIsPerSection)
{
	world w(make_cfg("small", memmap_model::sparse_hotplug));
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

TEST(MemoryModel, BootSparsePacksTheNodesPresentSectionsInPfnOrder)
{
	world w(with_hole(memmap_model::sparse));
	Model &m = w.m;
	// Adjacent present sections: the next struct page is the next pfn's.
	EXPECT_EQ(m.pfn_to_page(0x7f) + 1, m.pfn_to_page(0x80));
	// Across the hole: the next struct page is the next *present*
	// section's first page, pfn 0x180, not 0x100.
	EXPECT_EQ(m.pfn_to_page(0xff) + 1, m.pfn_to_page(0x180));
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0xff) + 1), 0x180u);
	EXPECT_EQ(m.memdesc_section(m.pfn_to_page(0xff) + 1), 3u);
	// The end of the node's buffer is the end of the memmap.
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x3ff) + 1), no_pfn);
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0) - 1), no_pfn);
	EXPECT_EQ(problems(m), "");
}

TEST(MemoryModel, PagePlusPlusOffASectionEndLeavesTheMemmapUnderHotplugButIsTheWrongPfnUnderBoot)
{
	world hot(with_hole(memmap_model::sparse_hotplug));
	const page *past = hot.m.pfn_to_page(0xff) + 1;
	EXPECT_EQ(hot.m.page_to_pfn(past), no_pfn); // a heap overflow when read (ASan)
	world boot(with_hole(memmap_model::sparse));
	past = boot.m.pfn_to_page(0xff) + 1;
	EXPECT_NE(boot.m.page_to_pfn(past), no_pfn); // a real struct page: nothing faults
	EXPECT_NE(boot.m.page_to_pfn(past), 0x100u); // but not pfn 0x100's
	EXPECT_FALSE(boot.m.pfn_valid(0x100));
}

#if defined(__SANITIZE_ADDRESS__)
#define BC_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BC_TEST_ASAN 1
#endif
#endif
#ifdef BC_TEST_ASAN
TEST(MemoryModelDeathTest, AWalkOffANodesBootBufferIsAnAddressSanitizerReport)
{
	world w(with_hole(memmap_model::sparse));
	volatile const page *past = w.m.pfn_to_page(0x3ff) + 1;
	EXPECT_DEATH((void)past->flags.f, "AddressSanitizer");
}
#endif

TEST(MemoryModel, EveryNodeHasItsOwnBootBuffer)
{
	config c = make_cfg("small", memmap_model::sparse);
	two_node_layout(c); // node 0: sections 0-3 with hole 2; node 1: sections 4-7
	ASSERT_EQ(validate(c), std::nullopt);
	ASSERT_EQ(c.nr_nodes(), 2u);
	world w(c);
	Model &m = w.m;
	EXPECT_EQ(m.pfn_to_page(0xff) + 1, m.pfn_to_page(0x180));   // across node 0's hole
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x1ff) + 1), no_pfn); // node 0's buffer ends
	EXPECT_EQ(m.pfn_to_page(0x27f) + 1, m.pfn_to_page(0x280));  // inside node 1's
	// Zones lie in one node; buddies never merge across them.
	EXPECT_EQ(m.zone_of(0x1ff), &m.zones()[1]);
	EXPECT_EQ(m.zone_of(0x200), &m.zones()[2]);
	EXPECT_EQ(drained_problems(m), "");
}

TEST(MemoryModel, HotAddedSectionsAtTheEndOfANodeHaveTheirOwnAllocation)
{
	config c = make_cfg("small", memmap_model::sparse);
	c.hotplug = 2; // sections 6 and 7
	world w(c);
	Model &m = w.m;
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x27f) + 1), 0x280u); // 4 -> 5 in the boot buffer
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x2ff) + 1), no_pfn); // 5 -> 6: the buffer ends
	EXPECT_EQ(m.page_to_pfn(m.pfn_to_page(0x37f) + 1), no_pfn); // 6 -> 7: two allocations
	EXPECT_EQ(problems(m), "");
}

TEST(MemoryModel, HotplugSparsePagePlusPlusWalkAcrossSectionIsReported)
{
	// The no-section-split variant keeps one run across 0x180 and walks
	// its struct pages with page++: with one memmap allocation per section
	// that pointer leaves section 2's memmap, and the model reports it.  The
	// variant loses pages on purpose, so no invariant check here.
	const free_family *broken = family_by_name("no-section-split");
	ASSERT_NE(broken, nullptr);
	world w(make_cfg("small", memmap_model::sparse_hotplug), *broken);
	Model &m = w.m;
	ASSERT_TRUE(take(m, 0x17c, 8, true));
	ASSERT_TRUE(m.findings.empty());
	hand_back(m, 0x17c, 8);
	broken->free_contig_frozen_range_inner(0x17c, 8);
	ASSERT_FALSE(m.findings.empty());
	EXPECT_EQ(m.findings.front().invariant, "struct_page_pointer");

	// The reference splits the run at the section and reports nothing.
	world ok(make_cfg("small", memmap_model::sparse_hotplug));
	ASSERT_TRUE(take(ok.m, 0x17c, 8, true));
	hand_back(ok.m, 0x17c, 8);
	reference_family().free_contig_frozen_range_inner(0x17c, 8);
	EXPECT_EQ(drained_problems(ok.m), "");
}

// What num_pages_contiguous() would say from pointers alone, without its
// section check.
static unsigned long pointer_contiguous(page *const *pages, unsigned long nr)
{
	unsigned long i = 1;
	while (i < nr && pages[i] == pages[0] + i)
		i++;
	return i;
}

TEST(MemoryModel, PointerContiguityIsPfnContiguityExceptInTheBootLayoutWithHoles)
{
	for (memmap_model mm : all_memmaps)
		for (bool hole : {false, true}) {
			SCOPED_TRACE(std::string(memmap_name(mm)) + (hole ? " with hole 2" : " without holes"));
			world w(hole ? with_hole(mm) : make_cfg("small", mm));
			Model &m = w.m;
			// Two pages in pfn order on both sides of section 2.
			page *pages[] = {m.pfn_to_page(0xff), m.pfn_to_page(hole ? 0x180 : 0x100)};
			const bool pfn_contiguous = m.page_to_pfn(pages[1]) == m.page_to_pfn(pages[0]) + 1;
			const bool pointer_says = pointer_contiguous(pages, 2) == 2;
			EXPECT_EQ(pointer_says && !pfn_contiguous, mm == memmap_model::sparse && hole);
			// The reference's section check keeps it right in every layout.
			EXPECT_EQ(reference_family().num_pages_contiguous(pages, 2),
				  pfn_contiguous && !classic_sparse(mm) ? 2u : 1u);
		}
}

// A family that records the runs its __free_contig_range_common() hands
// to free_prepared_contig_range().
static std::vector<std::pair<uint64_t, unsigned long>> recorded_runs;
static void recording_prepared(page *first, unsigned long nr)
{
	recorded_runs.emplace_back(current().page_to_pfn(first), nr);
	reference_family().free_prepared_contig_range(first, nr);
}

TEST(MemoryModel, ARunAcrossAdjacentBootSectionsIsContiguousAndStillSplitAtTheSection)
{
	free_family recording = reference_family();
	recording.free_prepared_contig_range = recording_prepared;
	world w(make_cfg("small", memmap_model::sparse), recording);
	Model &m = w.m;
	// Pointer- and pfn-contiguous across 0x180 in the boot buffer ...
	ASSERT_EQ(m.pfn_to_page(0x17f) + 1, m.pfn_to_page(0x180));
	ASSERT_TRUE(take(m, 0x17c, 8, true));
	hand_back(m, 0x17c, 8);
	recorded_runs.clear();
	recording.free_contig_frozen_range_inner(0x17c, 8);
	// ... and still two runs: the section check of __free_contig_range_common.
	const std::vector<std::pair<uint64_t, unsigned long>> want = {{0x17c, 4}, {0x180, 4}};
	EXPECT_EQ(recorded_runs, want);
	EXPECT_EQ(drained_problems(m), "");
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
