// The fragmentation study's own checks (reference/frag): the kernel's
// formulas on hand-computed cases, the pageblock and compaction counts on
// drawn layouts, and the sanity checks that would expose a broken study:
// an all-movable workload stays unfragmented, one pinned page per pageblock
// kills every order-9 request while memory stays free, and every policy
// drains back to the boot state (with a leaky free as the negative control).
#include "buddycheck/frag.hpp"

#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace {

using namespace bc;
using namespace bc::frag;

TEST(FragMetrics, KernelFormulasOnHandCounts)
{
	// 10 free pages: one order-3 block and two order-0 pages (3 blocks).
	contig_page_info info;
	info.free_pages = 10;
	info.free_blocks_total = 3;
	info.free_blocks_suitable = 1; // for order 3
	// (10 - 1 * 8) * 1000 / 10 = 200: a fifth of the free memory is unusable.
	EXPECT_EQ(unusable_free_index(3, info), 200);
	EXPECT_EQ(fragmentation_index(3, info), -1000); // it would succeed
	// Order 4: nothing suitable; 1000 - (1000 + 10 * 1000 / 16) / 3 = 1000 - 1625 / 3 = 459.
	info.free_blocks_suitable = 0;
	EXPECT_EQ(unusable_free_index(4, info), 1000);
	EXPECT_EQ(fragmentation_index(4, info), 459);
	// No free memory: all unusable, and a failure for lack of memory (0).
	EXPECT_EQ(unusable_free_index(3, contig_page_info{}), 1000);
	EXPECT_EQ(fragmentation_index(3, contig_page_info{}), 0);
}

TEST(FragMetrics, BootZoneIsUnfragmented)
{
	const config c = study_config(128);
	Model m(c);
	const contig_page_info info = fill_contig_page_info(m, 1, 9);
	EXPECT_EQ(info.free_pages, c.zones[1].end_pfn - c.zones[1].start_pfn);
	EXPECT_EQ(unusable_free_index(9, info), 0);
	EXPECT_EQ(fragmentation_index(9, info), -1000);
	const pageblock_stats pb = scan_pageblocks(m, 1);
	EXPECT_EQ(pb.mixed, 0u);
	EXPECT_EQ(pb.by_type[MIGRATE_MOVABLE], info.free_pages / 512);
}

// Preset small: pageblock 16 pages; Normal [0x83, 0x400).  Pageblock 0x100:
//   0x100 UM..............   an unmovable and a movable page: mixed, polluted
//   0x110 M...............   movable only (order-4 block cost 1)
//   0x120 ................   free (cost 0)
TEST(FragMetrics, PageblockAndCompactionCounts)
{
	config c = *preset("small");
	c.alloc = alloc_policy::kernel;
	Model m(c);
	set_current(&m);
	auto take = [&](uint64_t pfn, unsigned mt) {
		ASSERT_TRUE(m.alloc_contig_range(pfn, pfn + 1, false, [](unsigned long p, unsigned long n) {
			reference_family().free_contig_frozen_range_inner(p, n);
		}));
		m.set_alloc_mobility(pfn, mt);
	};
	take(0x100, MIGRATE_UNMOVABLE);
	take(0x101, MIGRATE_MOVABLE);
	take(0x110, MIGRATE_MOVABLE);
	const pageblock_stats pb = scan_pageblocks(m, 1);
	EXPECT_EQ(pb.mixed, 1u);
	EXPECT_EQ(pb.polluted, 1u); // movable pageblock 0x100 holds an unmovable page
	const compaction_proxy o4 = compaction_cost(m, 1, 4, 1);
	EXPECT_EQ(o4.min_cost, 0);                   // free order-4 blocks exist
	const uint64_t blocks = (0x400 - 0x90) / 16; // aligned order-4 blocks inside Normal
	EXPECT_EQ(o4.compactable, blocks - 1);       // all but the one with the unmovable page
	EXPECT_EQ(o4.at_budget, blocks - 1);         // budget 1 buys the cost-1 block too
	const compaction_proxy o4b = compaction_cost(m, 1, 4, 0);
	EXPECT_EQ(o4b.at_budget, blocks - 2);
	set_current(nullptr);
}

workload quick_workload(const scenario &s, uint64_t ops)
{
	workload w = s.w;
	w.ops = ops;
	return w;
}

std::vector<double> steady(const run_result &r, const char *name)
{
	std::vector<double> v{find_metric(name)->value(steady_window(r))};
	return v;
}

TEST(FragSanity, AllMovableStaysUnfragmented)
{
	const scenario &s = *find_scenario("all-movable");
	const config c = study_config(256);
	const run_result r = run(s.name, quick_workload(s, 400000), s.policies[0], 1, run_options{}, &c);
	ASSERT_EQ(r.failure, "");
	EXPECT_LT(steady(r, "unusable_index_9")[0], 0.15);
	EXPECT_LT(steady(r, "fragmentation_index_9")[0], 0.0); // order 9 would succeed (-1) nearly always
	EXPECT_GE(steady(r, "thp_success_pct")[0], 99.0);
	EXPECT_EQ(steady(r, "mixed_pageblocks")[0], 0.0);
}

TEST(FragSanity, OnePinnedPagePerPageblockKillsOrder9)
{
	const scenario &s = *find_scenario("pinned");
	const config c = study_config(256);
	const run_result r = run(s.name, quick_workload(s, 400000), s.policies[0], 1, run_options{}, &c);
	ASSERT_EQ(r.failure, "");
	EXPECT_EQ(r.final_state.thp_ok, 0u);
	EXPECT_GT(r.final_state.thp_fail, 0u);
	EXPECT_GE(steady(r, "free_pct")[0], 35.0); // while memory stays free (the target: 50% of all zones)
	EXPECT_EQ(steady(r, "unusable_index_9")[0], 1.0);
	EXPECT_EQ(steady(r, "compact9_makeable")[0], 0.0); // no migration helps either
}

TEST(FragSanity, EveryPolicyDrainsToTheBootState)
{
	const scenario &s = *find_scenario("debate");
	const config c = study_config(128);
	Model boot(c);
	std::vector<std::vector<unsigned long>> boot_info;
	for (const zone &z : boot.zones()) {
		boot_info.emplace_back();
		for (unsigned o = 0; o <= boot.max_order(); o++)
			boot_info.back().push_back(z.area[o].nr_free);
	}
	for (const policy &p : all_policies()) {
		const run_result r = run(s.name, quick_workload(s, 150000), p, 3, run_options{}, &c);
		EXPECT_EQ(r.failure, "") << p.label();
		EXPECT_EQ(r.drained_buddyinfo, boot_info) << p.label();
		EXPECT_GT(r.checks, 0u) << p.label();
	}
}

TEST(FragSanity, NegativeControlLeakyFreeIsCaught)
{
	// The batched free with its last run one page short: the drain check
	// (the invariants, then the free set) must fail the run.
	const free_family *leaky = family_by_name("run-end-off-by-one");
	ASSERT_NE(leaky, nullptr);
	const scenario &s = *find_scenario("debate");
	const config c = study_config(128);
	run_options o;
	o.family_override = leaky;
	o.check_every = 0; // only the end's check
	const run_result r = run(s.name, quick_workload(s, 150000), policy{vmalloc_alloc::high, vmalloc_free::bulk}, 3, o, &c);
	EXPECT_NE(r.failure, "");
}

TEST(FragStudy, SameSeedSameSeries)
{
	const scenario &s = *find_scenario("debate");
	const config c = study_config(128);
	const run_result a = run(s.name, quick_workload(s, 100000), all_policies()[1], 7, run_options{}, &c);
	const run_result b = run(s.name, quick_workload(s, 100000), all_policies()[1], 7, run_options{}, &c);
	ASSERT_EQ(a.series.size(), b.series.size());
	EXPECT_EQ(series_csv({a}), series_csv({b}));
	const run_result other = run(s.name, quick_workload(s, 100000), all_policies()[1], 8, run_options{}, &c);
	EXPECT_NE(series_csv({a}), series_csv({other}));
}

TEST(FragStudy, SummaryCsvReadsBack)
{
	const scenario &s = *find_scenario("debate");
	const config c = study_config(128);
	std::vector<run_result> runs;
	for (uint64_t seed = 1; seed <= 2; seed++)
		runs.push_back(run(s.name, quick_workload(s, 60000), all_policies()[3], seed, run_options{}, &c));
	const std::string csv = summary_csv(summarize(runs));
	std::vector<summary_row> back;
	std::string error;
	ASSERT_TRUE(read_summary_csv(csv, back, &error)) << error;
	EXPECT_EQ(summary_csv(back), csv);
	EXPECT_EQ(back.size(), metrics().size());
	EXPECT_FALSE(read_summary_csv("scenario,x\n", back, &error));
	EXPECT_FALSE(read_summary_csv(csv + "debate,0.2,0.2,high+bulk,m,1,2\n", back, &error)); // 7 fields
	EXPECT_NE(error.find("8 fields"), std::string::npos);
}

TEST(FragStudy, MeanAndInterval)
{
	const interval i = mean_ci({1, 2, 3, 4, 5});
	EXPECT_DOUBLE_EQ(i.mean, 3);
	// sd = sqrt(2.5), t(4) = 2.776: 2.776 * 1.5811 / sqrt(5) = 1.963.
	EXPECT_NEAR(i.half, 1.963, 1e-3);
	EXPECT_EQ(mean_ci({7}).half, 0);
}

} // namespace
