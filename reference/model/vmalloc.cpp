// The model's vmalloc and the pages a history breaks on purpose: the page
// array of mm/vmalloc.c (vm_area_alloc_pages()'s high-order-first
// allocation with its order fallback, NR_VMALLOC, and __vfree() handing the
// array to free_pages_bulk()), and the hwpoison flag (mm/memory-failure.c)
// and bad pages that free_pages_prepare() checks (mm/page_alloc.c's
// PAGE_FLAGS_CHECK_AT_FREE).  One of the four files the model was split
// into along the kernel's seams; here because both are set-up the free
// path under test is then driven through.
#include "buddycheck/model.hpp"

#include "buddycheck/chunk.hpp"
#include "buddycheck/free_family.hpp"

#include <algorithm>

namespace bc {

// ---------------------------------------------------------------- vmalloc

// One block for vmalloc: from node NID's zones (highest first) when NID >= 0,
// then from any zone.
page *Model::vmalloc_block(unsigned order, int nid)
{
	if (nid >= 0)
		for (int zi = int(zones_.size()) - 1; zi >= 0; zi--)
			if (cfg_.node_of_pfn(zones_[size_t(zi)].zone_start_pfn) == unsigned(nid))
				if (page *p = alloc_pages(order, MIGRATE_UNMOVABLE, zi, false, false))
					return p;
	return alloc_pages(order, MIGRATE_UNMOVABLE, -1, false, false);
}

bool Model::vmalloc_pages(uint64_t nr_pages, bool huge, bool interleave, std::vector<page *> &pages)
{
	unsigned chunk = 0;
	pages.clear();
	unsigned cap = max_order();
	if (huge)
		cap = cfg_.thp_order >= 0 ? unsigned(cfg_.thp_order) : cfg_.pageblock_order;
	uint64_t remaining = nr_pages;
	while (remaining) {
		unsigned order = std::min<unsigned>(cap, unsigned(u64_word::ilog2(remaining)));
		page *p = nullptr;
		for (;;) {
			p = vmalloc_block(order, interleave && cfg_.nr_nodes() > 1 ? int(chunk % cfg_.nr_nodes()) : -1);
			if (p || order == 0)
				break;
			order--; // lower the order on failure, down to order-0
		}
		if (!p) {
			// Out of memory: give back what was allocated (__vfree path).
			vfree_pages(pages.data(), pages.size());
			pages.clear();
			return false;
		}
		split_page(p, order);
		const uint64_t pfn = page_to_pfn(p);
		for (uint64_t i = 0; i < (uint64_t(1) << order); i++)
			pages.push_back(pfn_to_page(pfn + i));
		nr_vmalloc += long(1) << order;
		remaining -= uint64_t(1) << order;
		chunk++;
	}
	return true;
}

void Model::vfree_pages(page **pages, uint64_t nr_pages)
{
	for (uint64_t i = 0; i < nr_pages; i++)
		nr_vmalloc--; // mod_lruvec_page_state(page, NR_VMALLOC, -1)
	for (uint64_t i = 0; i < nr_pages; i++)
		if (pages[i]->_refcount == 1)
			ledger_clear(page_to_pfn(pages[i]), LEDGER_ALLOCATED);
	if (nr_pages)
		active_family().free_pages_bulk(pages, nr_pages);
}

// ---------------------------------------------------------------- poison, bad

void Model::set_hwpoison(uint64_t pfn)
{
	pfn_to_page(pfn)->flags.f |= 1UL << PG_hwpoison;
	touch(pfn, 1);
}

// Bad-page kinds: a field free_pages_prepare() checks, or a flag of
// PAGE_FLAGS_CHECK_AT_FREE (flag -1: a field, set in make_bad()).
static const struct {
	const char *kind;
	int flag;
} bad_page_kinds[] = {
	{"mapping", -1},
	{"mapcount", -1},
	{"memcg", -1},
	{"lru", PG_lru},
	{"locked", PG_locked},
	{"private", PG_private},
	{"private_2", PG_private_2},
	{"writeback", PG_writeback},
	{"reserved", PG_reserved},
	{"active", PG_active},
	{"unevictable", PG_unevictable},
	{"mlocked", PG_mlocked},
};

const std::vector<std::string> &Model::bad_kinds()
{
	static const std::vector<std::string> k = [] {
		std::vector<std::string> v;
		for (const auto &b : bad_page_kinds)
			v.push_back(b.kind);
		return v;
	}();
	return k;
}

bool Model::make_bad(uint64_t pfn, const std::string &kind)
{
	static int dummy_mapping;
	page *p = pfn_to_page(pfn);
	for (const auto &b : bad_page_kinds) {
		if (kind != b.kind)
			continue;
		touch(pfn, 1);
		if (b.flag >= 0)
			p->flags.f |= 1UL << b.flag;
		else if (kind == "mapping")
			p->mapping = &dummy_mapping;
		else if (kind == "mapcount")
			p->_mapcount = 0;
		else
			p->memcg_data = 0x1000;
		return true;
	}
	return false;
}

} // namespace bc
