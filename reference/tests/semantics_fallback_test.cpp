// Semantics, section 5b: the migratetype fallback of alloc=kernel, the
// model's alloc_fallback.cpp (mm/page_alloc.c's __rmqueue(): own type, CMA,
// __rmqueue_claim() with try_to_claim_block(), __rmqueue_steal(); the
// fallbacks[] table; ALLOC_NOFRAGMENT; the extfrag tracepoint's counts).
// One test per rule.  Every layout is built the same way: the zone under
// test is allocated whole with alloc_contig_range(), the pages the picture
// marks `.` are freed again and merged (drain), the rest stay allocated
// with the mobility the picture gives them:
//   .  free        U  allocated by an unmovable request
//   M  allocated by a movable request (PageLRU for the kernel's count)
// Preset "small": pageblock_order 4 (16 pages), MAX_PAGE_ORDER 5.
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

// Zones DMA32 [0, 0x100) and Normal [0x100, 0x140): four pageblocks in Normal.
constexpr uint64_t N0 = 0x100, NEND = 0x140;
constexpr int Z_LOW = 0, Z_NORMAL = 1;

config fallback_cfg(const char *low_zone = "DMA", uint64_t normal_end = NEND)
{
	config c = make_cfg();
	c.alloc = alloc_policy::kernel;
	c.pcp_batch = 1; // one block per pcp refill: one __rmqueue() per request
	c.zones = {{low_zone, 0, N0}, {"Normal", N0, normal_end}};
	return c;
}

// Allocates [start, end) whole, then frees the `.` pfns of `picture` (one
// character per pfn from `start`) and sets the others' mobility.
void lay_out(Model &m, uint64_t start, const std::string &picture)
{
	ASSERT_TRUE(take(m, start, picture.size(), false)) << "layout at " << std::hex << start;
	for (size_t i = 0; i < picture.size(); i++) {
		const uint64_t pfn = start + i;
		if (picture[i] == '.') {
			hand_back(m, pfn);
			m.__free_pages(m.pfn_to_page(pfn), 0);
		} else {
			m.set_alloc_mobility(pfn, picture[i] == 'M' ? MIGRATE_MOVABLE : MIGRATE_UNMOVABLE);
		}
	}
	m.drain_all_pages();
}

// The whole of Normal allocated but for the pictures given per pageblock.
void lay_out_normal(Model &m, const std::vector<std::string> &blocks, unsigned mt = MIGRATE_MOVABLE)
{
	uint64_t pfn = N0;
	for (const std::string &b : blocks) {
		m.set_pageblock_mt(pfn, mt);
		lay_out(m, pfn, b);
		pfn += b.size();
	}
	if (pfn < m.zones()[Z_NORMAL].zone_end_pfn)
		lay_out(m, pfn, std::string(m.zones()[Z_NORMAL].zone_end_pfn - pfn, 'U'));
}

const std::string all_busy(16, 'U');

page *alloc(Model &m, unsigned order, unsigned mt, int zone = Z_NORMAL, unsigned flags = 0)
{
	return m.alloc_pages_flags(order, mt, zone, false, false, flags);
}

TEST(Fallback, OwnTypeFirstNoEvent)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// Boot: every pageblock movable.  A movable request is served from the
	// movable lists (__rmqueue_smallest): no fallback, no extfrag event.
	page *p = alloc(m, 4, MIGRATE_MOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(m.extfrag.events, 0u);
	EXPECT_EQ(m.pageblock_mt(pfn_of(m, p)), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(m.alloc_mobility(pfn_of(m, p)), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, FallbacksTableOrder)
{
	// mm/page_alloc.c fallbacks[]: unmovable tries reclaimable then movable,
	// movable reclaimable then unmovable, reclaimable unmovable then movable.
	EXPECT_EQ(Model::fallbacks[MIGRATE_UNMOVABLE][0], unsigned(MIGRATE_RECLAIMABLE));
	EXPECT_EQ(Model::fallbacks[MIGRATE_UNMOVABLE][1], unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(Model::fallbacks[MIGRATE_MOVABLE][0], unsigned(MIGRATE_RECLAIMABLE));
	EXPECT_EQ(Model::fallbacks[MIGRATE_MOVABLE][1], unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(Model::fallbacks[MIGRATE_RECLAIMABLE][0], unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(Model::fallbacks[MIGRATE_RECLAIMABLE][1], unsigned(MIGRATE_MOVABLE));

	world w(fallback_cfg());
	Model &m = w.m;
	// Pageblock 0x100 reclaimable, 0x110 movable, both with an order-3 block
	// free: an unmovable request falls back to the reclaimable one first.
	//   0x100 RECL  ........UUUUUUUU      0x110 MOV  ........UUUUUUUU
	m.set_pageblock_mt(N0, MIGRATE_RECLAIMABLE);
	lay_out(m, N0, "........UUUUUUUU");
	lay_out(m, N0 + 0x10, "........UUUUUUUU");
	lay_out(m, N0 + 0x20, std::string(0x20, 'U'));
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_LT(pfn_of(m, p), N0 + 0x10);
	EXPECT_EQ(m.extfrag.by_type[MIGRATE_UNMOVABLE][MIGRATE_RECLAIMABLE], 1u);
	EXPECT_EQ(m.extfrag.by_type[MIGRATE_UNMOVABLE][MIGRATE_MOVABLE], 0u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, ClaimWholePageblocksForLargeBlock)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// Boot: Normal is two free order-5 blocks (each two pageblocks), all
	// movable.  An unmovable order-0 request takes the largest block of the
	// fallback type (order 5 >= pageblock_order): change_pageblock_range()
	// makes both its pageblocks unmovable, expand() puts the rest on the
	// unmovable lists.
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	const uint64_t pfn = pfn_of(m, p);
	const uint64_t block = pfn & ~uint64_t(0x1f);
	EXPECT_EQ(m.pageblock_mt(block), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.pageblock_mt(block + 0x10), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.pageblock_mt(block ^ 0x20), unsigned(MIGRATE_MOVABLE)); // the other order-5 block
	EXPECT_EQ(m.buddy_order_at(block + 0x10), 4);
	EXPECT_EQ(list_mt(m, block + 0x10), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.extfrag.events, 1u);
	EXPECT_EQ(m.extfrag.claimed, 1u);
	EXPECT_EQ(m.extfrag.stolen, 0u);
	EXPECT_EQ(m.extfrag.fragmenting, 0u); // fallback order 5 >= pageblock_order
	EXPECT_EQ(problems(m), "");
	// The next unmovable request finds its own lists replenished.
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr);
	EXPECT_EQ(m.extfrag.events, 1u);
}

TEST(Fallback, ClaimSmallBlockWhenFreePlusAlikeIsHalf)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  ........MMMMMMMM   free 8 + alike 0 (movable pages are not
	//                               alike for an unmovable request) >= 8
	lay_out_normal(m, {"........MMMMMMMM", all_busy, all_busy, all_busy});
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(pfn_of(m, p), N0);
	// __move_freepages_block(): the block's free pages move to the
	// unmovable lists, and the pageblock becomes unmovable.
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(list_mt(m, N0 + 4), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.extfrag.claimed, 1u);
	EXPECT_EQ(m.extfrag.fragmenting, 1u); // order 3 < pageblock_order
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, ClaimCountsUnmovablePagesAsAlike)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  ....UUUUUUUUMMMM   free 4 + alike 8 (non-free, non-movable) >= 8
	lay_out_normal(m, {"....UUUUUUUUMMMM", all_busy, all_busy, all_busy});
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr);
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.extfrag.claimed, 1u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, StealWhenTooFewFreeOrAlike)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  ....MMMMMMMMMMMM   free 4 + alike 0 < 8: not claimed;
	// __rmqueue_steal() takes the page, the block stays movable and the
	// split remainder stays on the movable lists.
	lay_out_normal(m, {"....MMMMMMMMMMMM", all_busy, all_busy, all_busy});
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(pfn_of(m, p), N0);
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(list_mt(m, N0 + 2), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(m.buddy_order_at(N0 + 2), 1);
	EXPECT_EQ(m.extfrag.events, 1u);
	EXPECT_EQ(m.extfrag.stolen, 1u);
	EXPECT_EQ(m.extfrag.claimed, 0u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, BetweenUnmovableAndReclaimableNothingIsAlike)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 RECL ....UUUUUUUUUUUU   an unmovable request: the non-free pages
	// of a reclaimable block cannot be told apart, alike = 0: steal.
	lay_out_normal(m, {"....UUUUUUUUUUUU", all_busy, all_busy, all_busy}, MIGRATE_RECLAIMABLE);
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr);
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_RECLAIMABLE));
	EXPECT_EQ(m.extfrag.stolen, 1u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, MovableRequestDoesNotClaimFromSmallBlocks)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 UNMOV ..UU..UU..UU..UU   8 free in order-1 blocks.  For a
	// movable request should_try_claim_block() is false below
	// pageblock_order / 2 (2): the claim search stops, the page is stolen
	// from the smallest block and the pageblock stays unmovable.
	lay_out_normal(m, {"..UU..UU..UU..UU", all_busy, all_busy, all_busy}, MIGRATE_UNMOVABLE);
	page *p = alloc(m, 0, MIGRATE_MOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.extfrag.stolen, 1u);
	EXPECT_EQ(m.extfrag.claimed, 0u);
	EXPECT_FALSE(Model::should_try_claim_block(1, MIGRATE_MOVABLE, 4));
	EXPECT_TRUE(Model::should_try_claim_block(2, MIGRATE_MOVABLE, 4));
	EXPECT_TRUE(Model::should_try_claim_block(0, MIGRATE_UNMOVABLE, 4));
	EXPECT_TRUE(Model::should_try_claim_block(0, MIGRATE_RECLAIMABLE, 4));
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, StealTakesTheSmallestBlock)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  ....MMMMMMMMMMMM   order-2 free block
	// 0x110 MOV  M.MMMMMMMMMMMMMM   order-0 free page: stolen first
	lay_out_normal(m, {"....MMMMMMMMMMMM", "M.MMMMMMMMMMMMMM", all_busy, all_busy});
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(pfn_of(m, p), N0 + 0x11);
	EXPECT_EQ(m.extfrag.stolen, 1u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, ClaimSearchesLargestOrderFirst)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  M.MMMMMMMMMMMMMM   0x110 MOV  ........MMMMMMMM
	// The claim search starts at MAX_PAGE_ORDER: the order-3 block's
	// pageblock is claimed although an order-0 page would have done.
	lay_out_normal(m, {"M.MMMMMMMMMMMMMM", "........MMMMMMMM", all_busy, all_busy});
	page *p = alloc(m, 0, MIGRATE_UNMOVABLE);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(pfn_of(m, p), N0 + 0x10);
	EXPECT_EQ(m.pageblock_mt(N0 + 0x10), unsigned(MIGRATE_UNMOVABLE));
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, PageblockStraddlingTheZoneIsNotClaimed)
{
	// Normal ends at 0x108, inside the pageblock 0x100-0x10f:
	// prep_move_freepages_block() refuses it, so the page is stolen.
	world w(fallback_cfg("DMA", 0x108));
	Model &m = w.m;
	lay_out(m, N0, "........");
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr);
	EXPECT_EQ(m.pageblock_mt(N0), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(m.extfrag.stolen, 1u);
	EXPECT_EQ(m.extfrag.claimed, 0u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, AllocNoFragmentCondition)
{
	// alloc_flags_nofragment(): only a ZONE_NORMAL preference with a
	// populated ZONE_DMA32 below it; vm.defrag_mode: always.
	world dma32(fallback_cfg("DMA32"));
	EXPECT_EQ(dma32.m.alloc_flags_nofragment(dma32.m.zones()[Z_NORMAL]), unsigned(ALLOC_NOFRAGMENT));
	EXPECT_EQ(dma32.m.alloc_flags_nofragment(dma32.m.zones()[Z_LOW]), 0u);
	world dma(fallback_cfg("DMA"));
	EXPECT_EQ(dma.m.alloc_flags_nofragment(dma.m.zones()[Z_NORMAL]), 0u);
	dma.m.defrag_mode = true;
	EXPECT_EQ(dma.m.alloc_flags_nofragment(dma.m.zones()[Z_LOW]), unsigned(ALLOC_NOFRAGMENT));
}

TEST(Fallback, NoFragmentTakesWholeBlockInLowerZoneBeforeStealing)
{
	// Normal holds only a small movable free block; DMA32 whole free blocks.
	//   Normal 0x100 MOV  ....MMMMMMMMMMMM   (the rest busy)
	// With ALLOC_NOFRAGMENT (Normal over DMA32) the unmovable request does
	// not steal in Normal: it claims a whole block in DMA32.
	world w(fallback_cfg("DMA32"));
	Model &m = w.m;
	lay_out_normal(m, {"....MMMMMMMMMMMM", all_busy, all_busy, all_busy});
	page *p = m.alloc_pages(0, MIGRATE_UNMOVABLE, -1, false, false);
	ASSERT_NE(p, nullptr);
	EXPECT_LT(pfn_of(m, p), N0);
	EXPECT_EQ(m.extfrag.claimed, 1u);
	EXPECT_EQ(m.extfrag.fragmenting, 0u);
	EXPECT_EQ(problems(m), "");

	// Without DMA32 below (DMA), no ALLOC_NOFRAGMENT: stolen in Normal.
	world d(fallback_cfg("DMA"));
	lay_out_normal(d.m, {"....MMMMMMMMMMMM", all_busy, all_busy, all_busy});
	page *q = d.m.alloc_pages(0, MIGRATE_UNMOVABLE, -1, false, false);
	ASSERT_NE(q, nullptr);
	EXPECT_EQ(pfn_of(d.m, q), N0);
	EXPECT_EQ(d.m.extfrag.stolen, 1u);
	EXPECT_EQ(problems(d.m), "");
}

TEST(Fallback, NoFragmentRetriesWithoutItWhenEveryZoneFails)
{
	// DMA32 full too: the first pass fails in every zone, the zonelist is
	// tried again without ALLOC_NOFRAGMENT and the page is stolen.
	world w(fallback_cfg("DMA32"));
	Model &m = w.m;
	lay_out(m, 0, std::string(N0, 'U'));
	lay_out_normal(m, {"....MMMMMMMMMMMM", all_busy, all_busy, all_busy});
	page *p = m.alloc_pages(0, MIGRATE_UNMOVABLE, -1, false, false);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(pfn_of(m, p), N0);
	EXPECT_EQ(m.extfrag.stolen, 1u);
	// An explicit ALLOC_NOFRAGMENT is dropped on the retry the same way.
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE, Z_NORMAL, ALLOC_NOFRAGMENT), nullptr);
	EXPECT_EQ(m.extfrag.stolen, 2u);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, CmaOnlyForMovable)
{
	config c = fallback_cfg();
	c.cma = {{N0, N0 + 0x20}};
	world w(c);
	Model &m = w.m;
	// Normal: 0x100-0x11f CMA (free), the rest busy.
	lay_out(m, N0 + 0x20, std::string(0x20, 'U'));
	EXPECT_EQ(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr); // never from CMA
	EXPECT_EQ(m.extfrag.events, 0u);
	page *p = m.alloc_pages(0, MIGRATE_MOVABLE, Z_NORMAL, false, false);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(m.pageblock_mt(pfn_of(m, p)), unsigned(MIGRATE_CMA));
	EXPECT_EQ(m.extfrag.cma, 1u);
	EXPECT_EQ(m.extfrag.events, 0u); // not an extfrag event
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, CmaFirstWhenItHoldsOverHalfTheFreeMemory)
{
	config c = fallback_cfg();
	c.cma = {{N0, N0 + 0x20}};
	world w(c);
	Model &m = w.m;
	// CMA 0x100-0x11f free (32 pages), movable 0x120: ........UUUUUUUU (8):
	// CMA holds more than half: the movable request takes a CMA page first.
	lay_out(m, N0 + 0x20, "........" + std::string(0x18, 'U'));
	page *p = m.alloc_pages(0, MIGRATE_MOVABLE, Z_NORMAL, false, false);
	ASSERT_NE(p, nullptr);
	EXPECT_EQ(m.pageblock_mt(pfn_of(m, p)), unsigned(MIGRATE_CMA));
	// Once CMA holds half or less, the movable lists come first.
	world w2(c);
	lay_out(w2.m, N0, std::string(0x18, 'U'));
	lay_out(w2.m, N0 + 0x20, std::string(0x20, '.'));
	page *q = w2.m.alloc_pages(0, MIGRATE_MOVABLE, Z_NORMAL, false, false);
	ASSERT_NE(q, nullptr);
	EXPECT_EQ(w2.m.pageblock_mt(pfn_of(w2.m, q)), unsigned(MIGRATE_MOVABLE));
	EXPECT_EQ(problems(w2.m), "");
}

TEST(Fallback, PcpPagesAreNotCountedFree)
{
	world w(fallback_cfg());
	Model &m = w.m;
	// 0x100 MOV  ....UUUUUUUUMMMM, then 0x104-0x107 freed onto a pcp list:
	// prep_move_freepages_block() counts PageBuddy pages as free, and pcp
	// pages are not PageBuddy (nor PageLRU): free 4, movable 4.
	lay_out_normal(m, {"....UUUUUUUUMMMM", all_busy, all_busy, all_busy});
	// Put 0x104-0x107 on this CPU's pcp list (freed, not drained).
	for (uint64_t pfn = N0 + 4; pfn < N0 + 8; pfn++) {
		hand_back(m, pfn);
		m.__free_pages(m.pfn_to_page(pfn), 0);
	}
	uint64_t start;
	long nfree, nmovable;
	ASSERT_TRUE(m.prep_move_freepages_block(m.zones()[Z_NORMAL], N0, &start, &nfree, &nmovable));
	EXPECT_EQ(nfree, 4);    // only the buddy block
	EXPECT_EQ(nmovable, 4); // the M pages
	EXPECT_EQ(drained_problems(m), "");
	ASSERT_TRUE(m.prep_move_freepages_block(m.zones()[Z_NORMAL], N0, &start, &nfree, &nmovable));
	EXPECT_EQ(nfree, 8); // drained: the pcp pages merged into the buddy lists
}

TEST(Fallback, RmqueueBulkRefillsThroughFallbacks)
{
	config c = fallback_cfg();
	c.pcp_batch = 4;
	world w(c);
	Model &m = w.m;
	// 0x100 MOV  .M.M.M.MMMMMMMMM   four single free pages, nothing to claim:
	// a refill of batch 4 steals all four onto the unmovable pcp list, an
	// extfrag event each (rmqueue_bulk() keeps __rmqueue()'s mode, steal,
	// across its loop: a saving of the search, not of the outcome, since
	// a refill only takes pages away).
	lay_out_normal(m, {".M.M.M.MMMMMMMMM", all_busy, all_busy, all_busy});
	ASSERT_NE(alloc(m, 0, MIGRATE_UNMOVABLE), nullptr);
	EXPECT_EQ(m.extfrag.stolen, 4u);
	EXPECT_EQ(pcp_count(m), 3);
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, CorruptListHeadIsReportedNotFollowed)
{
	// The kernel's policy takes the list head: an entry that is not a
	// struct page of the memmap (a corrupt list, as a model canary makes)
	// is reported as the checker names it, and the allocation fails
	// instead of writing through it.
	world w(fallback_cfg());
	Model &m = w.m;
	list_head *l = &m.zones()[Z_NORMAL].area[5].free_list[MIGRATE_MOVABLE];
	list_head *const saved = l->next;
	list_head bogus{l, l};
	l->next = &bogus;
	EXPECT_EQ(alloc(m, 5, MIGRATE_MOVABLE), nullptr);
	ASSERT_FALSE(m.findings.empty());
	EXPECT_EQ(m.findings[0].invariant, "free_list_structure");
	EXPECT_NE(m.findings[0].message.find("holds a corrupt entry"), std::string::npos);
	l->next = saved;
	m.findings.clear();
	EXPECT_EQ(problems(m), "");
}

TEST(Fallback, KernelPolicyKeepsInvariantsUnderChurn)
{
	// A seeded mix of requests of every mergeable type and order, freed in
	// random order: after every step the model's invariants hold (the free
	// lists' migratetypes against the pageblocks included), and after the
	// drain everything merges back.
	config c = make_cfg();
	c.alloc = alloc_policy::kernel;
	world w(c);
	Model &m = w.m;
	std::vector<std::pair<page *, unsigned>> held;
	uint64_t x = 12345;
	auto rnd = [&] { return x = x * 6364136223846793005ull + 1442695040888963407ull, unsigned(x >> 33); };
	for (int step = 0; step < 4000; step++) {
		if (held.empty() || rnd() % 100 < 55) {
			const unsigned order = rnd() % 4, mt = rnd() % MIGRATE_PCPTYPES;
			if (page *p = m.alloc_pages(order, mt, -1, false, false))
				held.emplace_back(p, order);
		} else {
			const size_t i = rnd() % held.size();
			auto [p, order] = held[i];
			held[i] = held.back();
			held.pop_back();
			hand_back(m, pfn_of(m, p), uint64_t(1) << order);
			m.__free_pages(p, order);
		}
		if (step % 50 == 0) {
			ASSERT_EQ(problems(m), "") << "step " << step;
		}
	}
	EXPECT_GT(m.extfrag.claimed, 0u);
	EXPECT_GT(m.extfrag.stolen, 0u);
	for (auto [p, order] : held) {
		hand_back(m, pfn_of(m, p), uint64_t(1) << order);
		m.__free_pages(p, order);
	}
	EXPECT_EQ(drained_problems(m), "");
}

} // namespace
