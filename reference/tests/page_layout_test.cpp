// struct page has one layout, whether C (candidates) or C++ (the model) sees it.
#include "buddycheck/page.h"

#include <cstddef>
#include <gtest/gtest.h>

extern "C" const size_t bc_page_size_c;
extern "C" const size_t bc_page_offsets_c[];

TEST(PageLayout, CAndCxxAgreeOnStructPage)
{
	EXPECT_EQ(bc_page_size_c, sizeof(page));
	const size_t cxx[] = {
		offsetof(page, flags),      offsetof(page, lru),       offsetof(page, mapping),
		offsetof(page, index),      offsetof(page, private_),  offsetof(page, _mapcount),
		offsetof(page, page_type),  offsetof(page, _refcount), offsetof(page, memcg_data),
		offsetof(page, compound_head), offsetof(page, bc_prepared),
	};
	for (size_t i = 0; i < sizeof cxx / sizeof cxx[0]; i++)
		EXPECT_EQ(bc_page_offsets_c[i], cxx[i]) << "field " << i;
}

TEST(PageLayout, SectionBitsDoNotOverlapPageFlags)
{
	EXPECT_LT(unsigned(__NR_PAGEFLAGS), unsigned(BC_SECTIONS_PGSHIFT));
	EXPECT_EQ(BC_PAGE_FLAGS_CHECK_AT_FREE & ~BC_PAGEFLAGS_MASK, 0UL);
}
