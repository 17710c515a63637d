// Internal to reference/model: what more than one of the model's sources
// (memmap.cpp, free_path.cpp, alloc_path.cpp) needs and the
// public model.hpp does not offer: the intrusive list operations of the
// kernel's include/linux/list.h on `list_head`, and list_entry() for a
// page's `lru`/`buddy_list`/`pcp_list`.  Not in include/: nothing outside
// the model uses them.
//
// Model canaries: each `if constexpr (fault::at(fault::NAME))` in the
// model's sources is a fault point (buddycheck/fault.hpp), compiled in only by that
// canary's fuzz build (fuzz/CMakeLists.txt compiles all of them again with
// BUDDYCHECK_FAULT=NAME); in the model that judges candidates every one is
// a constant false.
#pragma once

#include "buddycheck/model.hpp"

#include <cstddef>

namespace bc {
namespace model_detail {

inline void list_init(list_head *h) { h->next = h->prev = h; }
inline bool list_empty(const list_head *h) { return h->next == h; }
inline void list_insert(list_head *n, list_head *prev, list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
inline void list_add_head(list_head *n, list_head *h) { list_insert(n, h, h->next); }
inline void list_add_tail(list_head *n, list_head *h) { list_insert(n, h->prev, h); }
inline void list_unlink(list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}
inline page *page_of(list_head *l) { return reinterpret_cast<page *>(reinterpret_cast<char *>(l) - offsetof(page, lru)); }

} // namespace model_detail
} // namespace bc
