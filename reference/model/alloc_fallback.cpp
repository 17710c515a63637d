// The model's migratetype fallback: mm/page_alloc.c's __rmqueue() with
// __rmqueue_claim(), try_to_claim_block(), __rmqueue_steal() and the
// fallbacks[] table (mainline since 6.15), ALLOC_NOFRAGMENT and the CMA
// balance of movable requests.  Its own file: the allocation side's policy
// for which free list serves a request when its own is empty, which decides
// how pageblocks of mixed mobility arise (what the fragmentation study
// measures).  Used by alloc=kernel only; canonical allocation ignores
// migratetypes so that two engines allocate the same pages.
#include "buddycheck/model.hpp"

#include "model_internal.hpp"

namespace bc {

using namespace model_detail;

// MIGRATE_PCPTYPES - 1 fallbacks per type, the kernel's order.
static_assert(MIGRATE_UNMOVABLE == 0 && MIGRATE_MOVABLE == 1 && MIGRATE_RECLAIMABLE == 2);
const unsigned Model::fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1] = {
	{MIGRATE_RECLAIMABLE, MIGRATE_MOVABLE},   // MIGRATE_UNMOVABLE
	{MIGRATE_RECLAIMABLE, MIGRATE_UNMOVABLE}, // MIGRATE_MOVABLE
	{MIGRATE_UNMOVABLE, MIGRATE_MOVABLE},     // MIGRATE_RECLAIMABLE
};

long Model::nr_free_cma(const zone &z) const
{
	long n = 0;
	for (unsigned o = 0; o <= max_order(); o++)
		n += long(z.area[o].nr_free_mt[MIGRATE_CMA]) << o;
	return n;
}

unsigned Model::alloc_flags_nofragment(const zone &preferred) const
{
	if (defrag_mode)
		return ALLOC_NOFRAGMENT;
	// CONFIG_ZONE_DMA32: only a ZONE_NORMAL preference, and only when the
	// zone below it is a populated DMA32 (the kernel's assumption on UMA).
	if (preferred.name != "Normal" || preferred.idx == 0)
		return 0;
	const zone &below = zones_[preferred.idx - 1];
	if (below.name != "DMA32" || below.zone_end_pfn <= below.zone_start_pfn)
		return 0;
	return ALLOC_NOFRAGMENT;
}

bool Model::should_try_claim_block(unsigned order, unsigned start_mt, unsigned pageblock_order)
{
	// Leaving a fraction of a pageblock behind in another type's block
	// fragments it: claim when the block is big, or when the request is
	// one that cannot be moved out again later.
	if (order >= pageblock_order)
		return true;
	if (order >= pageblock_order / 2)
		return true;
	return start_mt == MIGRATE_RECLAIMABLE || start_mt == MIGRATE_UNMOVABLE;
}

int Model::find_suitable_fallback(const free_area &area, unsigned order, unsigned mt, bool claimable) const
{
	if (claimable && !should_try_claim_block(order, mt, cfg_.pageblock_order))
		return -2;
	if (area.nr_free == 0)
		return -1;
	for (unsigned i = 0; i < MIGRATE_PCPTYPES - 1; i++) {
		const unsigned fallback_mt = fallbacks[mt][i];
		if (!list_empty(&area.free_list[fallback_mt]))
			return int(fallback_mt);
	}
	return -1;
}

void Model::change_pageblock_range(uint64_t pfn, unsigned start_order, unsigned mt)
{
	const uint64_t nr = uint64_t(1) << (start_order - cfg_.pageblock_order);
	for (uint64_t i = 0; i < nr; i++)
		set_pageblock_mt(pfn + (i << cfg_.pageblock_order), mt);
}

bool Model::prep_move_freepages_block(const zone &z, uint64_t pfn, uint64_t *start_pfn, long *num_free, long *num_movable) const
{
	const uint64_t pb = cfg_.pageblock_nr_pages();
	const uint64_t start = pfn & ~(pb - 1), end = start + pb;
	// Only zone->lock is held: a pageblock reaching into another zone is
	// left alone.
	if (!z.contains(start) || !z.contains(end - 1))
		return false;
	*start_pfn = start;
	*num_free = 0;
	*num_movable = 0;
	for (uint64_t q = start; q < end;) {
		const int o = buddy_order_at(q);
		if (o >= 0) {
			*num_free += long(1) << o;
			q += uint64_t(1) << o;
			continue;
		}
		// PageLRU(): the kernel assumes pages it could isolate are movable
		// without trying; here, pages a movable request allocated.
		if (pfn_valid(q) && (ledger_[q] & LEDGER_ALLOCATED) && alloc_mobility_[q] == MIGRATE_MOVABLE)
			(*num_movable)++;
		q++;
	}
	return true;
}

long Model::__move_freepages_block(zone &z, uint64_t start_pfn, unsigned old_mt, unsigned new_mt)
{
	const uint64_t end = start_pfn + cfg_.pageblock_nr_pages();
	long moved = 0;
	for (uint64_t q = start_pfn; q < end;) {
		const int o = buddy_order_at(q);
		if (o < 0) {
			q++;
			continue;
		}
		// move_to_free_list(): every buddy block of a pageblock sits on
		// its pageblock's list (the invariant free_list_migratetype).
		page *p = pfn_to_page(q);
		del_from_free_list(p, z, unsigned(o), old_mt);
		add_to_free_list(p, q, z, unsigned(o), new_mt, true);
		moved += long(1) << o;
		q += uint64_t(1) << o;
	}
	return moved;
}

page *Model::try_to_claim_block(zone &z, page *p, unsigned current_order, unsigned order, unsigned start_type,
				unsigned block_type, uint64_t *pfn_out)
{
	const uint64_t pfn = page_to_pfn(p);
	// Take ownership of whole pageblocks.
	if (current_order >= cfg_.pageblock_order) {
		del_from_free_list(p, z, current_order, block_type);
		z.nr_free_pages -= long(1) << current_order;
		change_pageblock_range(pfn, current_order, start_type);
		expand(z, pfn, order, current_order, start_type);
		cost.rmqueue++;
		touch(pfn, uint64_t(1) << current_order);
		*pfn_out = pfn;
		return p;
	}
	// (The kernel boosts the watermark here: not modelled.)
	uint64_t start_pfn;
	long free_pages, movable_pages;
	if (!prep_move_freepages_block(z, pfn, &start_pfn, &free_pages, &movable_pages))
		return nullptr;
	// Pages compatible with the request: for a movable one the movable
	// pages; an unmovable or reclaimable one falling back to a movable
	// block counts every non-free non-movable page as its kind; between
	// unmovable and reclaimable nothing (they cannot be told apart).
	long alike_pages;
	if (start_type == MIGRATE_MOVABLE)
		alike_pages = movable_pages;
	else if (block_type == MIGRATE_MOVABLE)
		alike_pages = long(cfg_.pageblock_nr_pages()) - (free_pages + movable_pages);
	else
		alike_pages = 0;
	if (free_pages + alike_pages >= long(1) << (cfg_.pageblock_order - 1)) {
		__move_freepages_block(z, start_pfn, block_type, start_type);
		set_pageblock_mt(start_pfn, start_type);
		return rmqueue_smallest(z, order, start_type, pfn_out);
	}
	return nullptr;
}

page *Model::__rmqueue_claim(zone &z, unsigned order, unsigned start_mt, unsigned alloc_flags, uint64_t *pfn_out)
{
	// No fallback into other pageblocks below pageblock_order while
	// ALLOC_NOFRAGMENT holds: the zonelist is tried again without it.
	unsigned min_order = order;
	if (order < cfg_.pageblock_order && (alloc_flags & ALLOC_NOFRAGMENT))
		min_order = cfg_.pageblock_order;
	// The largest free block of another type first: it roughly stands for
	// the pageblock with the most free pages.
	for (int current_order = int(max_order()); current_order >= int(min_order); current_order--) {
		free_area &area = z.area[current_order];
		const int fallback_mt = find_suitable_fallback(area, unsigned(current_order), start_mt, true);
		if (fallback_mt == -1)
			continue;
		if (fallback_mt == -2)
			break; // into orders too low to claim
		page *p = list_head_page(z, &area.free_list[fallback_mt], unsigned(current_order), unsigned(fallback_mt),
					 "free_area");
		if (!p)
			return nullptr;
		p = try_to_claim_block(z, p, unsigned(current_order), order, start_mt, unsigned(fallback_mt), pfn_out);
		if (p) {
			extfrag.events++;
			extfrag.by_type[start_mt][fallback_mt]++;
			if (pageblock_mt(*pfn_out) == start_mt)
				extfrag.claimed++;
			if (unsigned(current_order) < cfg_.pageblock_order)
				extfrag.fragmenting++;
			return p;
		}
	}
	return nullptr;
}

page *Model::__rmqueue_steal(zone &z, unsigned order, unsigned start_mt, uint64_t *pfn_out)
{
	// The smallest block of another type, without claiming its pageblock:
	// the rest of the block stays on its own type's lists.
	for (unsigned current_order = order; current_order <= max_order(); current_order++) {
		free_area &area = z.area[current_order];
		const int fallback_mt = find_suitable_fallback(area, current_order, start_mt, false);
		if (fallback_mt == -1)
			continue;
		page *p = list_head_page(z, &area.free_list[fallback_mt], current_order, unsigned(fallback_mt), "free_area");
		if (!p)
			return nullptr;
		const uint64_t pfn = page_to_pfn(p);
		del_from_free_list(p, z, current_order, unsigned(fallback_mt));
		z.nr_free_pages -= long(1) << current_order;
		expand(z, pfn, order, current_order, unsigned(fallback_mt));
		cost.rmqueue++;
		touch(pfn, uint64_t(1) << current_order);
		extfrag.events++;
		extfrag.by_type[start_mt][fallback_mt]++;
		if (pageblock_mt(pfn) == start_mt)
			extfrag.claimed++; // cannot happen: the block keeps its type
		else
			extfrag.stolen++;
		if (current_order < cfg_.pageblock_order)
			extfrag.fragmenting++;
		*pfn_out = pfn;
		return p;
	}
	return nullptr;
}

page *Model::__rmqueue(zone &z, unsigned order, unsigned mt, unsigned alloc_flags, rmqueue_mode *mode, uint64_t *pfn_out)
{
	if (mt >= MIGRATE_PCPTYPES) // no fallbacks for the special types
		return rmqueue_smallest(z, order, mt, pfn_out);
	// Balance movable requests between regular and CMA pageblocks: CMA
	// first while it holds more than half of the zone's free memory.
	if ((alloc_flags & ALLOC_CMA) && nr_free_cma(z) > z.nr_free_pages / 2) {
		if (page *p = rmqueue_smallest(z, order, MIGRATE_CMA, pfn_out)) {
			extfrag.cma++;
			return p;
		}
	}
	// The requested type's lists, then fallbacks of rising fragmentation
	// risk; *mode says where the last call found its page.
	page *p = nullptr;
	switch (*mode) {
	case rmqueue_mode::normal:
		if ((p = rmqueue_smallest(z, order, mt, pfn_out)))
			return p;
		[[fallthrough]];
	case rmqueue_mode::cma:
		if (alloc_flags & ALLOC_CMA) {
			if ((p = rmqueue_smallest(z, order, MIGRATE_CMA, pfn_out))) {
				*mode = rmqueue_mode::cma;
				extfrag.cma++;
				return p;
			}
		}
		[[fallthrough]];
	case rmqueue_mode::claim:
		if ((p = __rmqueue_claim(z, order, mt, alloc_flags, pfn_out))) {
			*mode = rmqueue_mode::normal; // the preferred lists were replenished
			return p;
		}
		[[fallthrough]];
	case rmqueue_mode::steal:
		if (!(alloc_flags & ALLOC_NOFRAGMENT)) {
			if ((p = __rmqueue_steal(z, order, mt, pfn_out))) {
				*mode = rmqueue_mode::steal;
				return p;
			}
		}
	}
	return nullptr;
}

} // namespace bc
