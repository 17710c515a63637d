// Negative controls: every broken variant of the batched free family must be
// caught, with the invariant its defect breaks, on a trace where the defect
// is real, while the reference passes the very same trace; and where the
// memory model or the configuration hides a defect, the variant must pass.
#include "buddycheck/free_family.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include <ostream>
#include <set>
#include <string>

namespace bc {
// Test parameters print as the memory model's name.
static void PrintTo(memmap_model m, std::ostream *os) { *os << memmap_name(m); }
} // namespace bc

namespace {

using bc::memmap_model;
using bc::no_pfn;

constexpr const char *NO_SECTION_SPLIT = "no-section-split";
constexpr const char *UNCAPPED_ORDER = "uncapped-order";
constexpr const char *FREES_FAILED_PREPARE = "frees-failed-prepare";
constexpr const char *RUN_END_OFF_BY_ONE = "run-end-off-by-one";
constexpr const char *RUNAWAY_CHUNK_LOOP = "runaway-chunk-loop"; // tests: finding_stop_test.cpp

const char *verdict_name(bc::verdict v)
{
	switch (v) {
	case bc::verdict::pass:
		return "pass";
	case bc::verdict::counterexample:
		return "counterexample";
	case bc::verdict::bad_input:
		return "bad_input";
	}
	return "?";
}

// A trace: header, one config line (preset, memmap, `extra` items), the ops.
std::string trace_text(const char *preset, memmap_model mm, const std::string &ops, const std::string &extra = "")
{
	return std::string("buddycheck-trace 1\nconfig preset=") + preset + " memmap=" + bc::memmap_name(mm) + extra +
	       "\n" + ops;
}

bc::replay_result replay_with(const std::string &text, const bc::free_family *fam)
{
	bc::trace t;
	if (auto e = bc::parse_trace(text, "negative_control.trace", t)) {
		ADD_FAILURE() << "trace does not parse: " << e->str() << "\n" << text;
		bc::replay_result r;
		r.v = bc::verdict::bad_input;
		return r;
	}
	bc::replay_options o;
	o.batched = fam;
	o.render_map = false;
	return bc::replay(t, o);
}

const bc::free_family *variant(const char *name)
{
	const bc::free_family *f = bc::family_by_name(name);
	EXPECT_NE(f, nullptr) << "no broken variant named " << name;
	return f ? f : &bc::reference_family();
}

std::string outcome(const bc::replay_result &r)
{
	std::string s = verdict_name(r.v);
	if (r.v == bc::verdict::bad_input)
		return s + ": " + r.error;
	if (r.v == bc::verdict::counterexample)
		s += " at '" + r.op_text + "' (" + r.engine + ", " + r.invariant + "): " + r.message;
	return s;
}

// The reference family passes the trace: a counterexample of a variant on it
// is the variant's defect, not the trace's.
::testing::AssertionResult reference_passes(const std::string &text)
{
	bc::replay_result r = replay_with(text, &bc::reference_family());
	if (r.v != bc::verdict::pass)
		return ::testing::AssertionFailure() << "reference: " << outcome(r) << "\n" << text;
	return ::testing::AssertionSuccess();
}

// The variant is caught by `invariant` at operation `op` (and at `pfn` when
// given), and the reference passes the same trace.
::testing::AssertionResult caught(const std::string &text, const char *name, const char *invariant, const char *op,
				  uint64_t pfn = no_pfn)
{
	bc::replay_result r = replay_with(text, variant(name));
	if (r.v != bc::verdict::counterexample || r.engine != name || r.invariant != invariant || r.op_text != op ||
	    (pfn != no_pfn && r.pfn != pfn))
		return ::testing::AssertionFailure()
		       << name << ": expected a counterexample (" << invariant << ") at '" << op << "', got "
		       << outcome(r) << "\n" << text;
	return reference_passes(text);
}

// The defect cannot show on this trace: the variant passes like the reference.
::testing::AssertionResult masked(const std::string &text, const char *name)
{
	bc::replay_result r = replay_with(text, variant(name));
	if (r.v != bc::verdict::pass)
		return ::testing::AssertionFailure() << name << ": expected pass, got " << outcome(r) << "\n" << text;
	return reference_passes(text);
}

TEST(NegativeControls, BrokenVariantsAreTheFiveNamedDefects)
{
	std::set<std::string> names;
	for (const auto &v : bc::broken_variants()) {
		names.insert(v.name);
		EXPECT_EQ(bc::family_by_name(v.name), v.family) << v.name;
		EXPECT_STREQ(v.family->name, v.name);
		EXPECT_NE(v.family, &bc::reference_family()) << v.name;
		EXPECT_GT(std::string(v.defect).size(), 0u) << v.name;
	}
	const std::set<std::string> want{NO_SECTION_SPLIT, UNCAPPED_ORDER, FREES_FAILED_PREPARE, RUN_END_OFF_BY_ONE, RUNAWAY_CHUNK_LOOP};
	EXPECT_EQ(names, want);
}

// ------------------------------------------------------------ per memory model

class NegativeControlsByMemmap : public ::testing::TestWithParam<memmap_model> {
  protected:
	std::string small(const std::string &ops, const std::string &extra = "") const
	{
		return trace_text("small", GetParam(), ops, extra);
	}
	std::string small64k(const std::string &ops) const { return trace_text("small-64k", GetParam(), ops); }
	std::string tiny(const std::string &ops) const { return trace_text("tiny", GetParam(), ops); }
	bool classic_sparse() const { return bc::classic_sparse(GetParam()); }
};

// run-end-off-by-one: the last run is flushed one page short, so its last
// page is given back by the caller but freed by nobody.

TEST_P(NegativeControlsByMemmap, RunEndOffByOneLosesLastPageOfFreeContigRange)
{
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\nfree_contig_range r\ncheck\n"), RUN_END_OFF_BY_ONE,
			   "pfn_single_state", "free_contig_range r", 0x11f));
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\n__free_contig_range r\n"), RUN_END_OFF_BY_ONE,
			   "pfn_single_state", "__free_contig_range r", 0x11f));
	EXPECT_TRUE(caught(tiny("alloc_contig r 0x10 16\nfree_contig_range r\n"), RUN_END_OFF_BY_ONE,
			   "pfn_single_state", "free_contig_range r", 0x1f));
}

TEST_P(NegativeControlsByMemmap, RunEndOffByOneLosesLastPageOfFrozenRange)
{
	const std::string alloc = "alloc_contig r 0x100 32 frozen\n";
	EXPECT_TRUE(caught(small(alloc + "__free_contig_frozen_range r\n"), RUN_END_OFF_BY_ONE, "pfn_single_state",
			   "__free_contig_frozen_range r", 0x11f));
	EXPECT_TRUE(caught(small(alloc + "free_contig_frozen_range r\n"), RUN_END_OFF_BY_ONE, "pfn_single_state",
			   "free_contig_frozen_range r", 0x11f));
	EXPECT_TRUE(caught(small(alloc + "cma_release r\n"), RUN_END_OFF_BY_ONE, "pfn_single_state", "cma_release r",
			   0x11f));
}

TEST_P(NegativeControlsByMemmap, RunEndOffByOneLosesLastPageThroughFreePagesBulkAndVfree)
{
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\nfree_pages_bulk r\n"), RUN_END_OFF_BY_ONE,
			   "pfn_single_state", "free_pages_bulk r", 0x11f));
	// vmalloc of 32 pages takes the lowest free order-5 block of Normal.
	EXPECT_TRUE(caught(small("vmalloc v 32\nexpect allocated 0xa0\nexpect allocated 0xbf\nvfree v\n"),
			   RUN_END_OFF_BY_ONE, "pfn_single_state", "vfree v", 0xbf));
}

TEST_P(NegativeControlsByMemmap, RunEndOffByOneLosesExcessOfAllocContig)
{
	// alloc_contig_range() gives [0x110, 0x120) of the order-5 block back
	// through __free_contig_frozen_range(): that run loses 0x11f too.
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 16\n"), RUN_END_OFF_BY_ONE, "pfn_single_state",
			   "alloc_contig r 0x100 16", 0x11f));
}

// frees-failed-prepare: a page whose free_pages_prepare() failed stays in
// the run; the FPI_PREPARED chunk then holds a page that was never prepared.

TEST_P(NegativeControlsByMemmap, FreesFailedPrepareFreesHwPoisonPage)
{
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\npoison 0x105\nfree_contig_range r\nexpect leaked 0x105\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "free_contig_range r", 0x105));
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32 frozen\npoison 0x11f\ncma_release r\nexpect leaked 0x11f\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "cma_release r", 0x11f));
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32 frozen\npoison 0x100\n__free_contig_frozen_range r\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "__free_contig_frozen_range r", 0x100));
	EXPECT_TRUE(caught(tiny("alloc_contig r 0x10 16\npoison 0x13\nfree_contig_range r\n"), FREES_FAILED_PREPARE,
			   "chunk_prepared", "free_contig_range r", 0x13));
}

TEST_P(NegativeControlsByMemmap, FreesFailedPrepareFreesEveryKindOfBadPage)
{
	for (const std::string &kind : bc::Model::bad_kinds()) {
		SCOPED_TRACE(kind);
		EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\nmake_bad 0x10c " + kind +
					 "\nfree_contig_range r\nexpect leaked 0x10c\n"),
				   FREES_FAILED_PREPARE, "chunk_prepared", "free_contig_range r", 0x10c));
	}
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32 frozen\nmake_bad 0x10c mapping\ncma_release r\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "cma_release r", 0x10c));
}

TEST_P(NegativeControlsByMemmap, FreesFailedPrepareThroughFreePagesBulkAndVfree)
{
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\nmake_bad 0x110 lru\nfree_pages_bulk r\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "free_pages_bulk r", 0x110));
	EXPECT_TRUE(caught(small("vmalloc v 32\nexpect allocated 0xa5\npoison 0xa5\nvfree v\nexpect leaked 0xa5\n"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "vfree v", 0xa5));
}

TEST_P(NegativeControlsByMemmap, FreesFailedPrepareInvisibleWithoutFailedPrepare)
{
	// page_checks=off: free_pages_prepare() accepts a bad page, so no page
	// fails and the variant frees exactly what the reference frees.
	EXPECT_TRUE(masked(small("alloc_contig r 0x100 32\nmake_bad 0x10c mapping\nfree_contig_range r\ncheck\n",
				 " page_checks=off"),
			   FREES_FAILED_PREPARE));
	// HWPoison fails prepare whatever the page checks say.
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 32\npoison 0x10c\nfree_contig_range r\n", " page_checks=off"),
			   FREES_FAILED_PREPARE, "chunk_prepared", "free_contig_range r", 0x10c));
}

// uncapped-order: the chunk order is not capped at MAX_PAGE_ORDER.  On
// 'small' a section (128 pages) holds four MAX_PAGE_ORDER blocks, so an
// aligned run of 64 pages or more becomes one over-large chunk.

TEST_P(NegativeControlsByMemmap, UncappedOrderCaughtOnSmall)
{
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 128\nfree_contig_range r\n"), UNCAPPED_ORDER, "chunk_order_cap",
			   "free_contig_range r", 0x100));
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 64\nfree_contig_range r\n"), UNCAPPED_ORDER, "chunk_order_cap",
			   "free_contig_range r", 0x100));
	EXPECT_TRUE(caught(small("alloc_contig r 0x100 128 frozen\ncma_release r\n"), UNCAPPED_ORDER,
			   "chunk_order_cap", "cma_release r", 0x100));
	EXPECT_TRUE(caught(small("alloc_contig r 0x180 64 frozen\n__free_contig_frozen_range r\n"), UNCAPPED_ORDER,
			   "chunk_order_cap", "__free_contig_frozen_range r", 0x180));
	// MAX_PAGE_ORDER 3 and 16-page sections on 'tiny': 16 pages make order 4.
	EXPECT_TRUE(caught(tiny("alloc_contig r 0x10 16\nfree_contig_range r\n"), UNCAPPED_ORDER, "chunk_order_cap",
			   "free_contig_range r", 0x10));
}

TEST_P(NegativeControlsByMemmap, UncappedOrderCaughtThroughVfree)
{
	// Four order-5 blocks 0xa0-0x11f: 0xa0-0xff is contiguous in every
	// memory model, and 0xc0 starts an aligned 64-page stretch of it.
	EXPECT_TRUE(caught(small("vmalloc v 128\nexpect allocated 0xa0\nexpect allocated 0x11f\nvfree v\n"),
			   UNCAPPED_ORDER, "chunk_order_cap", "vfree v", 0xc0));
}

TEST_P(NegativeControlsByMemmap, UncappedOrderOnSmall64kOnlyWhereRunsCrossSections)
{
	// small-64k: a section is exactly one MAX_PAGE_ORDER block.  Classic
	// sparse closes the run at every section, which bounds every chunk at
	// MAX_PAGE_ORDER without the cap; flat and vmemmap have
	// memdesc_section() == 0, so the run 0x40-0x7f spans two sections and
	// only the cap keeps the chunk at order 5.
	const std::string t = small64k("alloc_contig r 0x40 64\nfree_contig_range r\ncheck\n");
	if (classic_sparse())
		EXPECT_TRUE(masked(t, UNCAPPED_ORDER));
	else
		EXPECT_TRUE(caught(t, UNCAPPED_ORDER, "chunk_order_cap", "free_contig_range r", 0x40));
	// A run inside one section never shows the defect on small-64k.
	EXPECT_TRUE(masked(small64k("alloc_contig r 0x40 32\nfree_contig_range r\ncheck\n"), UNCAPPED_ORDER));
	EXPECT_TRUE(masked(small64k("alloc_contig r 0x40 32 frozen\ncma_release r\ncheck\n"), UNCAPPED_ORDER));
}

// no-section-split: the run is not closed when memdesc_section() changes.
// The chunk walk (page++) then leaves the section's memmap wherever the next
// section's memmap is another allocation: always under sparse-hotplug, at a
// hot-added section or the end of a node's buffer under sparse.  Between
// adjacent sections of one boot buffer the walk is right (the next struct
// page is the next pfn's: a valid range has no hole), and under flat and
// vmemmap memdesc_section() is 0, the reference does not split either, and
// the memmap is contiguous.

TEST_P(NegativeControlsByMemmap, NoSectionSplitCaughtWhereTheWalkLeavesAMemmapAllocation)
{
	const std::string traces[][2] = {
		{small("alloc_contig r 0x160 64\nfree_contig_range r\ncheck\n"), "free_contig_range r"},
		{small("alloc_contig r 0x17f 2\nfree_contig_range r\ncheck\n"), "free_contig_range r"},
		{small("alloc_contig r 0x160 64 frozen\ncma_release r\ncheck\n"), "cma_release r"},
		{small("alloc_contig r 0x160 64 frozen\n__free_contig_frozen_range r\ncheck\n"),
		 "__free_contig_frozen_range r"},
		{small64k("alloc_contig r 0x40 64\nfree_contig_range r\ncheck\n"), "free_contig_range r"},
		{tiny("alloc_contig r 0x18 16\nfree_contig_range r\ncheck\n"), "free_contig_range r"},
	};
	for (const auto &t : traces) {
		if (GetParam() == memmap_model::sparse_hotplug)
			EXPECT_TRUE(caught(t[0], NO_SECTION_SPLIT, "struct_page_pointer", t[1].c_str()));
		else
			EXPECT_TRUE(masked(t[0], NO_SECTION_SPLIT));
	}
	// The mixed layout: section 7 hot-added after the boot buffer of 0-6.
	const std::string mixed = small("alloc_contig r 0x360 64\nfree_contig_range r\ncheck\n", " hotplug=1");
	if (classic_sparse())
		EXPECT_TRUE(caught(mixed, NO_SECTION_SPLIT, "struct_page_pointer", "free_contig_range r"));
	else
		EXPECT_TRUE(masked(mixed, NO_SECTION_SPLIT));
}

TEST_P(NegativeControlsByMemmap, NoSectionSplitMaskedOnFreePagesBulkPath)
{
	// free_pages_bulk() cuts the array with num_pages_contiguous(), which
	// stops at a section change itself: the runs reaching
	// __free_contig_range() never span two sections.
	EXPECT_TRUE(masked(small("alloc_contig r 0x160 64\nfree_pages_bulk r\ncheck\n"), NO_SECTION_SPLIT));
	EXPECT_TRUE(masked(small("vmalloc v 128\nexpect allocated 0xff\nexpect allocated 0x100\nvfree v\ncheck\n"),
			   NO_SECTION_SPLIT));
}

TEST_P(NegativeControlsByMemmap, EveryVariantPassesWhereItsDefectDoesNotApply)
{
	// Runs of at most 8 pages inside one section, no failing page: only
	// run-end-off-by-one's defect is reachable, and every run reaches it,
	// first the excess [0x100, 0x108) that alloc_contig_range() gives back.
	const std::string t = small("alloc_contig r 0x108 8\nfree_contig_range r\ncheck\n");
	for (const char *name : {NO_SECTION_SPLIT, UNCAPPED_ORDER, FREES_FAILED_PREPARE})
		EXPECT_TRUE(masked(t, name));
	EXPECT_TRUE(caught(t, RUN_END_OFF_BY_ONE, "pfn_single_state", "alloc_contig r 0x108 8", 0x107));
}

INSTANTIATE_TEST_SUITE_P(Memmap, NegativeControlsByMemmap, ::testing::ValuesIn(bc::all_memmaps), [](const auto &p) {
	std::string n = bc::memmap_name(p.param);
	std::replace(n.begin(), n.end(), '-', '_'); // a test name
	return n;
});

} // namespace
