// Semantics, section 2: the free family under test (free_family.cpp:
// free_prepared_contig_range(), __free_contig_range_common(), the wrappers,
// free_pages_bulk(), num_pages_contiguous(), the per-page oracle), the
// series' batched free of contiguous ranges in mm/page_alloc.c; split out
// of the semantics tests along the model's files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

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
		{0x120, false, f.free_contig_range_inner},       // __free_contig_range
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

} // namespace
