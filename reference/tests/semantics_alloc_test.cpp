// Semantics, section 5: the allocation side, the model's alloc_path.cpp
// (mm/page_alloc.c's rmqueue path, split_page(), alloc_contig_range() with
// mm/page_isolation.c, and cma_release()); split out of the semantics tests
// along the model's files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

// ====================================================== 5. Allocation side

TEST(AllocationSide, RmqueueSmallestAndExpandSplitRest)
{
	world w(make_cfg());
	Model &m = w.m;
	const zone &z = m.zones()[NORMAL];
	const long nr_free = z.nr_free_pages;
	// Model simplification (alloc_path.cpp, alloc_policy::canonical): the block
	// taken is the lowest-pfn one of any mergeable migratetype, so that two
	// engines allocate the same pages; the kernel takes a list head.
	auto alloc = [&](unsigned order) { return pfn_of(m, m.alloc_pages(order, MIGRATE_MOVABLE, NORMAL, false, true)); };
	// Normal starts 0x83 o0, 0x84 o2, 0x88 o3, 0x90 o4, 0xa0 o5, ...
	EXPECT_EQ(alloc(1), 0x84u);           // smallest block >= order 1 is 0x84 o2 ...
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
	// Model simplification (alloc_path.cpp): no migration, so a busy page fails
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

} // namespace

namespace {

using namespace semantics;

// Steered allocation (alloc_steer.cpp), what the lockstep does under
// alloc=kernel: the oracle's choices recorded, the batched engine given them.
//   boot Normal: ... 0xa0 o5 ...     the recorded pfn 0xa5, order 0
//   after:  0xa0 o2 (0xa0-0xa3), 0xa4 o0, [0xa5], 0xa6 o1, 0xa8 o3, 0xb0 o4
TEST(AllocationSide, SteeredAllocationTakesTheRecordedBlock)
{
	config c = make_cfg();
	c.alloc = alloc_policy::kernel;
	world w(c);
	Model &m = w.m;
	m.steering = true;
	m.steer = {{0xa5, 0}, {no_pfn, 1}, {0xa5, 0}};
	m.steer_next = 0;
	page *p = m.alloc_pages(0, MIGRATE_UNMOVABLE, NORMAL, false, false);
	ASSERT_EQ(pfn_of(m, p), 0xa5u);
	EXPECT_EQ(m.buddy_order_at(0xa0), 2);
	EXPECT_EQ(m.buddy_order_at(0xa4), 0);
	EXPECT_EQ(m.buddy_order_at(0xa6), 1);
	EXPECT_EQ(m.buddy_order_at(0xa8), 3);
	EXPECT_EQ(m.buddy_order_at(0xb0), 4);
	EXPECT_EQ(m.alloc_mobility(0xa5), unsigned(MIGRATE_UNMOVABLE));
	// A recorded failure fails here too; a recorded block that is not free
	// here (0xa5 again) fails: the lockstep reports the divergence.
	EXPECT_EQ(m.alloc_pages(1, MIGRATE_MOVABLE, NORMAL, false, false), nullptr);
	EXPECT_EQ(m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, false), nullptr);
	EXPECT_EQ(problems(m), "");
	// An allocation the oracle did not make at all is the model's finding.
	EXPECT_EQ(m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, false), nullptr);
	ASSERT_EQ(m.findings.size(), 1u);
	EXPECT_EQ(m.findings[0].invariant, "steered_allocation");
	m.findings.clear();
	m.steering = false;
	hand_back(m, 0xa5);
	m.__free_pages(p, 0);
	EXPECT_EQ(drained_problems(m), "");
	world boot(make_cfg());
	EXPECT_EQ(diff(boot.m, m), "");
}

TEST(AllocationSide, SteeredAllocationTakesFromPcpLists)
{
	config c = make_cfg();
	c.alloc = alloc_policy::kernel;
	world w(c);
	Model &m = w.m;
	// An order-0 page on CPU 0's pcp list, recorded by another engine.
	page *q = m.alloc_pages(0, MIGRATE_MOVABLE, NORMAL, false, false);
	const uint64_t pfn = pfn_of(m, q);
	hand_back(m, pfn);
	m.__free_pages(q, 0);
	ASSERT_EQ(where(m, pfn), unsigned(BC_ON_PCP));
	const long pcp_before = pcp_count(m);
	m.steering = true;
	m.steer = {{pfn, 0}};
	m.steer_next = 0;
	EXPECT_EQ(pfn_of(m, m.alloc_pages(0, MIGRATE_UNMOVABLE, NORMAL, false, false)), pfn);
	EXPECT_EQ(pcp_count(m), pcp_before - 1);
	m.steering = false;
	EXPECT_EQ(problems(m), "");
}

} // namespace
