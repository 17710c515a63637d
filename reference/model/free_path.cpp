// The model's free path, the free side of mm/page_alloc.c: the findings it
// reports, the free lists (add_to_free_list(), del_from_free_list(), the pcp
// list index), free_pages_prepare() and its bad-page reasons,
// __free_frozen_pages() and the pcp lists (free_pcppages_bulk(),
// drain_pages()), free_one_page(), split_large_buddy() and
// __free_one_page()'s merging, and __free_pages().  One of the four files
// the model was split into along the kernel's seams; here because it is what
// the free family under test calls into, and where most fault points are.
#include "buddycheck/model.hpp"

#include "buddycheck/fault.hpp"
#include "buddycheck/format.hpp"
#include "model_internal.hpp"

#include <algorithm>

namespace bc {

using namespace model_detail;

// ---------------------------------------------------------------- findings

void Model::report(const char *invariant, uint64_t pfn, std::string message)
{
	findings.push_back({invariant, std::move(message), pfn,
			    call.file ? std::string(call.file) + ":" + std::to_string(call.line) : std::string()});
	if (stop_at_first_finding)
		throw finding_stop(findings.back());
}

void Model::warn(uint64_t pfn, std::string message) { warnings.push_back({"WARN_ON", std::move(message), pfn, {}}); }

// ---------------------------------------------------------------- free lists

unsigned Model::order_to_pindex(unsigned mt, unsigned order, int thp_order)
{
	if (thp_order >= 0 && order == unsigned(thp_order) && order > PAGE_ALLOC_COSTLY_ORDER)
		return NR_LOWORDER_PCP_LISTS;
	return order * MIGRATE_PCPTYPES + mt;
}

unsigned Model::pindex_to_order(unsigned pindex, int thp_order)
{
	if (pindex == NR_LOWORDER_PCP_LISTS)
		return unsigned(thp_order);
	return pindex / MIGRATE_PCPTYPES;
}

void Model::add_to_free_list(page *p, uint64_t pfn, zone &z, unsigned order, unsigned mt, bool tail)
{
	free_area &fa = z.area[order];
	if (tail)
		list_add_tail(&p->buddy_list, &fa.free_list[mt]);
	else
		list_add_head(&p->buddy_list, &fa.free_list[mt]);
	if constexpr (!fault::at(fault::nr_free_not_incremented))
		fa.nr_free++;
	fa.nr_free_mt[mt]++;
	p->page_type = BC_PGTY_BUDDY;
	p->private_ = order;
	p->index = mt; // which list: checked against the pageblock by the invariants
	p->bc_where = BC_ON_BUDDY;
	touch(pfn, uint64_t(1) << order);
}

void Model::del_from_free_list(page *p, zone &z, unsigned order, unsigned mt)
{
	free_area &fa = z.area[order];
	list_unlink(&p->buddy_list);
	fa.nr_free--;
	if constexpr (!fault::at(fault::nr_free_mt_not_decremented))
		fa.nr_free_mt[mt]--;
	if constexpr (fault::at(fault::del_keeps_buddy_mark))
		return;
	p->page_type = BC_PGTY_NONE;
	p->private_ = 0;
	p->index = 0;
	p->bc_where = BC_ON_NOTHING;
}

BC_NO_COVERAGE int Model::buddy_order_at(uint64_t pfn) const
{
	if (!pfn_valid(pfn))
		return -1;
	const page *p = pfn_to_page(pfn);
	return p->bc_where == BC_ON_BUDDY ? int(p->private_) : -1;
}

BC_NO_COVERAGE bool Model::free_block_of(uint64_t pfn, uint64_t *head, unsigned *order, unsigned *covers) const
{
	unsigned n = 0;
	bool found = false;
	for (unsigned o = 0; o <= max_order(); o++) {
		uint64_t h = pfn & ~((uint64_t(1) << o) - 1);
		if (!pfn_valid(h))
			continue;
		const page *p = pfn_to_page(h);
		if (p->bc_where != BC_ON_NOTHING && p->private_ == o) {
			n++;
			if (!found) {
				found = true;
				if (head)
					*head = h;
				if (order)
					*order = o;
			}
		}
	}
	if (covers)
		*covers = n;
	return found;
}

// ---------------------------------------------------------------- free path

BC_NO_COVERAGE std::string Model::bad_reason(const page *p) const
{
	if (p->_mapcount != -1)
		return "nonzero mapcount";
	if (p->mapping)
		return "non-NULL mapping";
	if (p->_refcount != 0)
		return "nonzero _refcount";
	if (p->memcg_data)
		return "page still charged to cgroup";
	if (p->flags.f & BC_PAGE_FLAGS_CHECK_AT_FREE)
		return "PAGE_FLAGS_CHECK_AT_FREE flag set";
	return "";
}

bool Model::free_pages_prepare(page *p, unsigned order)
{
	cost.prepare++;
	const uint64_t pfn = page_to_pfn(p);
	if (pfn == no_pfn) {
		report("struct_page_pointer", no_pfn,
		       "free_pages_prepare() got a pointer that is not a struct page of the memmap");
		return false;
	}
	// VM_BUG_ON_PAGE(compound && compound_order(page) != order): a compound
	// page freed at another order (free_contig_frozen_range()'s WARN about
	// nr_pages comes just before this).
	if (order && (p->flags.f & (1UL << PG_head)) && p->bc_compound_order != order) {
		report("kernel_bug", pfn,
		       "VM_BUG_ON_PAGE(compound && compound_order(page) != order): free_pages_prepare(pfn " + hex(pfn) +
			       ", order " + std::to_string(order) + ") of an order-" + std::to_string(p->bc_compound_order) +
			       " compound page");
		return false;
	}
	const uint64_t n = uint64_t(1) << order;
	auto leak = [&]() {
		cost.prepare_failed++;
		for (uint64_t i = 0; i < n; i++) {
			ledger_set(pfn + i, LEDGER_LEAKED);
			pfn_to_page(pfn + i)->bc_prepared = 0;
		}
		touch(pfn, n);
		return false;
	};
	// Do not let hwpoison pages hit pcplists/buddy.
	if constexpr (!fault::at(fault::hwpoison_freed))
		if ((p->flags.f & (1UL << PG_hwpoison)) && order == 0)
			return leak();
	bool bad = false;
	for (uint64_t i = 0; i < n; i++) {
		page *q = pfn_to_page(pfn + i);
		page probe = *q;
		if (i > 0) { // tail bookkeeping is cleared by free_tail_page_prepare()
			probe.compound_head = 0;
		}
		probe.flags.f &= ~(1UL << PG_head);
		if (cfg_.page_checks && is_bad(&probe))
			bad = true;
		// A page that is already free (PageBuddy, or on a pcp list): a
		// double free, refused whether or not page checks are on.
		if (q->page_type != BC_PGTY_NONE || q->bc_where != BC_ON_NOTHING) {
			report("double_free", pfn + i, "free_pages_prepare() of pfn " + hex(pfn + i) + ", which is already free");
			return false;
		}
	}
	if (bad)
		return leak();
	for (uint64_t i = 0; i < n; i++) {
		page *q = pfn_to_page(pfn + i);
		// PAGE_FLAGS_CHECK_AT_PREP: every page flag but HWPoison goes.
		q->flags.f &= ~(BC_PAGEFLAGS_MASK & ~(1UL << PG_hwpoison));
		q->private_ = 0;
		q->mapping = nullptr;
		q->memcg_data = 0;
		q->_mapcount = -1;
		q->compound_head = 0;
		q->bc_compound_order = 0;
		q->bc_prepared = 1;
	}
	return true;
}

bool Model::pcp_allowed_order(unsigned order) const
{
	if (order <= PAGE_ALLOC_COSTLY_ORDER)
		return true;
	return cfg_.thp_order >= 0 && order == unsigned(cfg_.thp_order);
}

// The pages being freed, for a chunk_in_range report: "pfns A-B", or the
// first and last of several ranges.
static std::string describe_scope(const free_call_scope &s)
{
	const auto &r = s.ranges;
	if (r.size() == 1)
		return "pfns " + hex(r.front().first) + "-" + hex(r.front().second - 1);
	return std::to_string(r.size()) + " ranges, " + hex(r.front().first) + "-" + hex(r.front().second - 1) + " to " +
	       hex(r.back().first) + "-" + hex(r.back().second - 1);
}

void Model::__free_frozen_pages(page *p, unsigned order, unsigned fpi)
{
	cost.free_frozen_pages_by_order[std::min<size_t>(order, cost.free_frozen_pages_by_order.size() - 1)]++;
	free_log.push_back(order);
	const uint64_t pfn = page_to_pfn(p);
	if (pfn == no_pfn) {
		report("struct_page_pointer", no_pfn,
		       "__free_frozen_pages(order " + std::to_string(order) +
			       ") got a pointer that is not a struct page of the memmap "
			       "(a page++ walk across a section boundary under classic SPARSEMEM?)");
		return;
	}
	if (order > max_order()) {
		report("chunk_order_cap", pfn,
		       "__free_frozen_pages(pfn " + hex(pfn) + ", order " + std::to_string(order) + ") exceeds MAX_PAGE_ORDER " +
			       std::to_string(max_order()));
		return;
	}
	const uint64_t n = uint64_t(1) << order;
	if (pfn & (n - 1)) {
		report("chunk_aligned", pfn,
		       "block at pfn " + hex(pfn) + " of order " + std::to_string(order) + " is not naturally aligned");
		return;
	}
	if (section_of(pfn) != section_of(pfn + n - 1)) {
		report("chunk_in_section", pfn,
		       "chunk " + hex(pfn) + "-" + hex(pfn + n - 1) + " (order " + std::to_string(order) +
			       ") crosses a section boundary");
		return;
	}
	zone *z = zone_of(pfn);
	if (!z || !z->contains(pfn + n - 1)) {
		report("chunk_in_zone", pfn,
		       "chunk " + hex(pfn) + "-" + hex(pfn + n - 1) + " (order " + std::to_string(order) +
			       ") is not inside one zone");
		return;
	}
	if (fpi & FPI_PREPARED) {
		if (!scope.contains(pfn, pfn + n)) {
			report("chunk_in_range", pfn,
			       "chunk " + hex(pfn) + "-" + hex(pfn + n - 1) + " (order " + std::to_string(order) +
				       ") is outside the pages being freed (" + describe_scope(scope) + ")");
			return;
		}
		for (uint64_t i = 0; i < n; i++) {
			if (!pfn_to_page(pfn + i)->bc_prepared) {
				report("chunk_prepared", pfn + i,
				       "chunk " + hex(pfn) + " order " + std::to_string(order) + " contains pfn " + hex(pfn + i) +
					       ", which was not successfully prepared (or is already free)");
				return;
			}
		}
	} else if (!free_pages_prepare(p, order)) {
		return;
	}
	for (uint64_t i = 0; i < n; i++)
		pfn_to_page(pfn + i)->bc_prepared = 0;

	unsigned mt = pageblock_mt(pfn);
	if (!pcp_allowed_order(order)) {
		free_one_page(*z, pfn, order, fpi);
		return;
	}
	if (mt >= MIGRATE_PCPTYPES) {
		if (mt == MIGRATE_ISOLATE) { // isolated pageblocks bypass pcp
			free_one_page(*z, pfn, order, fpi);
			return;
		}
		mt = MIGRATE_MOVABLE;
	}
	if constexpr (fault::at(fault::pcp_of_first_zone))
		z = &zones_.front();
	per_cpu_pages &pcp = z->pcp[current_cpu % z->pcp.size()];
	cost.pcp_lock++;
	const unsigned pindex = order_to_pindex(mt, order, cfg_.thp_order);
	list_add_head(&p->pcp_list, &pcp.lists[pindex]);
	p->bc_where = BC_ON_PCP;
	p->bc_cpu = uint8_t(current_cpu);
	p->private_ = order;
	pcp.count += fault::at(fault::pcp_count_per_block) ? 1 : long(n);
	cost.pcp_insert++;
	touch(pfn, n);
	if (pcp.count >= pcp.high) {
		long to_free = std::max(pcp.batch, pcp.count - pcp.high + pcp.batch);
		free_pcppages_bulk(*z, pcp, to_free, pindex);
	}
}

void Model::free_pcppages_bulk(zone &z, per_cpu_pages &pcp, long count, unsigned pindex)
{
	cost.zone_lock++;
	cost.pcp_drain++;
	count = std::min(count, pcp.count);
	while (count > 0) {
		do {
			if (++pindex > NR_PCP_LISTS - 1)
				pindex = 0;
		} while (list_empty(&pcp.lists[pindex]));
		const unsigned order = pindex_to_order(pindex, cfg_.thp_order);
		const long nr = long(1) << order;
		do {
			page *p = page_of(pcp.lists[pindex].prev); // from the list tail
			list_unlink(&p->pcp_list);
			p->bc_where = BC_ON_NOTHING;
			p->private_ = 0;
			count -= nr;
			pcp.count -= nr;
			cost.pcp_drained_blocks++;
			const uint64_t pfn = page_to_pfn(p);
			__free_one_page(pfn, z, order, pageblock_mt(pfn), FPI_NONE);
		} while (count > 0 && !list_empty(&pcp.lists[pindex]));
	}
}

void Model::drain_pages(unsigned cpu)
{
	for (zone &z : zones_) {
		per_cpu_pages &pcp = z.pcp[cpu % z.pcp.size()];
		if (pcp.count)
			free_pcppages_bulk(z, pcp, pcp.count, NR_PCP_LISTS - 1);
		if constexpr (fault::at(fault::drain_first_zone_only))
			return;
	}
}

void Model::drain_all_pages()
{
	for (unsigned cpu = 0; cpu < cfg_.nr_cpus; cpu++)
		drain_pages(cpu);
}

void Model::free_one_page(zone &z, uint64_t pfn, unsigned order, unsigned fpi)
{
	cost.zone_lock++;
	split_large_buddy(z, pfn, order, fpi);
}

void Model::split_large_buddy(zone &z, uint64_t pfn, unsigned order, unsigned fpi)
{
	const uint64_t end = pfn + (uint64_t(1) << order);
	if (order > cfg_.pageblock_order)
		order = cfg_.pageblock_order;
	do {
		__free_one_page(pfn, z, order, pageblock_mt(pfn), fpi);
		pfn += uint64_t(1) << order;
	} while (pfn != end);
}

void Model::__free_one_page(uint64_t pfn, zone &z, unsigned order, unsigned mt, unsigned fpi)
{
	cost.free_one_page++;
	if (mt != MIGRATE_ISOLATE)
		z.nr_free_pages += long(1) << order;
	const unsigned merge_limit =
		fault::at(fault::merge_past_max_order) ? std::min(max_order(), NR_ORDERS_MAX - 2) + 1 : max_order();
	while (order < merge_limit) {
		if constexpr (fault::at(fault::skipped_merge))
			if (order + 1 == max_order())
				break;
		const uint64_t buddy_pfn = pfn ^ (uint64_t(1) << order);
		bool buddy_outside = !z.contains(buddy_pfn);
		if constexpr (fault::at(fault::zone_check_below_only))
			buddy_outside = buddy_outside && buddy_pfn < pfn;
		if (!pfn_valid(buddy_pfn) || buddy_outside)
			break;
		page *buddy = pfn_to_page(buddy_pfn);
		if (buddy->bc_where != BC_ON_BUDDY || buddy->private_ != order)
			break;
		const unsigned buddy_mt = unsigned(buddy->index);
		if (order >= cfg_.pageblock_order && mt != buddy_mt &&
		    (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(buddy_mt)))
			break;
		if constexpr (fault::at(fault::merge_keeps_buddy_mark)) {
			list_unlink(&buddy->buddy_list);
			z.area[order].nr_free--;
			z.area[order].nr_free_mt[buddy_mt]--;
		} else {
			del_from_free_list(buddy, z, order, buddy_mt);
		}
		if (buddy_mt != mt) {
			// The buddy's pageblocks take our migratetype, so that a
			// later expand() puts the pieces on the right lists.
			for (uint64_t q = buddy_pfn; q < buddy_pfn + (uint64_t(1) << order); q += cfg_.pageblock_nr_pages())
				set_pageblock_mt(q, mt);
		}
		cost.merges++;
		pfn &= buddy_pfn;
		order++;
	}
	add_to_free_list(pfn_to_page(pfn), pfn, z, order, mt, fpi & FPI_TO_TAIL);
}

bool Model::put_page_testzero(page *p)
{
	if (p->_refcount <= 0) {
		uint64_t pfn = page_to_pfn(p);
		report("refcount_underflow", pfn, "put_page_testzero() on pfn " + hex(pfn) + " whose refcount is already 0");
		return false;
	}
	return --p->_refcount == 0;
}

void Model::__free_pages(page *p, unsigned order)
{
	if constexpr (fault::at(fault::free_page_counts_nr_free_pages))
		if (order == 0)
			zone_of(page_to_pfn(p))->nr_free_pages++;
	if constexpr (fault::at(fault::free_page_uncharges_vmalloc))
		if (order == 0)
			nr_vmalloc--;
	const bool head = p->flags.f & (1UL << PG_head);
	if (put_page_testzero(p)) {
		__free_frozen_pages(p, order, FPI_NONE);
	} else if (!head) {
		// Someone else holds the first page: free the rest in halves.
		const uint64_t pfn = page_to_pfn(p);
		while (order-- > 0)
			__free_frozen_pages(pfn_to_page(pfn + (uint64_t(1) << order)), order, FPI_NONE);
	}
}

} // namespace bc
