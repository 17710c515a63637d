// Semantics, section 5 (vmalloc): the model's vmalloc.cpp (mm/vmalloc.c:
// the page array allocated high order first, NR_VMALLOC, __vfree() through
// free_pages_bulk()); split out of the semantics tests along the model's
// files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

TEST(AllocationSide, VmallocLargeOrderFirstAndNrVmalloc)
{
	world w(make_cfg());
	Model &m = w.m;
	std::vector<page *> pages;
	// 100 pages: min(MAX_PAGE_ORDER 5, ilog2(remaining)) = 5, 5, 5, then 2.
	ASSERT_TRUE(m.vmalloc_pages(100, false, false, pages));
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
	ASSERT_TRUE(m.vmalloc_pages(6, false, false, pages)); // order 2, 1 fail: order-0 pages
	ASSERT_EQ(pages.size(), 6u);
	EXPECT_EQ(m.nr_vmalloc, 6);
	for (page *p : pages)
		EXPECT_NE(std::find(holes.begin(), holes.end(), pfn_of(m, p)), holes.end());
	EXPECT_EQ(problems(m, 6), "");
	// Out of memory (model behaviour): what was allocated is given back.
	std::vector<page *> more;
	EXPECT_FALSE(m.vmalloc_pages(3, false, false, more));
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
	ASSERT_TRUE(m.vmalloc_pages(40, false, false, pages)); // an order-5 and an order-3 piece
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
