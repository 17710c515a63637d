// Semantics, section 1: the configuration, the kernel's constants as
// runtime values (config.cpp: presets, validate()), checked against the
// kernel's rules (include/linux/mmzone.h, page-flags-layout.h); split out
// of the semantics tests along the model's files (semantics_helpers.hpp says how these tests work).
#include "semantics_helpers.hpp"

namespace {

using namespace semantics;

// ====================================================== 1. Configuration

TEST(Config, PresetTableMatchesKernel)
{
	struct row {
		const char *name;
		unsigned page_shift, max_order, pageblock_order, section_bits;
		uint64_t pages_per_section;
	};
	const row rows[] = {
		{"x86_64", 12, 10, 9, 27, 32768},
		{"arm64-4k", 12, 10, 9, 27, 32768},
		{"arm64-16k", 14, 11, 11, 27, 8192},
		{"arm64-64k", 16, 13, 13, 29, 8192},
	};
	for (const row &r : rows) {
		SCOPED_TRACE(r.name);
		auto c = preset(r.name);
		ASSERT_TRUE(c);
		EXPECT_EQ(c->page_shift, r.page_shift);
		EXPECT_EQ(c->max_page_order, r.max_order);
		EXPECT_EQ(c->pageblock_order, r.pageblock_order);
		EXPECT_EQ(c->section_size_bits, r.section_bits);
		EXPECT_EQ(c->pages_per_section(), r.pages_per_section);
		EXPECT_EQ(validate(*c), std::nullopt);
	}
	EXPECT_EQ(preset("x86_64")->thp_order, 9); // HPAGE_PMD_ORDER
	EXPECT_FALSE(preset("no-such-arch"));
}

TEST(Config, MaxPageOrderPlusPageShiftMustFitSection)
{
	config c = *preset("x86_64");
	c.section_size_bits = 21; // 12 + 10 > 21: the kernel's #error
	auto e = validate(c);
	ASSERT_TRUE(e);
	EXPECT_NE(e->find("exceeds SECTION_SIZE_BITS"), std::string::npos) << *e;
	c.section_size_bits = 22; // exactly on the rule
	default_zones(c);         // the pfn space shrank with the sections
	EXPECT_EQ(validate(c), std::nullopt);

	config s = *preset("small");
	s.section_size_bits = 16; // 12 + 5 > 16
	EXPECT_TRUE(validate(s));
}

TEST(Config, ArmSixtyFourKSitsExactlyOnTheRule)
{
	config c = *preset("arm64-64k");
	EXPECT_EQ(c.max_page_order + c.page_shift, c.section_size_bits);
	// A section is exactly one MAX_PAGE_ORDER block.
	EXPECT_EQ(c.pages_per_section(), c.max_order_nr_pages());
	EXPECT_EQ(validate(c), std::nullopt);
	c.max_page_order++;
	c.thp_order = -1;
	EXPECT_TRUE(validate(c));
}

TEST(Config, AlignedMaxOrderBlockNeverCrossesSection)
{
	for (const std::string &name : preset_names()) {
		SCOPED_TRACE(name);
		config c = *preset(name);
		ASSERT_EQ(validate(c), std::nullopt);
		const unsigned shift = c.pfn_section_shift();
		const uint64_t end = std::min<uint64_t>(c.nr_pfns(), 2 * c.pages_per_section());
		for (unsigned o = 0; o <= c.max_page_order; o++)
			for (uint64_t pfn = 0; pfn < end; pfn += uint64_t(1) << o)
				ASSERT_EQ(pfn >> shift, (pfn + (uint64_t(1) << o) - 1) >> shift)
					<< "order " << o << " pfn " << pfn;
	}
}

TEST(Config, PageblockOrderAtMostMaxPageOrder)
{
	config c = *preset("small");
	c.pageblock_order = c.max_page_order + 1;
	auto e = validate(c);
	ASSERT_TRUE(e);
	EXPECT_NE(e->find("pageblock_order"), std::string::npos) << *e;
	c.pageblock_order = c.max_page_order;
	EXPECT_EQ(validate(c), std::nullopt);

	config x = *preset("x86_64");
	x.pageblock_order = 11;
	EXPECT_TRUE(validate(x));
}

TEST(Config, ScaledDownPresetsKeepTheKernelRules)
{
	for (const char *name : {"small", "small-64k", "tiny"}) {
		SCOPED_TRACE(name);
		config c = *preset(name);
		EXPECT_EQ(validate(c), std::nullopt);
		EXPECT_GE(c.max_page_order, 3u);
		EXPECT_LE(c.max_page_order, 5u);
		EXPECT_GE(c.pages_per_section(), 16u); // tiny: 2^4, one below the spec's example range
		EXPECT_LE(c.pages_per_section(), 256u);
		EXPECT_LE(c.nr_sections, 8u);
		EXPECT_LE(c.max_page_order + c.page_shift, c.section_size_bits);
		EXPECT_LE(c.pageblock_order, c.max_page_order);
	}
	// small-64k scales arm64-64k: a section is one MAX_PAGE_ORDER block.
	EXPECT_EQ(preset("small-64k")->pages_per_section(), preset("small-64k")->max_order_nr_pages());

	// Holes are part of the scaled-down shapes.
	config h = *preset("small");
	h.holes = {3};
	default_zones(h);
	EXPECT_EQ(validate(h), std::nullopt);
	h.holes = {8};
	EXPECT_TRUE(validate(h)); // beyond the last section
	h.holes = {0, 1, 2, 3, 4, 5, 6, 7};
	EXPECT_TRUE(validate(h)); // no memory at all
}

} // namespace
