// The mutant generator on a small fixture (fixtures/family.c): the exact
// mutants of each operator, none inside the header macros of
// fixtures/macros.h nor in a function the family does not reach, the same
// order every time, stable keys, bad input, and the sample.
#include "buddycheck/files.hpp"
#include "buddycheck/mutate.hpp"

#include <gtest/gtest.h>
#include <set>
#include <tuple>

namespace {

const std::string fixtures = BUDDYCHECK_MUTATE_FIXTURES;

bc::mutate::generate_result generate(const std::string &name, const std::string *text = nullptr)
{
	std::string t;
	EXPECT_FALSE(bc::read_file(fixtures + "/" + name, t).has_value());
	bc::mutate::generate_options o;
	o.entry_points = {"free_pages_bulk"};
	return bc::mutate::generate_mutants(fixtures + "/" + name, text ? *text : t, o);
}

// id, line, the mutated line: what family.c must give, in this order.
const std::vector<std::tuple<std::string, int, std::string>> expected = {
	{"SDL-1", 5, "static unsigned long helper(unsigned long a, unsigned long b) { ; }"},
	{"AOR-1", 5, "static unsigned long helper(unsigned long a, unsigned long b) { return a % b; }"},
	{"AOR-2", 5, "static unsigned long helper(unsigned long a, unsigned long b) { return a * b; }"},
	{"AOR-3", 5, "static unsigned long helper(unsigned long a, unsigned long b) { return a - b; }"},
	{"AOR-4", 5, "static unsigned long helper(unsigned long a, unsigned long b) { return a / b; }"},
	{"CRP-1", 12, "unsigned long i, s = -1;"},
	{"CRP-2", 12, "unsigned long i, s = 1;"},
	{"SDL-2", 14, "for (; i < n; i++) {"},
	{"CRP-3", 14, "for (i = -1; i < n; i++) {"},
	{"CRP-4", 14, "for (i = 1; i < n; i++) {"},
	{"NEG-1", 14, "for (i = 0; !(i < n); i++) {"},
	{"ROR-1", 14, "for (i = 0; i != n; i++) {"},
	{"ROR-2", 14, "for (i = 0; i <= n; i++) {"},
	{"ROR-3", 14, "for (i = 0; i == n; i++) {"},
	{"ROR-4", 14, "for (i = 0; i > n; i++) {"},
	{"ROR-5", 14, "for (i = 0; i >= n; i++) {"},
	{"SDL-3", 14, "for (i = 0; i < n; ) {"},
	{"AOR-5", 14, "for (i = 0; i < n; i--) {"},
	{"NEG-2", 15, "if (!(arr[i] == 0 && n > 1))"},
	{"ROR-6", 15, "if (arr[i] != 0 && n > 1)"},
	{"ROR-7", 15, "if (arr[i] < 0 && n > 1)"},
	{"ROR-8", 15, "if (arr[i] <= 0 && n > 1)"},
	{"ROR-9", 15, "if (arr[i] > 0 && n > 1)"},
	{"ROR-10", 15, "if (arr[i] >= 0 && n > 1)"},
	{"CRP-5", 15, "if (arr[i] == -1 && n > 1)"},
	{"CRP-6", 15, "if (arr[i] == 1 && n > 1)"},
	{"LCR-1", 15, "if (arr[i] == 0 || n > 1)"},
	{"ROR-11", 15, "if (arr[i] == 0 && n != 1)"},
	{"ROR-12", 15, "if (arr[i] == 0 && n < 1)"},
	{"ROR-13", 15, "if (arr[i] == 0 && n <= 1)"},
	{"ROR-14", 15, "if (arr[i] == 0 && n == 1)"},
	{"ROR-15", 15, "if (arr[i] == 0 && n >= 1)"},
	{"CRP-7", 15, "if (arr[i] == 0 && n > 0)"},
	{"CRP-8", 15, "if (arr[i] == 0 && n > 2)"},
	{"SDL-4", 16, ";"},
	{"SDL-5", 17, ";"},
	{"AOR-6", 17, "s %= HDR_SHIFT(arr[i]);"},
	{"AOR-7", 17, "s *= HDR_SHIFT(arr[i]);"},
	{"AOR-8", 17, "s -= HDR_SHIFT(arr[i]);"},
	{"AOR-9", 17, "s /= HDR_SHIFT(arr[i]);"},
	{"SDL-6", 18, ";"},
	{"MMS-1", 18, "s = max_t(unsigned long, s, helper(i, n));"},
	{"ARS-1", 18, "s = min_t(unsigned long, s, helper(n, i));"},
	{"NEG-3", 19, "if (!(HDR_LESS(s, n)))"},
	{"SDL-7", 20, ";"},
	{"SDL-8", 22, ";"},
	{"NEG-4", 22, "record(!(s) ? s : n);"},
};

TEST(MutateGenerator, ExactMutantsOfEachOperator)
{
	const auto r = generate("family.c");
	ASSERT_TRUE(r.ok()) << r.error;
	EXPECT_TRUE(r.diagnostics.empty());
	EXPECT_EQ(r.functions, (std::vector<std::string>{"helper", "free_pages_bulk"}));
	ASSERT_EQ(r.mutants.size(), expected.size());
	for (size_t i = 0; i < expected.size(); i++) {
		const auto &m = r.mutants[i];
		EXPECT_EQ(std::tuple(m.id, m.line, m.mutated), expected[i]) << "mutant " << i;
	}
	std::set<std::string> ops;
	for (const auto &m : r.mutants)
		ops.insert(m.op);
	EXPECT_EQ(ops.size(), bc::mutate::operator_names().size()) << "every operator has a site in the fixture";
}

TEST(MutateGenerator, NothingInsideHeaderMacrosNorOutsideTheFamily)
{
	const auto r = generate("family.c");
	for (const auto &m : r.mutants) {
		EXPECT_NE(m.function, "unused_helper");
		EXPECT_NE(m.line, 8) << m.id;
		// HDR_SHIFT's << | 2 1 and HDR_LESS's < are the header's; min_t's < too.
		if (m.line == 17) {
			EXPECT_TRUE(m.op == "SDL" || m.op == "AOR") << m.id << " " << m.mutated;
		}
		if (m.line == 17 && m.op == "AOR") {
			EXPECT_NE(m.mutated.find("HDR_SHIFT(arr[i])"), std::string::npos) << m.mutated;
		}
		if (m.line == 18) {
			EXPECT_TRUE(m.op == "SDL" || m.op == "MMS" || m.op == "ARS") << m.id << " " << m.mutated;
		}
		if (m.line == 19) {
			EXPECT_EQ(m.op, "NEG") << m.id << " " << m.mutated;
		}
	}
}

TEST(MutateGenerator, DeterministicWithStableKeys)
{
	const auto a = generate("family.c"), b = generate("family.c");
	ASSERT_EQ(a.mutants.size(), b.mutants.size());
	std::set<std::string> keys;
	for (size_t i = 0; i < a.mutants.size(); i++) {
		EXPECT_EQ(a.mutants[i].key, b.mutants[i].key);
		EXPECT_EQ(a.mutants[i].offset, b.mutants[i].offset);
		EXPECT_TRUE(keys.insert(a.mutants[i].key).second) << "duplicate key " << a.mutants[i].key;
		EXPECT_EQ(a.mutants[i].key.find(std::to_string(a.mutants[i].offset) + " "), std::string::npos);
	}
	// The key does not depend on where the function lies: a blank line
	// added above it changes offsets and lines, not keys.
	std::string text;
	ASSERT_FALSE(bc::read_file(fixtures + "/family.c", text).has_value());
	text = "\n\n" + text;
	const auto c = generate("family.c", &text);
	ASSERT_EQ(c.mutants.size(), a.mutants.size());
	for (size_t i = 0; i < a.mutants.size(); i++) {
		EXPECT_EQ(c.mutants[i].key, a.mutants[i].key);
		EXPECT_EQ(c.mutants[i].line, a.mutants[i].line + 2);
	}
	const auto &sdl = a.mutants[0];
	EXPECT_EQ(sdl.key, "helper SDL `static unsigned long helper(unsigned long a, unsigned long b) { return a + b; }` -> "
			   "`static unsigned long helper(unsigned long a, unsigned long b) { ; }`");
}

TEST(MutateGenerator, ApplyEditsTheFileAtTheSite)
{
	const auto r = generate("family.c");
	std::string text;
	ASSERT_FALSE(bc::read_file(fixtures + "/family.c", text).has_value());
	for (const auto &m : r.mutants) {
		const std::string t = bc::mutate::apply(text, m);
		EXPECT_NE(t, text) << m.id;
		EXPECT_EQ(t.substr(0, m.offset), text.substr(0, m.offset)) << m.id;
	}
}

TEST(MutateGenerator, BadInputAndBrokenFiles)
{
	const std::string none = "int main(void) { return 1 < 2; }\n";
	const auto r = generate("family.c", &none);
	EXPECT_FALSE(r.ok());
	EXPECT_NE(r.error.find("defines none of the family's functions"), std::string::npos) << r.error;
	// A file that does not fully compile: its AST is used anyway.
	std::string text;
	ASSERT_FALSE(bc::read_file(fixtures + "/family.c", text).has_value());
	text += "void free_contig_range(unsigned long pfn) { pfn = no_such_variable; if (pfn > 1) pfn--; }\n";
	bc::mutate::generate_options o;
	o.entry_points = {"free_pages_bulk", "free_contig_range"};
	const auto b = bc::mutate::generate_mutants(fixtures + "/family.c", text, o);
	ASSERT_TRUE(b.ok()) << b.error;
	EXPECT_FALSE(b.diagnostics.empty());
	EXPECT_GT(b.mutants.size(), expected.size());
}

TEST(MutateGenerator, SampleIsSpreadAndDeterministic)
{
	const auto r = generate("family.c");
	const auto s = bc::mutate::sample(r.mutants, 8, 1);
	EXPECT_EQ(s, bc::mutate::sample(r.mutants, 8, 1));
	ASSERT_EQ(s.size(), 8u);
	std::set<std::string> ops;
	for (size_t i : s)
		ops.insert(r.mutants[i].op);
	EXPECT_EQ(ops.size(), 8u) << "one of each operator";
	EXPECT_TRUE(std::is_sorted(s.begin(), s.end()));
	EXPECT_EQ(bc::mutate::sample(r.mutants, 1000, 1).size(), r.mutants.size());
}

TEST(MutateGenerator, EquivalentsFile)
{
	const auto e = bc::mutate::load_equivalents(BUDDYCHECK_MUTATE_EQUIVALENTS);
	EXPECT_TRUE(e.error.empty()) << e.error;
	for (const auto &x : e.entries)
		EXPECT_GT(x.reason.size(), 20u) << x.key << ": the reason it cannot matter";
	EXPECT_FALSE(bc::mutate::load_equivalents(fixtures + "/macros.h").error.empty()) << "a malformed list";
}

} // namespace
