// The operations of a trace on one engine: their preconditions (bad input
// when one does not hold) and the call into the model or the free family.
#include "engine.hpp"

#include "buddycheck/splitmix.hpp"

namespace bc::detail {

static void excess_free(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

void engine::require_granular(uint64_t pfn, bool frozen)
{
	require_allocated(pfn);
	handle *h = owner_of(pfn);
	if (h && !h->granular())
		throw bad_input{"pfn " + hex(pfn) + " belongs to the unsplit order-" + std::to_string(h->order) +
				" allocation '" + h->name + "' (split it, or free it whole)"};
	const page *p = m->pfn_to_page(pfn);
	if (frozen && p->_refcount != 0)
		throw bad_input{"pfn " + hex(pfn) + " has refcount " + std::to_string(p->_refcount) +
				": the frozen path takes frozen pages (refcount 0)"};
	if (!frozen && p->_refcount < 1)
		throw bad_input{"pfn " + hex(pfn) + " is frozen (refcount 0): use the frozen path"};
}

void engine::set_scope(std::span<const uint64_t> given)
{
	static thread_local std::vector<uint64_t> sorted;
	std::span<const uint64_t> pfns = given;
	if (!std::is_sorted(given.begin(), given.end())) { // most arrays are: a handle's pfns in order
		copy_elements(sorted, given);
		std::sort(sorted.begin(), sorted.end());
		pfns = sorted;
	}
	m->scope.ranges.clear();
	for (uint64_t p : pfns) {
		if (!m->scope.ranges.empty() && m->scope.ranges.back().second == p)
			m->scope.ranges.back().second++;
		else
			m->scope.ranges.emplace_back(p, p + 1);
	}
	for (const auto &r : m->scope.ranges)
		op_ranges.push_back(r);
}

void engine::range_of(const op &o, uint64_t &pfn, uint64_t &count)
{
	if (!o.by_handle) {
		pfn = o.pfn;
		count = o.count;
		return;
	}
	handle &h = get(o.handle);
	if (h.kind == handle_kind::vmalloc)
		throw bad_input{"'" + h.name + "' is a vmalloc area: free it with vfree"};
	if (h.live != h.pfns.size())
		throw bad_input{"'" + h.name + "' was partly freed: name the remaining pfns"};
	pfn = h.pfns.front();
	count = h.pfns.size();
}

const std::vector<uint64_t> &engine::array_of(const handle &h, const op &o)
{
	std::vector<uint64_t> &a = scratch_arr;
	a.assign(h.pfns.begin(), h.pfns.end());
	if (o.arr == array_order::sorted)
		std::sort(a.begin(), a.end());
	else if (o.arr == array_order::reversed)
		std::reverse(a.begin(), a.end());
	else if (o.arr == array_order::shuffled) {
		uint64_t s = o.seed;
		for (size_t i = a.size(); i > 1; i--)
			std::swap(a[i - 1], a[splitmix64(s) % i]);
	}
	return a;
}

void engine::free_array(const std::vector<uint64_t> &pfns)
{
	std::vector<page *> &pages = scratch_pages;
	pages.clear();
	for (uint64_t p : pfns) {
		require_granular(p, false);
		pages.push_back(m->pfn_to_page(p));
	}
	for (uint64_t p : pfns)
		if (m->pfn_to_page(p)->_refcount == 1)
			release(p);
	set_scope(pfns);
	fam->free_pages_bulk(pages.data(), pages.size());
}

// alloc H order=K ...: a new handle, or a failed allocation.
void engine::do_alloc(const op &o)
{
	Model &mm = *m;
	if (find_live(o.handle))
		throw bad_input{"handle '" + o.handle + "' already exists"};
	page *p = mm.alloc_pages(o.order, o.mt, o.zone, o.compound, o.frozen);
	if (!p) {
		alloc_failed = true;
		return;
	}
	const uint64_t pfn = mm.page_to_pfn(p);
	handle &h = add(o.handle, handle_kind::pages, [&](auto &v) { fill_range(v, pfn, uint64_t(1) << o.order); });
	h.order = o.order;
	h.compound = o.compound && o.order > 0;
	h.frozen = o.frozen;
}

// split H: split_page() of an unsplit non-compound allocation.
void engine::do_split(const op &o)
{
	Model &mm = *m;
	handle &h = get(o.handle);
	if (h.kind != handle_kind::pages || h.split || h.order == 0)
		throw bad_input{"split needs an unsplit allocation of order > 0; '" + h.name + "' is not one"};
	if (h.compound)
		throw bad_input{"split_page() of compound page '" + h.name + "' (the kernel would BUG)"};
	if (h.frozen)
		throw bad_input{"split_page() of frozen allocation '" + h.name + "'"};
	mm.split_page(mm.pfn_to_page(h.pfns[0]), h.order);
	h.split = true;
}

// free_pages H, free_frozen H: the allocation whole.
void engine::do_free_whole(const op &o)
{
	Model &mm = *m;
	handle &h = get(o.handle);
	if (h.kind != handle_kind::pages || (h.split && h.order > 0))
		throw bad_input{"'" + h.name + "' is not a whole allocation (split or contig): free its pages instead"};
	if (h.live != h.pfns.size())
		throw bad_input{"'" + h.name + "' was partly freed"};
	page *head = mm.pfn_to_page(h.pfns[0]);
	const bool frozen = o.kind == op_kind::free_frozen;
	if (frozen != (head->_refcount == 0))
		throw bad_input{"'" + h.name + "' has refcount " + std::to_string(head->_refcount) + ": use " +
				(frozen ? "free_pages" : "free_frozen")};
	std::vector<uint64_t> &pfns = scratch_pfns;
	pfns.assign(h.pfns.begin(), h.pfns.end());
	if (frozen || head->_refcount == 1) {
		for (uint64_t p : pfns)
			release(p);
	} else if (!h.compound) {
		for (size_t i = 1; i < pfns.size(); i++)
			release(pfns[i]); // another reference keeps the first page
	}
	set_scope(pfns);
	if (frozen)
		mm.free_frozen_pages(head, h.order);
	else
		mm.__free_pages(head, h.order);
}

// free_page PFN: __free_page() of an order-0 granular page.
void engine::do_free_page(const op &o)
{
	Model &mm = *m;
	require_granular(o.pfn, false);
	if (mm.pfn_to_page(o.pfn)->_refcount == 1)
		release(o.pfn);
	set_scope({&o.pfn, 1});
	mm.__free_pages(mm.pfn_to_page(o.pfn), 0);
}

// get PFN: one more reference.
void engine::do_get(const op &o)
{
	Model &mm = *m;
	require_allocated(o.pfn);
	page *p = mm.pfn_to_page(o.pfn);
	if (p->_refcount < 1)
		throw bad_input{"get on pfn " + hex(o.pfn) + " with refcount 0 (frozen or a tail page)"};
	p->_refcount++;
	mm.touch(o.pfn, 1);
}

// The four contig range frees, by range or by handle.
void engine::do_free_contig(const op &o)
{
	Model &mm = *m;
	uint64_t pfn, count;
	range_of(o, pfn, count);
	const bool frozen = o.kind == op_kind::free_contig_frozen_inner || o.kind == op_kind::free_contig_frozen_range;
	for (uint64_t p = pfn; p < pfn + count; p++)
		require_allocated(p);
	handle *h = owner_of(pfn);
	std::vector<uint64_t> &pfns = pfn_range(pfn, count);
	const bool head = h && h->compound && h->pfns[0] == pfn;
	const bool tail = h && h->compound && h->pfns[0] != pfn;
	if (o.caller_error) {
		// The kernel BUGs on it (`expect bug`): the trace ends there, so
		// what the handles would become does not matter.
	} else if (head && o.kind == op_kind::free_contig_range) {
		// free_contig_range() refuses a compound head: nothing is freed.
	} else if (tail && o.kind == op_kind::free_contig_frozen_range) {
		// free_contig_frozen_range() refuses a compound tail: nothing is freed.
	} else if (head && o.kind == op_kind::free_contig_frozen_range) {
		if (count != h->pfns.size() || !h->frozen)
			throw bad_input{"free_contig_frozen_range of compound '" + h->name + "' needs its " +
					std::to_string(h->pfns.size()) + " frozen pages exactly"};
		for (uint64_t p : pfns)
			release(p);
	} else {
		for (uint64_t p : pfns) {
			handle *ph = owner_of(p);
			if (ph && ph->compound)
				throw bad_input{"range contains pfn " + hex(p) + " of compound page '" + ph->name +
						"' (a caller error in the kernel)"};
			require_granular(p, frozen);
		}
		for (uint64_t p : pfns)
			if (frozen || mm.pfn_to_page(p)->_refcount == 1)
				release(p);
	}
	set_scope(pfns);
	switch (o.kind) {
	case op_kind::free_contig_range:
		fam->free_contig_range(pfn, count);
		break;
	case op_kind::free_contig_range_inner:
		fam->free_contig_range_inner(pfn, count);
		break;
	case op_kind::free_contig_frozen_inner:
		fam->free_contig_frozen_range_inner(pfn, count);
		break;
	default:
		fam->free_contig_frozen_range(pfn, count);
		break;
	}
}

// free_pages_bulk PFN... | H [order].
void engine::do_free_pages_bulk(const op &o)
{
	if (o.by_handle) {
		handle &h = get(o.handle);
		if (h.live != h.pfns.size())
			throw bad_input{"'" + h.name + "' was partly freed"};
		free_array(array_of(h, o));
	} else {
		free_array(o.pfns);
	}
}

// alloc_contig H START COUNT [frozen].
void engine::do_alloc_contig(const op &o)
{
	Model &mm = *m;
	if (find_live(o.handle))
		throw bad_input{"handle '" + o.handle + "' already exists"};
	mm.free_log.clear();
	if (!mm.alloc_contig_range(o.pfn, o.pfn + o.count, o.frozen, excess_free)) {
		alloc_failed = true;
		return;
	}
	handle &h = add(o.handle, handle_kind::contig, [&](auto &v) { fill_range(v, o.pfn, o.count); });
	h.frozen = o.frozen;
	op_ranges.emplace_back(o.pfn & ~(mm.cfg().max_order_nr_pages() - 1),
			       std::min(mm.nr_pfns(), ((o.pfn + o.count) | (mm.cfg().max_order_nr_pages() - 1)) + 1));
}

// cma_release H: a frozen alloc_contig area, whole.
void engine::do_cma_release(const op &o)
{
	handle &h = get(o.handle);
	if (h.kind != handle_kind::contig || !h.frozen)
		throw bad_input{"cma_release needs a frozen alloc_contig area; '" + h.name + "' is not one"};
	if (h.live != h.pfns.size())
		throw bad_input{"'" + h.name + "' was partly freed"};
	std::vector<uint64_t> &pfns = scratch_pfns;
	pfns.assign(h.pfns.begin(), h.pfns.end());
	for (uint64_t p : pfns)
		release(p);
	set_scope(pfns);
	fam->free_contig_frozen_range(pfns.front(), pfns.size());
}

// vmalloc H NR [huge] [interleave].
void engine::do_vmalloc(const op &o)
{
	Model &mm = *m;
	if (find_live(o.handle))
		throw bad_input{"handle '" + o.handle + "' already exists"};
	std::vector<page *> &pages = scratch_pages;
	pages.clear();
	if (!mm.vmalloc_pages(o.count, o.huge, o.interleave, pages)) {
		alloc_failed = true;
		return;
	}
	add(o.handle, handle_kind::vmalloc, [&](auto &v) {
		for (page *p : pages)
			v.push_back(mm.page_to_pfn(p));
	});
	vmalloc_pages += long(pages.size());
}

// vfree H [order].
void engine::do_vfree(const op &o)
{
	Model &mm = *m;
	handle &h = get(o.handle);
	if (h.kind != handle_kind::vmalloc)
		throw bad_input{"vfree needs a vmalloc area; '" + h.name + "' is not one"};
	if (h.live != h.pfns.size())
		throw bad_input{"'" + h.name + "' was partly freed"};
	const std::vector<uint64_t> &arr = array_of(h, o);
	std::vector<page *> &pages = scratch_pages;
	pages.clear();
	for (uint64_t p : arr) {
		require_granular(p, false);
		pages.push_back(mm.pfn_to_page(p));
	}
	vmalloc_pages -= long(arr.size());
	for (uint64_t p : arr)
		if (mm.pfn_to_page(p)->_refcount == 1)
			release(p);
	set_scope(arr);
	mm.vfree_pages(pages.data(), pages.size());
}

// poison PFN: the model poisons order-0 pages only.
void engine::do_poison(const op &o)
{
	Model &mm = *m;
	require_allocated(o.pfn);
	handle *h = owner_of(o.pfn);
	if (h && (!h->granular() || h->compound))
		throw bad_input{"pfn " + hex(o.pfn) + " is part of the unsplit allocation '" + h->name +
				"': the model poisons order-0 pages only"};
	mm.set_hwpoison(o.pfn);
}

// The operation itself, on this engine's model (activated).
void engine::perform(const op &o)
{
	Model &mm = *m;
	switch (o.kind) {
	case op_kind::alloc:
		return do_alloc(o);
	case op_kind::split:
		return do_split(o);
	case op_kind::free_pages:
	case op_kind::free_frozen:
		return do_free_whole(o);
	case op_kind::free_page:
		return do_free_page(o);
	case op_kind::get:
		return do_get(o);
	case op_kind::free_contig_range:
	case op_kind::free_contig_range_inner:
	case op_kind::free_contig_frozen_inner:
	case op_kind::free_contig_frozen_range:
		return do_free_contig(o);
	case op_kind::free_pages_bulk:
		return do_free_pages_bulk(o);
	case op_kind::alloc_contig:
		return do_alloc_contig(o);
	case op_kind::cma_release:
		return do_cma_release(o);
	case op_kind::vmalloc:
		return do_vmalloc(o);
	case op_kind::vfree:
		return do_vfree(o);
	case op_kind::poison:
		return do_poison(o);
	case op_kind::make_bad:
		require_allocated(o.pfn);
		mm.make_bad(o.pfn, Model::bad_kinds()[size_t(o.bad)]);
		break;
	case op_kind::drain:
		if (o.all)
			mm.drain_all_pages();
		else
			mm.drain_pages(o.cpu);
		break;
	case op_kind::cpu:
		mm.current_cpu = o.cpu;
		break;
	default:
		break;
	}
}

} // namespace bc::detail
