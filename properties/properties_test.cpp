// The property suite: each property on the reference (RC_GTEST_PROP), and
// each negative control falsified by at least one property with a short
// shrunk history (TEST, rapidcheck run programmatically).  The statements
// are in pure.hpp / stateful.hpp and properties/README.md.
#include "pure.hpp"
#include "stateful.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <rapidcheck/gtest.h>

#include <cstdio>

using namespace bc;
using namespace bc::props;

// ---------------------------------------------------------------- on the reference

RC_GTEST_PROP(chunk, tiles_range_with_aligned_maximal_capped_chunks, ()) { chunk_tiling(&next_chunk<u64_word>); }

RC_GTEST_PROP(chunk, chunk_count_is_minimal, ()) { chunk_count_minimal(&next_chunk<u64_word>); }

RC_GTEST_PROP(buddy, canonical_form_whatever_the_free_order, ()) { canonical_form(reference_family()); }

RC_GTEST_PROP(stateful, reference_matches_oracle, ())
{
	static const target t{&reference_family(), "--engine reference", "stateful_history-reference", false, {}};
	stateful_history(t);
}

// ---------------------------------------------------------------- negative controls

namespace {

// The shrunk history of a falsified negative control must stay readable.
constexpr size_t max_shrunk_ops = 10;

void expect_falsified(const char *what, const outcome &o)
{
	EXPECT_TRUE(o.falsified) << what << ": not falsified after " << o.successes << " cases (" << o.description << ")";
	std::printf("%s: %s after %d passing cases\n", what, o.falsified ? "falsified" : "NOT falsified", o.successes);
}

} // namespace

namespace bc {
// Test parameters print as the variant's name (not as raw bytes).
static void PrintTo(const broken_variant &v, std::ostream *os) { *os << v.name; }
} // namespace bc

TEST(negative_controls, chunk_mutants_falsified)
{
	const auto params = params_from_config();
	expect_falsified("uncapped_chunk / chunk_tiling", check_quietly([] { chunk_tiling(&uncapped_chunk); }, params));
	expect_falsified("ffs_pfn_zero_chunk / chunk_tiling", check_quietly([] { chunk_tiling(&ffs_pfn_zero_chunk); }, params));
	expect_falsified("uncapped_chunk / chunk_count_minimal",
			 check_quietly([] { chunk_count_minimal(&uncapped_chunk); }, params));
	expect_falsified("ffs_pfn_zero_chunk / chunk_count_minimal",
			 check_quietly([] { chunk_count_minimal(&ffs_pfn_zero_chunk); }, params));
}

// Every broken variant of the reference: the stateful property falsifies it
// with a shrunk history of at most 10 operations, written as a trace that
// `buddycheck replay --engine NAME` replays to the same counterexample.
class broken : public ::testing::TestWithParam<broken_variant> {};

TEST_P(broken, stateful_history_falsified_with_short_history)
{
	const broken_variant &v = GetParam();
	const target t{v.family, std::string("--engine ") + v.name, std::string("stateful_history-") + v.name, false, {}};
	const outcome o = check_quietly([&] { stateful_history(t); }, params_from_config());
	expect_falsified(v.name, o);
	ASSERT_TRUE(o.falsified);
	EXPECT_FALSE(o.shrunk.trace.empty()) << o.description;
	EXPECT_LE(o.shrunk.ops, max_shrunk_ops) << o.shrunk.trace;
	std::printf("%s: shrunk history of %zu operations (%s), written to %s:\n%s", v.name, o.shrunk.ops,
		    o.shrunk.invariant.c_str(), o.shrunk.file.c_str(), o.shrunk.trace.c_str());
}

// The canonical-form property sees every variant whose defect changes what
// ends up free (all but frees-failed-prepare: it needs a page that fails
// preparation, which this property never makes).
TEST_P(broken, canonical_form_falsified_when_visible)
{
	const broken_variant &v = GetParam();
	const bool visible = std::string(v.name) != "frees-failed-prepare";
	const outcome o = check_quietly([&] { canonical_form(*v.family); }, params_from_config());
	if (visible)
		expect_falsified(v.name, o);
	else
		EXPECT_FALSE(o.falsified) << o.description;
}

INSTANTIATE_TEST_SUITE_P(variants, broken, ::testing::ValuesIn(broken_variants()),
			 [](const ::testing::TestParamInfo<broken_variant> &i) {
				 std::string n = i.param.name;
				 for (char &ch : n)
					 if (ch == '-')
						 ch = '_';
				 return n;
			 });

int main(int argc, char **argv)
{
	default_params(1, 1000); // before rapidcheck reads RC_PARAMS
	::testing::InitGoogleTest(&argc, argv);
	return RUN_ALL_TESTS();
}
