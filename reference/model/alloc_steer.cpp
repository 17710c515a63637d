// The model's steered allocation: what lets the lockstep run a history under
// the kernel's allocation policy (alloc=kernel) on two engines.  The oracle
// allocates by the policy and its choices are recorded; the batched engine
// takes exactly those blocks.  Its own room: it is not kernel behaviour but
// the harness's way of keeping two engines' histories the same while their
// pcp lists legitimately differ (the point of a batched free).
#include "buddycheck/model.hpp"

#include "model_internal.hpp"

namespace bc {

using namespace model_detail;

bool Model::take_free_range(uint64_t pfn, unsigned order)
{
	const uint64_t end = pfn + (uint64_t(1) << order);
	uint64_t head;
	unsigned o;
	for (uint64_t q = pfn; q < end; q = head + (uint64_t(1) << o))
		if (!pfn_valid(q) || !free_block_of(q, &head, &o))
			return false;
	for (uint64_t q = pfn; q < end;) {
		free_block_of(q, &head, &o);
		page *p = pfn_to_page(head);
		zone &z = *zone_of(head);
		if (p->bc_where == BC_ON_BUDDY) {
			const unsigned mt = unsigned(p->index);
			del_from_free_list(p, z, o, mt);
			if (mt != MIGRATE_ISOLATE)
				z.nr_free_pages -= long(1) << o;
		} else { // on a pcp list
			per_cpu_pages &pcp = z.pcp[p->bc_cpu % z.pcp.size()];
			list_unlink(&p->pcp_list);
			p->bc_where = BC_ON_NOTHING;
			p->private_ = 0;
			pcp.count -= long(1) << o;
		}
		// The block's pages outside the range go back in halves, as
		// expand() does around a block at either end.
		uint64_t h = head;
		for (unsigned k = o; k > order;) {
			k--;
			const uint64_t half = h + (uint64_t(1) << k);
			const uint64_t piece = pfn >= half ? h : half;
			if (pfn >= half)
				h = half;
			const unsigned mt = pageblock_mt(piece);
			add_to_free_list(pfn_to_page(piece), piece, z, k, mt, false);
			if (mt != MIGRATE_ISOLATE)
				z.nr_free_pages += long(1) << k;
		}
		q = head + (uint64_t(1) << o);
	}
	cost.rmqueue++;
	touch(pfn, end - pfn);
	return true;
}

page *Model::alloc_steered(unsigned order, unsigned mt, bool compound, bool frozen)
{
	if (steer_next >= steer.size() || steer[steer_next].order != order) {
		report("steered_allocation", no_pfn,
		       "the batched engine asked for an order-" + std::to_string(order) +
			       " allocation the oracle did not make at this point (the histories diverged)");
		return nullptr;
	}
	const alloc_choice c = steer[steer_next++];
	if (c.pfn == no_pfn || !take_free_range(c.pfn, order))
		return nullptr;
	prep_new_page(c.pfn, order, compound, frozen, mt);
	return pfn_to_page(c.pfn);
}

} // namespace bc
