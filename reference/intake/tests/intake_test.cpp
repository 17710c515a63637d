// reference/intake on the fixture tree (fixtures/linux/README.md): where
// each function of the family is found, the helpers taken with it, what the
// shim's configuration skips, and the composed candidate.
#include "buddycheck/intake.hpp"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace fs = std::filesystem;
using namespace bc::intake;

namespace {

const std::vector<std::string> family = {
	"free_prepared_contig_range", "__free_contig_range_common", "__free_contig_range", "__free_contig_frozen_range",
	"free_contig_range",          "free_contig_frozen_range",   "free_pages_bulk",     "num_pages_contiguous"};

std::vector<std::string> shim_includes()
{
	std::vector<std::string> v;
	std::stringstream ss(BUDDYCHECK_SHIM_INCLUDES);
	for (std::string d; std::getline(ss, d, ':');)
		v.push_back(d);
	return v;
}

extract_options options()
{
	extract_options o;
	o.entry_points = family;
	o.include_dirs = shim_includes();
	for (const auto &n : family)
		o.extra_args.push_back("-DBC_CANDIDATE_DEFINES_" + n + "=1");
	o.shim_symbols = shim_symbols(o.include_dirs);
	return o;
}

const extracted *find(const extraction &x, const std::string &name)
{
	for (const auto &f : x.functions)
		if (f.name == name)
			return &f;
	return nullptr;
}

// The line of the first line of TEXT in FILE that starts with PREFIX.
int line_starting(const fs::path &file, const std::string &prefix)
{
	std::ifstream in(file);
	int n = 0;
	for (std::string l; std::getline(in, l);) {
		n++;
		if (l.rfind(prefix, 0) == 0)
			return n;
	}
	return 0;
}

// A copy of the fixture tree to edit.
fs::path copy_fixture(const std::string &name)
{
	const fs::path dst = fs::temp_directory_path() / ("buddycheck-intake-" + name + "-" + std::to_string(::getpid()));
	fs::remove_all(dst);
	fs::copy(fs::path(BUDDYCHECK_INTAKE_FIXTURES) / "linux", dst, fs::copy_options::recursive);
	return dst;
}

void replace_in(const fs::path &file, const std::string &from, const std::string &to)
{
	std::ifstream in(file);
	std::stringstream ss;
	ss << in.rdbuf();
	std::string s = ss.str();
	const size_t p = s.find(from);
	ASSERT_NE(p, std::string::npos) << from;
	s.replace(p, from.size(), to);
	std::ofstream(file) << s;
}

} // namespace

TEST(intake, finds_every_entry_point_where_the_tree_keeps_it)
{
	const fs::path tree = fs::path(BUDDYCHECK_INTAKE_FIXTURES) / "linux";
	const extraction x = extract_family(tree, options());
	ASSERT_TRUE(x.ok()) << x.error;
	for (const auto &n : family) {
		const extracted *f = find(x, n);
		ASSERT_NE(f, nullptr) << n << " not found";
		EXPECT_TRUE(f->entry) << n;
	}
	const extracted *chunk = find(x, "free_prepared_contig_range");
	EXPECT_EQ(chunk->file, "mm/page_alloc.c");
	EXPECT_EQ(chunk->line, line_starting(tree / "mm/page_alloc.c", "static void free_prepared_contig_range("));
	EXPECT_EQ(chunk->text.rfind("static void free_prepared_contig_range(struct page *page,", 0), 0u) << chunk->text;
	EXPECT_EQ(chunk->text.back(), '}');
	const extracted *npc = find(x, "num_pages_contiguous");
	EXPECT_EQ(npc->file, "include/linux/mm.h");
	EXPECT_EQ(npc->line, line_starting(tree / "include/linux/mm.h", "static inline size_t num_pages_contiguous("));
	// Inside #ifdef CONFIG_CONTIG_ALLOC (the shim enables it), after
	// unrelated code that does not compile against the shim.
	EXPECT_EQ(find(x, "free_contig_range")->line, line_starting(tree / "mm/page_alloc.c", "void free_contig_range("));
	// Only the family: no unrelated function, no helper the shim provides.
	EXPECT_EQ(x.functions.size(), family.size());
	EXPECT_EQ(find(x, "pcp_allowed_order"), nullptr);
	EXPECT_EQ(find(x, "vfree"), nullptr);
}

TEST(intake, the_batched_free_pages_bulk_not_the_one_the_configuration_skips)
{
	const fs::path tree = fs::path(BUDDYCHECK_INTAKE_FIXTURES) / "linux";
	const extraction x = extract_family(tree, options());
	ASSERT_TRUE(x.ok()) << x.error;
	const extracted *bulk = find(x, "free_pages_bulk");
	ASSERT_NE(bulk, nullptr);
	EXPECT_NE(bulk->text.find("num_pages_contiguous"), std::string::npos) << bulk->text;
	// The skipped per-page one is in a note, with its line.
	const int old_line = line_starting(tree / "mm/page_alloc.c", "void free_pages_bulk(");
	ASSERT_GT(old_line, 0);
	bool noted = false;
	for (const auto &n : x.notes)
		noted |= n.rfind("mm/page_alloc.c:" + std::to_string(old_line) +
					 ": free_pages_bulk is in a block the preprocessor skips",
				 0) == 0;
	EXPECT_TRUE(noted) << (x.notes.empty() ? "no notes" : x.notes.front());
}

TEST(intake, a_static_helper_of_the_family_comes_with_it)
{
	const fs::path tree = copy_fixture("helper");
	replace_in(tree / "mm/page_alloc.c", "static void free_prepared_contig_range(",
		   "static unsigned int chunk_order(unsigned long pfn, unsigned long nr_pages)\n{\n"
		   "\treturn min_t(unsigned int, pfn ? __ffs(pfn) : MAX_PAGE_ORDER, ilog2(nr_pages));\n}\n\n"
		   "static void free_prepared_contig_range(");
	replace_in(tree / "mm/page_alloc.c", "\t\torder = min_t(unsigned int, order, ilog2(nr_pages));\n",
		   "\t\torder = min_t(unsigned int, order, chunk_order(pfn, nr_pages));\n");
	const extraction x = extract_family(tree, options());
	fs::remove_all(tree);
	ASSERT_TRUE(x.ok()) << x.error;
	const extracted *h = find(x, "chunk_order");
	ASSERT_NE(h, nullptr);
	EXPECT_FALSE(h->entry);
	EXPECT_EQ(h->used_by, "free_prepared_contig_range");
	// Never a function the shim provides (free_pages_prepare is defined
	// nowhere here, min_t is a macro): only the helper is added.
	EXPECT_EQ(x.functions.size(), family.size() + 1);
}

TEST(intake, not_a_kernel_tree)
{
	const fs::path tree = fs::path(BUDDYCHECK_INTAKE_FIXTURES) / "linux" / "mm";
	const extraction x = extract_family(tree, options());
	EXPECT_FALSE(x.ok());
	EXPECT_NE(x.error.find("not a kernel source tree (no mm/page_alloc.c)"), std::string::npos) << x.error;
	EXPECT_NE(extract_family("/nonexistent/tree", options()).error.find("no such directory"), std::string::npos);
}

TEST(intake, the_composed_candidate_points_into_the_tree)
{
	const fs::path tree = fs::path(BUDDYCHECK_INTAKE_FIXTURES) / "linux";
	const extraction x = extract_family(tree, options());
	ASSERT_TRUE(x.ok()) << x.error;
	const std::string c = compose_candidate(x, "linux");
	const extracted *chunk = find(x, "free_prepared_contig_range");
	const std::string directive = "#line " + std::to_string(chunk->line) + " \"mm/page_alloc.c\"\n";
	// A prototype, then the definition, each under its #line.
	const size_t proto = c.find(directive + "static void free_prepared_contig_range(struct page *page,\n");
	ASSERT_NE(proto, std::string::npos) << c;
	EXPECT_NE(c.find(directive + chunk->text), std::string::npos);
	EXPECT_NE(c.find("#include \"internal.h\""), std::string::npos);
}
