// The first finding stops the operation: Model::report() throws
// finding_stop when the model's stop_at_first_finding is set (the lockstep
// sets it for both engines), and the replay reports the recorded finding as
// the counterexample at that operation.  The negative control is the broken
// variant runaway-chunk-loop, whose chunk loop never ends by itself: these
// tests finish only because of the stop (ctest gives this program a timeout
// of a few seconds, reference/tests/CMakeLists.txt).
#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"
#include "buddycheck/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <ostream>
#include <string>

namespace bc {
static void PrintTo(memmap_model m, std::ostream *os) { *os << memmap_name(m); }
} // namespace bc

namespace {

using bc::memmap_model;

constexpr const char *RUNAWAY = "runaway-chunk-loop";

bc::trace parse(const std::string &text)
{
	bc::trace t;
	if (auto e = bc::parse_trace(text, "finding_stop.trace", t))
		ADD_FAILURE() << "trace does not parse: " << e->str() << "\n" << text;
	return t;
}

bc::replay_result replay_on(const bc::trace &t, const bc::free_family *fam)
{
	bc::replay_options o;
	o.batched = fam;
	o.render_map = true; // the map of the stopped model is drawn as for any counterexample
	return bc::replay(t, o);
}

const bc::free_family &runaway()
{
	const bc::free_family *f = bc::family_by_name(RUNAWAY);
	EXPECT_NE(f, nullptr);
	return f ? *f : bc::reference_family();
}

class FindingStop : public ::testing::TestWithParam<memmap_model> {
  protected:
	// preset small: MAX_PAGE_ORDER 5, 128-page sections; [0x100, 0x180) is
	// one section, inside zone Normal, under every memory model.
	std::string small(const std::string &ops) const
	{
		return std::string("buddycheck-trace 1\nconfig preset=small memmap=") + bc::memmap_name(GetParam()) + "\n" + ops;
	}

	// The runaway variant is stopped at `line` ('op') by `invariant` at
	// `pfn`, the first pfn past the range it was given, and the chunk's
	// order is in the message; the reference passes the same trace.
	void expect_stopped(const std::string &text, int line, const std::string &op, const char *invariant, uint64_t pfn,
			    const std::string &chunk) const
	{
		const bc::trace t = parse(text);
		const bc::replay_result r = replay_on(t, &runaway());
		EXPECT_EQ(r.v, bc::verdict::counterexample) << bc::format_result(t, r);
		EXPECT_EQ(r.engine, RUNAWAY);
		EXPECT_EQ(r.invariant, invariant) << r.message;
		EXPECT_EQ(r.pfn, pfn) << r.message;
		EXPECT_EQ(r.line, line);
		EXPECT_EQ(r.op_text, op);
		EXPECT_NE(r.message.find(chunk), std::string::npos) << "'" << chunk << "' not in: " << r.message;
		EXPECT_NE(r.pfn_map.find('^'), std::string::npos) << r.pfn_map;
		const std::string report = bc::format_result(t, r);
		EXPECT_NE(report.find("COUNTEREXAMPLE finding_stop.trace:" + std::to_string(line) + ": " + op), std::string::npos)
			<< report;
		const bc::replay_result ref = replay_on(t, &bc::reference_family());
		EXPECT_EQ(ref.v, bc::verdict::pass) << bc::format_result(t, ref);
	}
};

TEST_P(FindingStop, RunawayChunkLoopStoppedAtFirstPfnPastFreeContigRange)
{
	// The run [0x100, 0x120) is one order-5 chunk; the loop goes on at 0x120
	// (order 5: its alignment, capped at MAX_PAGE_ORDER).
	expect_stopped(small("alloc_contig r 0x100 32\nfree_contig_range r\ncheck\n"), 4, "free_contig_range r", "chunk_in_range",
		       0x120, "chunk 0x120-0x13f (order 5) is outside the pages being freed (pfns 0x100-0x11f)");
}

TEST_P(FindingStop, RunawayChunkLoopStoppedOnTheFrozenPathAndVfree)
{
	expect_stopped(small("alloc_contig r 0x100 32 frozen\ncma_release r\n"), 4, "cma_release r", "chunk_in_range", 0x120,
		       "chunk 0x120-0x13f (order 5)");
	// 32 pages of vmalloc: the lowest free order-5 block of Normal, 0xa0.
	expect_stopped(small("vmalloc v 32\nexpect allocated 0xa0\nvfree v\n"), 5, "vfree v", "chunk_in_range", 0xc0,
		       "chunk 0xc0-0xdf (order 5)");
}

TEST_P(FindingStop, RunawayChunkLoopStoppedAtTheEndOfASection)
{
	// [0x160, 0x180) ends at a section boundary: the loop's next chunk is
	// 0x180, order 5.  Under sparse-hotplug its struct page pointer
	// (page += 32) is past the end of the section's memmap array, not a
	// struct page at all; under flat, vmemmap and the boot layout (section
	// 3 follows section 2 in the node's buffer) it is pfn 0x180's.
	const std::string text = small("alloc_contig r 0x160 32\nfree_contig_range r\n");
	if (GetParam() != memmap_model::sparse_hotplug) {
		expect_stopped(text, 4, "free_contig_range r", "chunk_in_range", 0x180, "chunk 0x180-0x19f (order 5)");
		return;
	}
	const bc::trace t = parse(text);
	const bc::replay_result r = replay_on(t, &runaway());
	EXPECT_EQ(r.v, bc::verdict::counterexample) << bc::format_result(t, r);
	EXPECT_EQ(r.invariant, "struct_page_pointer");
	EXPECT_EQ(r.pfn, bc::no_pfn);
	EXPECT_EQ(r.line, 4);
	EXPECT_NE(r.message.find("__free_frozen_pages(order 5) got a pointer that is not a struct page"), std::string::npos)
		<< r.message;
	EXPECT_EQ(replay_on(t, &bc::reference_family()).v, bc::verdict::pass);
}

TEST_P(FindingStop, RunawayChunkLoopStoppedInTheExcessOfAllocContig)
{
	// alloc_contig_range() of [0x108, 0x110) gives back [0x100, 0x108) and
	// [0x110, 0x120): the first excess run's loop goes on at 0x108.
	expect_stopped(small("alloc_contig r 0x108 8\n"), 3, "alloc_contig r 0x108 8", "chunk_in_range", 0x108,
		       "chunk 0x108-0x10f (order 3) is outside the pages being freed (pfns 0x100-0x107)");
}

TEST_P(FindingStop, LockstepReusedAfterAStop)
{
	// Fuzzers and the stateful property reset their locksteps between
	// histories: after a stopped history, a reset lockstep runs the next
	// one as on a fresh model.  The second history frees nothing through
	// the family (an allocation whose excess is none, pages freed by the
	// model's own __free_pages()), so the runaway variant passes it, full
	// checks, canonical form and differential check included.
	const bc::trace bad = parse(small("alloc_contig r 0x100 32\nfree_contig_range r\n"));
	const bc::trace good = parse(small("alloc_contig r 0x100 32\nfree_page 0x105\nfree_page 0x11f\ncheck\n"));
	bc::replay_options o;
	o.batched = &runaway();
	o.render_map = false;
	bc::lockstep ls(bad.cfg, o);
	for (int round = 0; round < 3; round++) {
		SCOPED_TRACE(round);
		ls.reset(bad.cfg);
		for (const bc::op &op : bad.ops)
			if (!ls.step(op))
				break;
		ASSERT_TRUE(ls.ended());
		EXPECT_EQ(ls.result().v, bc::verdict::counterexample);
		EXPECT_EQ(ls.result().invariant, "chunk_in_range");
		EXPECT_EQ(ls.result().pfn, 0x120u);
		EXPECT_EQ(ls.batched_model().findings.size(), 1u); // stopped at the first

		ls.reset(good.cfg);
		for (const bc::op &op : good.ops)
			if (!ls.step(op))
				break;
		const bc::replay_result &r = ls.finish();
		EXPECT_EQ(r.v, bc::verdict::pass) << r.invariant << ": " << r.message;
		EXPECT_TRUE(ls.batched_model().findings.empty());
	}
}

INSTANTIATE_TEST_SUITE_P(Memmap, FindingStop, ::testing::ValuesIn(bc::all_memmaps), [](const auto &p) {
	std::string n = bc::memmap_name(p.param);
	std::replace(n.begin(), n.end(), '-', '_'); // a test name
	return n;
});

// The flag matters: off (the default, and the old behaviour) the model
// records a finding, skips the call and returns, so the code under test runs
// on; on, the first finding throws and nothing after it runs.
TEST(FindingStopFlag, OffRecordsAndContinuesOnStops)
{
	bc::config c = *bc::preset("small");
	bc::Model m(c);
	bc::set_current(&m);
	// Free pages at boot are not prepared: FPI_PREPARED chunks of them
	// break chunk_prepared, a finite case (two calls).
	auto free_unprepared = [&m] {
		int returned = 0;
		m.__free_frozen_pages(m.pfn_to_page(0x100), 1, bc::FPI_PREPARED);
		returned++;
		m.__free_frozen_pages(m.pfn_to_page(0x104), 0, bc::FPI_PREPARED);
		returned++;
		return returned;
	};
	EXPECT_FALSE(m.stop_at_first_finding); // off by default
	EXPECT_EQ(free_unprepared(), 2);
	ASSERT_EQ(m.findings.size(), 2u);
	EXPECT_EQ(m.findings[0].invariant, "chunk_prepared");
	EXPECT_EQ(m.findings[0].pfn, 0x100u);
	EXPECT_EQ(m.findings[1].pfn, 0x104u);

	m.reset(c);
	m.stop_at_first_finding = true;
	EXPECT_TRUE(m.findings.empty());
	try {
		free_unprepared();
		ADD_FAILURE() << "no finding_stop thrown";
	} catch (const bc::finding_stop &s) {
		EXPECT_NE(std::string(s.what()).find("chunk_prepared: chunk 0x100 order 1 contains pfn 0x100"), std::string::npos)
			<< s.what();
	}
	ASSERT_EQ(m.findings.size(), 1u); // the second call never ran
	EXPECT_EQ(m.findings[0].pfn, 0x100u);
	// reset() keeps the flag: it belongs to the runner, not to the state.
	m.reset(c);
	EXPECT_TRUE(m.stop_at_first_finding);
	bc::set_current(nullptr);
}

} // namespace
