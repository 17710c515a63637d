// Semantics, sections 3 and 4: where a freed block goes and
// free_pages_prepare(), the model's free_path.cpp (mm/page_alloc.c's free
// side: __free_frozen_pages(), the pcp lists and their drain,
// split_large_buddy(), __free_one_page()'s merging, the bad-page checks);
// split out of the semantics tests along the model's files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

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
			for (uint64_t pfn :
			     other_first ? std::vector<uint64_t>{0x210, 0x200} : std::vector<uint64_t>{0x200, 0x210})
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

} // namespace
