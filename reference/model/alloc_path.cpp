// The model's allocation side: mm/page_alloc.c's rmqueue() path
// (__rmqueue_smallest(), expand(), rmqueue_pcplist() with rmqueue_bulk(),
// prep_new_page(), split_page()) and alloc_contig_range(), with the
// pageblock isolation it uses (mm/page_isolation.c).  One of the four files
// the model was split into along the kernel's seams; here because histories
// allocate what the free path under test later frees.
#include "buddycheck/model.hpp"

#include "buddycheck/fault.hpp"
#include "buddycheck/format.hpp"
#include "model_internal.hpp"

#include <algorithm>

namespace bc {

using namespace model_detail;

// ---------------------------------------------------------------- allocation

// The first entry of a free list (or pcp list), where the kernel's policy
// takes its block: a corrupt entry (not a struct page of the memmap) is
// reported, as the kernel's list debugging would, and not followed.
page *Model::list_head_page(const zone &z, list_head *l, unsigned order, unsigned mt, const char *list)
{
	page *p = page_of(l->next);
	if (page_to_pfn(p) != no_pfn)
		return p;
	report("free_list_structure", no_pfn,
	       "zone " + z.name + " " + list + "[" + std::to_string(order) + "][" + migratetype_name(mt) +
		       "] holds a corrupt entry (at its head, where an allocation takes its block)");
	return nullptr;
}

BC_NO_COVERAGE page *Model::pick_block(zone &z, unsigned order, unsigned mt)
{
	list_head *l = &z.area[order].free_list[mt];
	if (list_empty(l))
		return nullptr;
	if (cfg_.alloc == alloc_policy::kernel)
		return list_head_page(z, l, order, mt, "free_area");
	page *best = nullptr;
	uint64_t best_pfn = no_pfn;
	for (list_head *it = l->next; it != l; it = it->next) {
		page *p = page_of(it);
		uint64_t pfn = page_to_pfn(p);
		if (pfn < best_pfn) {
			best = p;
			best_pfn = pfn;
		}
	}
	return best;
}

void Model::expand(zone &z, uint64_t pfn, unsigned low, unsigned high, unsigned mt)
{
	while (high > low) {
		high--;
		const uint64_t half = pfn + (uint64_t(1) << high);
		add_to_free_list(pfn_to_page(half), half, z, high, mt, false);
		if (mt != MIGRATE_ISOLATE)
			z.nr_free_pages += long(1) << high;
	}
}

page *Model::rmqueue_smallest(zone &z, unsigned order, unsigned mt, uint64_t *pfn_out)
{
	for (unsigned o = order; o <= max_order(); o++) {
		page *p = nullptr;
		unsigned from_mt = mt;
		if (cfg_.alloc == alloc_policy::canonical) {
			// The lowest block of any mergeable type: a function of the free set.
			uint64_t best = no_pfn;
			for (unsigned m = 0; m < MIGRATE_PCPTYPES; m++) {
				page *q = pick_block(z, o, m);
				if (q && page_to_pfn(q) < best) {
					best = page_to_pfn(q);
					p = q;
					from_mt = m;
				}
			}
		} else {
			p = pick_block(z, o, mt);
		}
		if (!p)
			continue;
		const uint64_t pfn = page_to_pfn(p);
		del_from_free_list(p, z, o, from_mt);
		if (from_mt != MIGRATE_ISOLATE)
			z.nr_free_pages -= long(1) << o;
		expand(z, pfn, order, o, from_mt);
		cost.rmqueue++;
		touch(pfn, uint64_t(1) << o);
		*pfn_out = pfn;
		return p;
	}
	return nullptr;
}

page *Model::rmqueue_pcplist(zone &z, unsigned order, unsigned mt, unsigned alloc_flags, uint64_t *pfn_out)
{
	per_cpu_pages &pcp = z.pcp[current_cpu % z.pcp.size()];
	cost.pcp_lock++;
	const unsigned pindex = order_to_pindex(mt, order, cfg_.thp_order);
	list_head *l = &pcp.lists[pindex];
	if (list_empty(l)) {
		// rmqueue_bulk(): refill with `batch` pages' worth of blocks, all
		// put on the requested type's list whatever list they came from;
		// __rmqueue() remembers across the loop where it found them.
		cost.zone_lock++;
		long want = std::max<long>(1, pcp.batch >> order);
		rmqueue_mode mode = rmqueue_mode::normal;
		for (long i = 0; i < want; i++) {
			uint64_t pfn;
			page *p = __rmqueue(z, order, mt, alloc_flags, &mode, &pfn);
			if (!p)
				break;
			list_add_tail(&p->pcp_list, l);
			p->bc_where = BC_ON_PCP;
			p->bc_cpu = uint8_t(current_cpu);
			p->private_ = order;
			pcp.count += long(1) << order;
		}
		if (list_empty(l))
			return nullptr;
	}
	page *p = list_head_page(z, l, order, mt, "pcp list");
	if (!p)
		return nullptr;
	list_unlink(&p->pcp_list);
	p->bc_where = BC_ON_NOTHING;
	p->private_ = 0;
	pcp.count -= long(1) << order;
	*pfn_out = page_to_pfn(p);
	touch(*pfn_out, uint64_t(1) << order);
	return p;
}

BC_NO_COVERAGE void Model::prep_new_page(uint64_t pfn, unsigned order, bool compound, bool frozen, unsigned mobility)
{
	const uint64_t n = uint64_t(1) << order;
	page *head = pfn_to_page(pfn);
	for (uint64_t i = 0; i < n; i++) {
		page *q = pfn_to_page(pfn + i);
		q->flags.f &= ~BC_PAGEFLAGS_MASK;
		q->_refcount = 0;
		q->_mapcount = -1;
		q->private_ = 0;
		q->mapping = nullptr;
		q->bc_prepared = 0;
		q->compound_head = (compound && i) ? reinterpret_cast<uintptr_t>(head) | 1 : 0;
		ledger_[pfn + i] = LEDGER_ALLOCATED;
		alloc_mobility_[pfn + i] = uint8_t(mobility);
	}
	if (compound && order) {
		head->flags.f |= 1UL << PG_head;
		head->bc_compound_order = uint8_t(order);
	}
	if (!frozen)
		head->_refcount = 1;
	touch(pfn, n);
}

page *Model::alloc_pages(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen)
{
	return alloc_pages_flags(order, mt, zone_idx, compound, frozen, ALLOC_AUTO);
}

page *Model::alloc_pages_flags(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen, unsigned alloc_flags)
{
	if (order > max_order())
		return nullptr;
	if (steering)
		return alloc_steered(order, mt, compound, frozen);
	page *p = alloc_by_policy(order, mt, zone_idx, compound, frozen, alloc_flags);
	if (record_allocs)
		alloc_log.push_back({p ? page_to_pfn(p) : no_pfn, order});
	return p;
}

page *Model::alloc_by_policy(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen, unsigned alloc_flags)
{
	if (cfg_.alloc == alloc_policy::canonical)
		drain_all_pages(); // allocation must not depend on what sits on pcp lists
	const int first = zone_idx >= 0 ? zone_idx : int(zones_.size()) - 1;
	if (alloc_flags & ALLOC_AUTO) {
		// gfp_to_alloc_flags_cma(): movable requests may use CMA;
		// alloc_flags_nofragment() from the preferred zone.
		alloc_flags = mt == MIGRATE_MOVABLE ? unsigned(ALLOC_CMA) : 0u;
		if (cfg_.alloc == alloc_policy::kernel && first >= 0)
			alloc_flags |= alloc_flags_nofragment(zones_[size_t(first)]);
	}
	// get_page_from_freelist() over the zonelist; with ALLOC_NOFRAGMENT
	// failing in every zone, once more without it.
	for (;;) {
		for (int zi = first; zi >= 0; zi--) {
			zone &z = zones_[size_t(zi)];
			uint64_t pfn = no_pfn;
			page *p = nullptr;
			if (cfg_.alloc == alloc_policy::kernel && pcp_allowed_order(order) && mt < MIGRATE_PCPTYPES) {
				p = rmqueue_pcplist(z, order, mt, alloc_flags, &pfn);
			} else if (cfg_.alloc == alloc_policy::kernel) {
				cost.zone_lock++; // rmqueue_buddy()
				rmqueue_mode mode = rmqueue_mode::normal;
				p = __rmqueue(z, order, mt, alloc_flags, &mode, &pfn);
			} else {
				cost.zone_lock++;
				p = rmqueue_smallest(z, order, mt, &pfn);
			}
			if (p) {
				prep_new_page(pfn, order, compound, frozen, mt);
				return p;
			}
			if (zone_idx >= 0)
				break;
		}
		// (Under vm.defrag_mode the kernel first reclaims and compacts; the
		// model does neither, so it falls back at once too.)
		if (!(alloc_flags & ALLOC_NOFRAGMENT))
			return nullptr;
		alloc_flags &= ~ALLOC_NOFRAGMENT;
	}
}

void Model::split_page(page *p, unsigned order)
{
	const uint64_t pfn = page_to_pfn(p);
	if (p->flags.f & (1UL << PG_head)) {
		report("split_page_compound", pfn, "split_page() on compound page " + hex(pfn));
		return;
	}
	for (uint64_t i = 1; i < (uint64_t(1) << order); i++)
		pfn_to_page(pfn + i)->_refcount = 1; // set_page_refcounted()
}

// [start, end) widened to whole pageblocks, clamped to the pfn space.
void Model::pageblock_span(uint64_t &start, uint64_t &end) const
{
	const uint64_t pb = cfg_.pageblock_nr_pages();
	start &= ~(pb - 1);
	end = std::min((end + pb - 1) & ~(pb - 1), nr_pfns_);
}

void Model::isolate_pageblocks(uint64_t start, uint64_t end)
{
	const uint64_t pb = cfg_.pageblock_nr_pages();
	pageblock_span(start, end);
	for (uint64_t q = start; q < end; q += pb) {
		if (pageblock_mt(q) == MIGRATE_ISOLATE)
			continue;
		pageblock_saved_mt_[q >> cfg_.pageblock_order] = uint8_t(pageblock_mt(q));
		set_pageblock_mt(q, MIGRATE_ISOLATE);
	}
	// Move the free blocks of the isolated pageblocks to the ISOLATE lists.
	for (uint64_t pfn = start; pfn < end;) {
		int o = buddy_order_at(pfn);
		if (o < 0) {
			pfn++;
			continue;
		}
		page *p = pfn_to_page(pfn);
		unsigned mt = unsigned(p->index);
		zone *z = zone_of(pfn);
		if (mt != MIGRATE_ISOLATE) {
			del_from_free_list(p, *z, unsigned(o), mt);
			z->nr_free_pages -= long(1) << o;
			add_to_free_list(p, pfn, *z, unsigned(o), MIGRATE_ISOLATE, false);
		}
		pfn += uint64_t(1) << o;
	}
}

void Model::unisolate_pageblocks(uint64_t start, uint64_t end)
{
	const uint64_t pb = cfg_.pageblock_nr_pages();
	pageblock_span(start, end);
	for (uint64_t q = start; q < end; q += pb)
		if (pageblock_mt(q) == MIGRATE_ISOLATE)
			set_pageblock_mt(q, pageblock_saved_mt_[q >> cfg_.pageblock_order]);
	// Put the free blocks back on their lists, merging with neighbours the
	// isolation kept apart.
	for (uint64_t pfn = start; pfn < end;) {
		int o = buddy_order_at(pfn);
		if (o < 0) {
			pfn++;
			continue;
		}
		page *p = pfn_to_page(pfn);
		zone *z = zone_of(pfn);
		if (p->index == MIGRATE_ISOLATE) {
			del_from_free_list(p, *z, unsigned(o), MIGRATE_ISOLATE);
			if (unsigned(o) > cfg_.pageblock_order)
				split_large_buddy(*z, pfn, unsigned(o), FPI_NONE);
			else
				__free_one_page(pfn, *z, unsigned(o),
						fault::at(fault::unisolate_cleared_migratetype) ? unsigned(p->index)
												: pageblock_mt(pfn),
						FPI_NONE);
		}
		pfn += uint64_t(1) << o;
	}
}

bool Model::alloc_contig_range(uint64_t start, uint64_t end, bool frozen, void (*free_excess)(unsigned long, unsigned long))
{
	if (start >= end || end > nr_pfns_)
		return false;
	zone *z = zone_of(start);
	if (!z || !z->contains(end - 1))
		return false;
	for (uint64_t pfn = start; pfn < end; pfn++)
		if (!pfn_valid(pfn))
			return false;
	drain_all_pages();
	// Every page must be free in a buddy block (the model does not migrate).
	uint64_t outer_start = no_pfn, outer_end = 0;
	for (uint64_t pfn = start; pfn < end;) {
		uint64_t head;
		unsigned order;
		if (!free_block_of(pfn, &head, &order) || pfn_to_page(head)->bc_where != BC_ON_BUDDY)
			return false;
		if (outer_start == no_pfn)
			outer_start = head;
		outer_end = head + (uint64_t(1) << order);
		pfn = outer_end;
	}
	isolate_pageblocks(outer_start, outer_end);
	cost.zone_lock++;
	for (uint64_t pfn = outer_start; pfn < outer_end;) {
		int o = buddy_order_at(pfn);
		page *p = pfn_to_page(pfn);
		del_from_free_list(p, *z, unsigned(o), unsigned(p->index));
		cost.rmqueue++;
		pfn += uint64_t(1) << o;
	}
	// Split to order-0 frozen pages.
	for (uint64_t pfn = outer_start; pfn < outer_end; pfn++)
		prep_new_page(pfn, 0, false, true);
	// Give the excess back through the frozen free path under test.
	if (outer_start < start || end < outer_end) {
		for (uint64_t pfn = outer_start; pfn < start; pfn++)
			ledger_clear(pfn, LEDGER_ALLOCATED);
		for (uint64_t pfn = end; pfn < outer_end; pfn++)
			ledger_clear(pfn, LEDGER_ALLOCATED);
		if (outer_start < start) {
			scope.ranges = {{outer_start, start}};
			free_excess(outer_start, start - outer_start);
		}
		if (end < outer_end) {
			scope.ranges = {{end, outer_end}};
			free_excess(end, outer_end - end);
		}
		scope.ranges.clear();
	}
	unisolate_pageblocks(outer_start, outer_end);
	if (!frozen)
		for (uint64_t pfn = start; pfn < end; pfn++)
			pfn_to_page(pfn)->_refcount = 1;
	return true;
}

} // namespace bc
