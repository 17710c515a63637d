// The whole file is built without coverage instrumentation in the fuzz build
// (reference/CMakeLists.txt): a checker's comparisons guide nothing.  Not
// with BC_NO_COVERAGE per function: clang does not inline a function into
// one whose sanitizer attributes differ, so the model's small accessors
// (pfn_valid, pfn_to_page) would become calls.
#include "buddycheck/invariants.hpp"

#include "buddycheck/format.hpp"

#include <cstdio>
#include <map>

namespace bc {

static finding make(const char *name, uint64_t pfn, std::string msg) { return {name, std::move(msg), pfn, {}}; }

static const char *where_name(unsigned w) { return w == BC_ON_BUDDY ? "buddy" : w == BC_ON_PCP ? "pcp" : "?"; }

std::string describe_pfn(const Model &m, uint64_t pfn)
{
	if (pfn >= m.nr_pfns())
		return "beyond the last pfn";
	if (!m.pfn_valid(pfn))
		return "hole (section not present)";
	std::string s;
	uint64_t head;
	unsigned order, covers;
	if (m.free_block_of(pfn, &head, &order, &covers)) {
		const page *h = m.pfn_to_page(head);
		s = "free in order-" + std::to_string(order) + " block " + hex(head) + " (" + where_name(h->bc_where);
		if (h->bc_where == BC_ON_BUDDY)
			s += std::string(", ") + migratetype_name(unsigned(h->index));
		else
			s += ", cpu " + std::to_string(h->bc_cpu);
		s += ")";
		if (covers > 1)
			s += " and " + std::to_string(covers - 1) + " more overlapping block(s)";
	}
	auto add = [&](const std::string &t) { s += (s.empty() ? "" : " + ") + t; };
	uint8_t l = m.ledger(pfn);
	if (l & LEDGER_ALLOCATED)
		add("allocated (refcount " + std::to_string(m.pfn_to_page(pfn)->_refcount) + ")");
	if (l & LEDGER_LEAKED)
		add("leaked by a failed free_pages_prepare()");
	if (l & LEDGER_RESERVED)
		add("reserved");
	if (m.pfn_to_page(pfn)->flags.f & (1UL << PG_hwpoison))
		add("HWPoison");
	if (s.empty())
		s = "in no state (neither allocated, free, nor leaked)";
	return s;
}

// Ledger states of a pfn: one bit each (popcount without a libgcc call).
static unsigned ledger_states(uint8_t l) { return (l & 1) + ((l >> 1) & 1) + ((l >> 2) & 1); }

// How many free blocks cover each pfn of [start, end): one linear pass over
// the block heads from the MAX_PAGE_ORDER-aligned start (a block never
// starts before it), instead of probing every order at every pfn.
static const std::vector<uint8_t> &free_cover(const Model &m, uint64_t start, uint64_t end)
{
	static thread_local std::vector<uint8_t> cover;
	cover.assign(end - start, 0);
	const uint64_t from = start & ~(m.cfg().max_order_nr_pages() - 1);
	for (uint64_t pfn = from; pfn < end; pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const page *p = m.pfn_to_page(pfn);
		if (p->bc_where == BC_ON_NOTHING || p->private_ >= 64)
			continue;
		const uint64_t last = std::min(end, pfn + (uint64_t(1) << p->private_));
		for (uint64_t q = std::max(pfn, start); q < last; q++)
			cover[q - start]++;
	}
	return cover;
}

std::optional<finding> check_pfn_single_state(const Model &m, uint64_t start, uint64_t end)
{
	end = std::min(end, m.nr_pfns());
	if (start >= end)
		return std::nullopt;
	const std::vector<uint8_t> &cover = free_cover(m, start, end);
	for (uint64_t pfn = start; pfn < end; pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const unsigned states = cover[pfn - start] + ledger_states(m.ledger(pfn));
		if (states != 1)
			return make(inv::pfn_single_state, pfn,
				    "pfn " + hex(pfn) + " is in " + std::to_string(states) + " states: " + describe_pfn(m, pfn));
	}
	return std::nullopt;
}

// The block-shape invariant the free block headed at pfn violates, or
// nullptr: the one definition for check_block_shape() and the range walk.
BC_ALWAYS_INLINE static const char *block_shape_fault(const Model &m, uint64_t pfn, const page *p)
{
	const uint64_t order = p->private_;
	if (order > m.max_order())
		return inv::block_order_cap;
	const uint64_t n = uint64_t(1) << order;
	if (pfn & (n - 1))
		return inv::block_aligned;
	const zone *z = m.zone_of(pfn);
	if (!z || !z->contains(pfn + n - 1))
		return inv::block_in_zone;
	const uint64_t sec_mask = m.cfg().pages_per_section() - 1;
	if ((pfn & ~sec_mask) != ((pfn + n - 1) & ~sec_mask) || !m.pfn_valid(pfn + n - 1))
		return inv::block_in_section;
	return nullptr;
}

std::optional<finding> check_block_shape(const Model &m, uint64_t start, uint64_t end)
{
	end = std::min(end, m.nr_pfns());
	for (uint64_t pfn = start; pfn < end; pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const page *p = m.pfn_to_page(pfn);
		if (p->bc_where == BC_ON_NOTHING)
			continue;
		const char *fault = block_shape_fault(m, pfn, p);
		if (!fault)
			continue;
		const std::string blk = "free block " + hex(pfn) + " order " + std::to_string(p->private_) + " (" +
					where_name(p->bc_where) + ")";
		if (fault == inv::block_order_cap)
			return make(fault, pfn, blk + " exceeds MAX_PAGE_ORDER " + std::to_string(m.max_order()));
		if (fault == inv::block_aligned)
			return make(fault, pfn, blk + " is not naturally aligned");
		if (fault == inv::block_in_zone) {
			// Name the first pfn outside the head's zone and where it is.
			const zone *z = m.zone_of(pfn);
			const uint64_t out = z ? z->zone_end_pfn : pfn;
			const zone *oz = m.zone_of(out);
			return make(fault, pfn,
				    blk + " is not inside one zone: pfn " + hex(out) + " is in " +
					    (oz ? "zone " + oz->name : std::string("no zone (reserved)")));
		}
		return make(fault, pfn, blk + " is not inside one present section");
	}
	return std::nullopt;
}

// A mark of a bad page that a free page must not carry (the refcount is
// not one: the free path itself holds it at zero).
static bool bad_mark(const page *p)
{
	return p->_mapcount != -1 || p->mapping || p->memcg_data || (p->flags.f & BC_PAGE_FLAGS_CHECK_AT_FREE);
}

std::optional<finding> check_poison_never_free(const Model &m, uint64_t start, uint64_t end)
{
	end = std::min(end, m.nr_pfns());
	if (start >= end)
		return std::nullopt;
	const std::vector<uint8_t> *cover = nullptr;
	for (uint64_t pfn = start; pfn < end; pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const page *p = m.pfn_to_page(pfn);
		const bool poisoned = p->flags.f & (1UL << PG_hwpoison);
		if (!poisoned && !bad_mark(p))
			continue;
		if (!cover)
			cover = &free_cover(m, start, end);
		if ((*cover)[pfn - start])
			return make(inv::poison_never_free, pfn,
				    "pfn " + hex(pfn) + (poisoned ? " is HWPoison" : " is a bad page (" + m.bad_reason(p) + ")") +
					    " but is " + describe_pfn(m, pfn));
	}
	return std::nullopt;
}

static const page *entry_page(const list_head *l)
{
	return reinterpret_cast<const page *>(reinterpret_cast<const char *>(l) - offsetof(page, lru));
}

std::optional<finding> check_free_list_structure(const Model &m)
{
	static thread_local std::vector<bool> on_list; // to name the marked head no list holds
	on_list.assign(m.nr_pfns(), false);
	for (const zone &z : m.zones()) {
		for (unsigned o = 0; o <= m.max_order(); o++) {
			for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++) {
				const list_head *h = &z.area[o].free_list[mt];
				uint64_t guard = 0;
				for (const list_head *it = h->next; it != h; it = it->next) {
					const page *p = entry_page(it);
					uint64_t pfn = m.page_to_pfn(p);
					if (pfn == no_pfn || ++guard > m.nr_pfns())
						return make(inv::free_list_structure, no_pfn,
							    "zone " + z.name + " free_area[" + std::to_string(o) + "][" +
								    migratetype_name(mt) + "] holds a corrupt entry");
					if (p->bc_where != BC_ON_BUDDY || p->page_type != BC_PGTY_BUDDY || p->private_ != o ||
					    p->index != mt || !z.contains(pfn))
						return make(inv::free_list_structure, pfn,
							    "pfn " + hex(pfn) + " is on zone " + z.name + " free_area[" +
								    std::to_string(o) + "][" + migratetype_name(mt) +
								    "] but its page says: " + describe_pfn(m, pfn));
					on_list[pfn] = true;
				}
			}
		}
		for (size_t cpu = 0; cpu < z.pcp.size(); cpu++) {
			for (unsigned pi = 0; pi < NR_PCP_LISTS; pi++) {
				const list_head *h = &z.pcp[cpu].lists[pi];
				uint64_t guard = 0;
				for (const list_head *it = h->next; it != h; it = it->next) {
					const page *p = entry_page(it);
					uint64_t pfn = m.page_to_pfn(p);
					if (pfn == no_pfn || ++guard > m.nr_pfns())
						return make(inv::free_list_structure, no_pfn, "a pcp list of zone " + z.name + " holds a corrupt entry");
					unsigned want = Model::pindex_to_order(pi, m.cfg().thp_order);
					if (p->bc_where != BC_ON_PCP || p->private_ != want || p->bc_cpu != cpu || !z.contains(pfn))
						return make(inv::free_list_structure, pfn,
							    "pfn " + hex(pfn) + " is on a pcp list (cpu " + std::to_string(cpu) +
								    ", order " + std::to_string(want) + ") but its page says: " +
								    describe_pfn(m, pfn));
					on_list[pfn] = true;
				}
			}
		}
	}
	// Every listed entry was checked to be marked; now every marked pfn
	// must be listed (the guards stop a list that revisits an entry).
	uint64_t first_unlisted = no_pfn;
	for (uint64_t pfn = 0; pfn < m.nr_pfns() && first_unlisted == no_pfn; pfn++)
		if (m.pfn_valid(pfn) && m.pfn_to_page(pfn)->bc_where != BC_ON_NOTHING && !on_list[pfn])
			first_unlisted = pfn;
	if (first_unlisted != no_pfn)
		return make(inv::free_list_structure, first_unlisted,
			    "pfn " + hex(first_unlisted) + " is marked as a free block head (" + describe_pfn(m, first_unlisted) +
				    ") but is on no list");
	return std::nullopt;
}

// A pageblock of the buddy block headed at pfn whose migratetype is not the
// block's list; no_pfn when there is none.
static uint64_t wrong_pageblock(const Model &m, uint64_t pfn, const page *p)
{
	const uint64_t pb = m.cfg().pageblock_nr_pages(), n = uint64_t(1) << p->private_;
	for (uint64_t q = pfn; q < pfn + n; q += pb)
		if (m.pageblock_mt(q) != p->index)
			return q;
	return no_pfn;
}

std::optional<finding> check_free_list_migratetype(const Model &m)
{
	const uint64_t pb = m.cfg().pageblock_nr_pages();
	for (uint64_t pfn = 0; pfn < m.nr_pfns(); pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const page *p = m.pfn_to_page(pfn);
		if (p->bc_where != BC_ON_BUDDY)
			continue;
		const uint64_t q = wrong_pageblock(m, pfn, p);
		if (q != no_pfn)
			return make(inv::free_list_migratetype, pfn,
				    "free block " + hex(pfn) + " order " + std::to_string(p->private_) + " is on the " +
					    migratetype_name(unsigned(p->index)) + " list but pageblock " + hex(q & ~(pb - 1)) + " is " +
					    migratetype_name(m.pageblock_mt(q)));
	}
	return std::nullopt;
}

std::optional<finding> check_free_counters(const Model &m)
{
	for (const zone &z : m.zones()) {
		long nr_free_pages = 0;
		for (unsigned o = 0; o <= m.max_order(); o++) {
			unsigned long total = 0;
			for (unsigned mt = 0; mt < MIGRATE_TYPES; mt++) {
				unsigned long n = 0;
				const list_head *h = &z.area[o].free_list[mt];
				for (const list_head *it = h->next; it != h && n <= m.nr_pfns(); it = it->next)
					n++;
				if (n != z.area[o].nr_free_mt[mt])
					return make(inv::free_counters, no_pfn,
						    "zone " + z.name + " nr_free[" + std::to_string(o) + "][" + migratetype_name(mt) +
							    "] is " + std::to_string(z.area[o].nr_free_mt[mt]) + " but the list holds " +
							    std::to_string(n));
				total += n;
				if (mt != MIGRATE_ISOLATE)
					nr_free_pages += long(n) << o;
			}
			if (total != z.area[o].nr_free)
				return make(inv::free_counters, no_pfn,
					    "zone " + z.name + " free_area[" + std::to_string(o) + "].nr_free is " +
						    std::to_string(z.area[o].nr_free) + " but its lists hold " + std::to_string(total));
		}
		if (nr_free_pages != z.nr_free_pages)
			return make(inv::free_counters, no_pfn,
				    "zone " + z.name + " NR_FREE_PAGES is " + std::to_string(z.nr_free_pages) +
					    " but its non-isolated free lists hold " + std::to_string(nr_free_pages) + " pages");
		for (size_t cpu = 0; cpu < z.pcp.size(); cpu++) {
			long count = 0;
			for (unsigned pi = 0; pi < NR_PCP_LISTS; pi++) {
				const list_head *h = &z.pcp[cpu].lists[pi];
				unsigned order = Model::pindex_to_order(pi, m.cfg().thp_order);
				for (const list_head *it = h->next; it != h && count <= long(m.nr_pfns()); it = it->next)
					count += long(1) << order;
			}
			if (count != z.pcp[cpu].count)
				return make(inv::free_counters, no_pfn,
					    "zone " + z.name + " cpu " + std::to_string(cpu) + " pcp->count is " +
						    std::to_string(z.pcp[cpu].count) + " but its lists hold " + std::to_string(count) +
						    " pages");
		}
	}
	return std::nullopt;
}

std::optional<finding> check_nr_vmalloc(const Model &m, long expected)
{
	if (m.nr_vmalloc != expected)
		return make(inv::nr_vmalloc, no_pfn,
			    "NR_VMALLOC is " + std::to_string(m.nr_vmalloc) + " but the live vmalloc areas hold " +
				    std::to_string(expected) + " pages");
	return std::nullopt;
}

// The order-o buddy of the buddy block headed at pfn when the two could
// still merge; no_pfn otherwise.
static uint64_t unmerged_buddy(const Model &m, uint64_t pfn)
{
	// Model::buddy_order_at(), inlined: it is asked of every pfn.  Not an
	// inline member instead: inlined into the model's instrumented callers
	// (isolation, alloc_contig_range) it would add coverage edges there
	// and change what the fuzzer keeps (measured: 8 more edges, 5-8% fewer
	// exec/s at the same cost per input).
	auto buddy_order_at = [&m](uint64_t q) {
		if (!m.pfn_valid(q))
			return -1;
		const page *p = m.pfn_to_page(q);
		return p->bc_where == BC_ON_BUDDY ? int(p->private_) : -1;
	};
	int o = buddy_order_at(pfn);
	if (o < 0 || unsigned(o) >= m.max_order())
		return no_pfn;
	const uint64_t buddy = pfn ^ (uint64_t(1) << o);
	if (buddy_order_at(buddy) != o || m.zone_of(buddy) != m.zone_of(pfn))
		return no_pfn;
	unsigned mt = unsigned(m.pfn_to_page(pfn)->index), bmt = unsigned(m.pfn_to_page(buddy)->index);
	if (unsigned(o) >= m.cfg().pageblock_order && mt != bmt && (!migratetype_is_mergeable(mt) || !migratetype_is_mergeable(bmt)))
		return no_pfn;
	if (mt == MIGRATE_ISOLATE || bmt == MIGRATE_ISOLATE)
		return no_pfn; // isolation keeps buddies apart until it is undone
	return buddy;
}

// A pcp list still holds pages (what a drain leaves empty).
static const zone *undrained_zone(const Model &m, size_t *cpu_out = nullptr)
{
	for (const zone &z : m.zones())
		for (size_t cpu = 0; cpu < z.pcp.size(); cpu++)
			if (z.pcp[cpu].count) {
				if (cpu_out)
					*cpu_out = cpu;
				return &z;
			}
	return nullptr;
}

std::optional<finding> check_canonical_form(const Model &m)
{
	size_t cpu;
	if (const zone *z = undrained_zone(m, &cpu))
		return make(inv::canonical_form, no_pfn,
			    "zone " + z->name + " cpu " + std::to_string(cpu) + " still has " + std::to_string(z->pcp[cpu].count) +
				    " pages on its pcp lists after a drain");
	for (uint64_t pfn = 0; pfn < m.nr_pfns(); pfn++) {
		const uint64_t buddy = unmerged_buddy(m, pfn);
		if (buddy != no_pfn)
			return make(inv::canonical_form, std::min(pfn, buddy),
				    "free buddies " + hex(std::min(pfn, buddy)) + " and " + hex(std::max(pfn, buddy)) + " of order " +
					    std::to_string(m.pfn_to_page(pfn)->private_) + " were not merged");
	}
	return std::nullopt;
}

// What check_range() asks of one valid pfn of a walk in ascending order
// from a MAX_PAGE_ORDER-aligned pfn (a free block never starts before it):
// one state (pfns from `start`), a sound block shape at a head, no HWPoison
// or bad mark on a free pfn.  open_ends: the ends of the free blocks
// covering the pfns so far, kept as the walk goes (what free_cover()
// counts, without a pass and an array of its own); one in a sound state.
// false: an invariant may be violated here (the named checks say which).
BC_ALWAYS_INLINE static bool range_pfn_ok(const Model &m, uint64_t pfn, const page *p, uint64_t start, std::vector<uint64_t> &open_ends)
{
	for (size_t i = 0; i < open_ends.size();) {
		if (open_ends[i] <= pfn) {
			open_ends[i] = open_ends.back();
			open_ends.pop_back();
		} else {
			i++;
		}
	}
	if (p->bc_where != BC_ON_NOTHING && p->private_ < 64)
		open_ends.push_back(pfn + (uint64_t(1) << p->private_));
	const unsigned c = unsigned(open_ends.size());
	if (pfn >= start && c + ledger_states(m.ledger(pfn)) != 1)
		return false;
	if (p->bc_where != BC_ON_NOTHING && block_shape_fault(m, pfn, p))
		return false;
	return !(pfn >= start && c && ((p->flags.f & (1UL << PG_hwpoison)) || bad_mark(p)));
}

std::optional<finding> check_range(const Model &m, uint64_t start, uint64_t end)
{
	// One pass for the three range invariants; on a violation, the named
	// predicate reports it (they agree on what is wrong).
	end = std::min(end, m.nr_pfns());
	const uint64_t from = start & ~(m.cfg().max_order_nr_pages() - 1);
	if (from >= end)
		return std::nullopt;
	static thread_local std::vector<uint64_t> open_ends;
	open_ends.clear();
	uint64_t pfn = from;
	for (; pfn < end; pfn++)
		if (m.pfn_valid(pfn) && !range_pfn_ok(m, pfn, m.pfn_to_page(pfn), start, open_ends))
			break;
	// Tested after the loop, not at its last pfn: a range that ends in a
	// hole (the last section absent) would otherwise fall through to the
	// three passes below on a sound state.
	if (pfn == end)
		return std::nullopt;
	// A malformed block is named first: the pfns it covers twice or not
	// at all are its consequence.
	if (auto v = check_block_shape(m, from, end))
		return v;
	if (auto v = check_pfn_single_state(m, start, end))
		return v;
	return check_poison_never_free(m, start, end);
}

std::optional<finding> check_all(const Model &m, long expected_nr_vmalloc)
{
	if (auto v = check_free_list_structure(m))
		return v;
	if (auto v = check_range(m, 0, m.nr_pfns()))
		return v;
	if (auto v = check_free_counters(m))
		return v;
	if (auto v = check_free_list_migratetype(m))
		return v;
	return check_nr_vmalloc(m, expected_nr_vmalloc);
}

bool drained_state_sound(const Model &m, long expected_nr_vmalloc)
{
	if (check_free_list_structure(m) || check_free_counters(m) || check_nr_vmalloc(m, expected_nr_vmalloc))
		return false;
	if (undrained_zone(m))
		return false;
	// check_range(0, nr_pfns), check_free_list_migratetype() and
	// check_canonical_form() in one walk.
	static thread_local std::vector<uint64_t> open_ends;
	open_ends.clear();
	for (uint64_t pfn = 0; pfn < m.nr_pfns(); pfn++) {
		if (!m.pfn_valid(pfn))
			continue;
		const page *p = m.pfn_to_page(pfn);
		if (!range_pfn_ok(m, pfn, p, 0, open_ends))
			return false;
		if (p->bc_where == BC_ON_BUDDY && (wrong_pageblock(m, pfn, p) != no_pfn || unmerged_buddy(m, pfn) != no_pfn))
			return false;
	}
	return true;
}

// Migratetype as the differential check compares it: the kernel's merge
// rule lets the surviving type of two mergeable pageblocks depend on merge
// order, which legitimately differs between per-page and batched freeing.
static unsigned mt_class(unsigned mt) { return migratetype_is_mergeable(mt) ? 0 : mt; }

std::optional<finding> diff_states(const Model &a, const Model &b)
{
	// The free block covering a pfn is a function of the block heads at
	// and before it, so comparing the heads (place, order, list,
	// migratetype class) pfn by pfn compares which block covers every pfn,
	// and the first pfn where the heads differ is the first where the
	// covering blocks do.
	for (uint64_t pfn = 0; pfn < a.nr_pfns(); pfn++) {
		if (!a.pfn_valid(pfn))
			continue;
		const page *pa = a.pfn_to_page(pfn), *pb = b.pfn_to_page(pfn);
		bool same = a.ledger(pfn) == b.ledger(pfn) && pa->bc_where == pb->bc_where;
		if (same && pa->bc_where != BC_ON_NOTHING)
			same = pa->private_ == pb->private_ && mt_class(unsigned(pa->index)) == mt_class(unsigned(pb->index));
		if (same && (a.ledger(pfn) & LEDGER_ALLOCATED))
			same = pa->_refcount == pb->_refcount;
		if (same)
			same = (pa->flags.f & (1UL << PG_hwpoison)) == (pb->flags.f & (1UL << PG_hwpoison));
		if (!same)
			return make(inv::differential, pfn,
				    "first difference at pfn " + hex(pfn) + ": oracle: " + describe_pfn(a, pfn) +
					    "; batched: " + describe_pfn(b, pfn));
	}
	for (size_t zi = 0; zi < a.zones().size(); zi++)
		if (a.zones()[zi].nr_free_pages != b.zones()[zi].nr_free_pages)
			return make(inv::differential, no_pfn,
				    "zone " + a.zones()[zi].name + " NR_FREE_PAGES: oracle " +
					    std::to_string(a.zones()[zi].nr_free_pages) + ", batched " +
					    std::to_string(b.zones()[zi].nr_free_pages));
	if (a.nr_vmalloc != b.nr_vmalloc)
		return make(inv::differential, no_pfn,
			    "NR_VMALLOC: oracle " + std::to_string(a.nr_vmalloc) + ", batched " + std::to_string(b.nr_vmalloc));
	return std::nullopt;
}

} // namespace bc
