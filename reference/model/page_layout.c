/*
 * struct page compiled as C: C candidates and the C++ model must agree on
 * its layout (checked by tests/page_layout_test.cpp).
 */
#include <stddef.h>

#include "buddycheck/page.h"

const size_t bc_page_size_c = sizeof(struct page);
const size_t bc_page_offsets_c[] = {
	offsetof(struct page, flags),      offsetof(struct page, lru),       offsetof(struct page, mapping),
	offsetof(struct page, index),      offsetof(struct page, private),   offsetof(struct page, _mapcount),
	offsetof(struct page, page_type),  offsetof(struct page, _refcount), offsetof(struct page, memcg_data),
	offsetof(struct page, compound_head), offsetof(struct page, bc_prepared),
};
