#include "buddycheck/model.hpp"

#include "buddycheck/chunk.hpp"
#include "buddycheck/fault.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/free_family.hpp"

#include <algorithm>
#include <cassert>
#include <cstdio>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__)
#define BC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BC_ASAN 1
#endif
#endif
#ifdef BC_ASAN
#include <sanitizer/asan_interface.h>
#define BC_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define BC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define BC_POISON(p, n) ((void)(p), (void)(n))
#define BC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

// Model canaries: each `if constexpr (fault::at(fault::NAME))` below is a
// fault point (buddycheck/fault.hpp), compiled in only by that canary's fuzz
// build; in the model that judges candidates every one is a constant false.

namespace bc {

// ---------------------------------------------------------------- lists

static inline void list_init(list_head *h) { h->next = h->prev = h; }
static inline bool list_empty(const list_head *h) { return h->next == h; }
static inline void list_insert(list_head *n, list_head *prev, list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}
static inline void list_add_head(list_head *n, list_head *h) { list_insert(n, h, h->next); }
static inline void list_add_tail(list_head *n, list_head *h) { list_insert(n, h->prev, h); }
static inline void list_unlink(list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	list_init(n);
}
static inline page *page_of(list_head *l)
{
	return reinterpret_cast<page *>(reinterpret_cast<char *>(l) - offsetof(page, lru));
}

const char *migratetype_name(unsigned mt)
{
	static const char *names[] = {"Unmovable", "Movable", "Reclaimable", "HighAtomic", "CMA", "Isolate"};
	return mt < MIGRATE_TYPES ? names[mt] : "?";
}

cost_counters &cost_counters::operator+=(const cost_counters &o)
{
	zone_lock += o.zone_lock;
	pcp_lock += o.pcp_lock;
	pcp_insert += o.pcp_insert;
	pcp_drain += o.pcp_drain;
	pcp_drained_blocks += o.pcp_drained_blocks;
	free_one_page += o.free_one_page;
	merges += o.merges;
	prepare += o.prepare;
	prepare_failed += o.prepare_failed;
	rmqueue += o.rmqueue;
	cond_resched += o.cond_resched;
	for (size_t i = 0; i < free_frozen_pages_by_order.size(); i++)
		free_frozen_pages_by_order[i] += o.free_frozen_pages_by_order[i];
	return *this;
}

bool free_call_scope::contains(uint64_t start, uint64_t end) const
{
	if (ranges.empty())
		return true;
	auto it = std::upper_bound(ranges.begin(), ranges.end(), std::make_pair(start, ~uint64_t(0)));
	if (it == ranges.begin())
		return false;
	--it;
	return start >= it->first && end <= it->second;
}

static Model *current_model;
Model &current() { return *current_model; }
void set_current(Model *m) { current_model = m; }

// ---------------------------------------------------------------- setup

Model::Model(const config &c) : cfg_(c) { setup(false); }

BC_NO_COVERAGE void Model::reset(const config &c)
{
	const bool reuse = same_memmap_shape(cfg_, c);
	if (!reuse)
		release_memmap();
	cfg_ = c;
	setup(reuse);
}

BC_NO_COVERAGE void Model::setup(bool reuse_memmap)
{
	const config &c = cfg_;
	nr_pfns_ = c.nr_pfns();
	sec_shift_ = c.pfn_section_shift();
	pfn_in_section_mask_ = c.pages_per_section() - 1;
	present_.assign(c.nr_sections, 1);
	for (auto h : c.holes)
		present_[h] = 0;
	ledger_.assign(nr_pfns_, 0);
	pageblock_mt_.assign((nr_pfns_ >> c.pageblock_order) + 1, MIGRATE_MOVABLE);
	pageblock_saved_mt_.assign(pageblock_mt_.size(), MIGRATE_MOVABLE);
	for (const auto &r : c.unmovable)
		for (uint64_t p = r.start; p < r.end; p += c.pageblock_nr_pages())
			set_pageblock_mt(p, MIGRATE_UNMOVABLE);
	for (const auto &r : c.cma)
		for (uint64_t p = r.start; p < r.end; p += c.pageblock_nr_pages())
			set_pageblock_mt(p, MIGRATE_CMA);
	zones_.resize(c.zones.size());
	for (size_t i = 0; i < c.zones.size(); i++) {
		zone &z = zones_[i];
		z.name = c.zones[i].name;
		z.idx = unsigned(i);
		z.zone_start_pfn = c.zones[i].start_pfn;
		z.zone_end_pfn = c.zones[i].end_pfn;
		z.nr_free_pages = 0;
		for (auto &fa : z.area) {
			for (auto &l : fa.free_list)
				list_init(&l);
			fa.nr_free = 0;
			for (auto &n : fa.nr_free_mt)
				n = 0;
		}
		z.pcp.resize(c.nr_cpus);
		for (auto &pcp : z.pcp) {
			pcp.count = 0;
			pcp.high = c.pcp_high;
			pcp.batch = c.pcp_batch;
			for (auto &l : pcp.lists)
				list_init(&l);
		}
	}
	init_memmap(reuse_memmap);
	nr_vmalloc = 0;
	current_cpu = 0;
	findings.clear();
	warnings.clear();
	scope.ranges.clear();
	free_log.clear();
	init_free_memory();
	cost = cost_counters{};
	dirty.clear();
}

void Model::release_memmap()
{
	if (flat_map_) {
		BC_UNPOISON(flat_map_, flat_bytes_);
		delete[] flat_map_;
		flat_map_ = nullptr;
	}
	for (page *m : section_map_)
		delete[] m;
	section_map_.clear();
	section_by_addr_.clear();
	last_section_hit_ = 0;
}

Model::~Model() { release_memmap(); }

BC_NO_COVERAGE void Model::init_memmap(bool reuse)
{
	const uint64_t pps = cfg_.pages_per_section();
	// Each memmap array is zeroed by one memset (its pages one by one
	// would each go through the sanitizer's memset interceptor).
	auto init_page = [&](page *p, uint64_t pfn) BC_NO_COVERAGE {
		if (cfg_.memmap == memmap_model::sparse)
			p->flags.f = (pfn >> sec_shift_) << BC_SECTIONS_PGSHIFT;
		p->_mapcount = -1;
		list_init(&p->lru);
	};
	if (cfg_.memmap == memmap_model::sparse) {
		// Classic SPARSEMEM: every present section's memmap is its own
		// heap object, so a page++ walk off its end is a heap overflow.
		if (!reuse) {
			section_map_.assign(cfg_.nr_sections, nullptr);
			for (uint64_t s = 0; s < cfg_.nr_sections; s++) {
				if (!present_[s])
					continue;
				section_map_[s] = new page[pps];
				section_by_addr_.emplace_back(reinterpret_cast<uintptr_t>(section_map_[s]), s);
			}
			std::sort(section_by_addr_.begin(), section_by_addr_.end());
		}
		for (uint64_t s = 0; s < cfg_.nr_sections; s++) {
			if (!section_map_[s])
				continue;
			std::memset(static_cast<void *>(section_map_[s]), 0, pps * sizeof(page));
			for (uint64_t i = 0; i < pps; i++)
				init_page(&section_map_[s][i], s * pps + i);
		}
		return;
	}
	if (!reuse) {
		flat_map_ = new page[nr_pfns_];
		flat_bytes_ = nr_pfns_ * sizeof(page);
	} else {
		BC_UNPOISON(flat_map_, flat_bytes_);
	}
	std::memset(static_cast<void *>(flat_map_), 0, flat_bytes_);
	for (uint64_t pfn = 0; pfn < nr_pfns_; pfn++) {
		init_page(&flat_map_[pfn], pfn);
		if (!present_[pfn >> sec_shift_])
			flat_map_[pfn].flags.f |= 1UL << PG_reserved;
		else if constexpr (fault::at(fault::memmap_reserves_section_after_hole))
			if ((pfn >> sec_shift_) > 0 && !present_[(pfn >> sec_shift_) - 1])
				flat_map_[pfn].flags.f |= 1UL << PG_reserved;
	}
	// SPARSEMEM_VMEMMAP maps no memmap for absent sections: make touching
	// one visible to AddressSanitizer.  FLATMEM has struct pages there.
	if (cfg_.memmap == memmap_model::vmemmap)
		for (uint64_t s = 0; s < cfg_.nr_sections; s++)
			if (!present_[s])
				BC_POISON(&flat_map_[s * pps], pps * sizeof(page));
}

BC_NO_COVERAGE void Model::init_free_memory()
{
	// Boot: every present pfn of a zone is given to the buddy allocator in
	// the largest aligned blocks (memblock_free_all()); present pfns in no
	// zone are reserved.
	for (uint64_t pfn = 0; pfn < nr_pfns_; pfn++)
		if (pfn_valid(pfn))
			ledger_[pfn] = LEDGER_RESERVED;
	for (const zone &z : zones_) // zones do not overlap (validate())
		for (uint64_t pfn = z.zone_start_pfn; pfn < z.zone_end_pfn; pfn++)
			ledger_[pfn] = 0;
	const uint64_t pps = cfg_.pages_per_section();
	for (zone &z : zones_) {
		for (uint64_t s = z.zone_start_pfn >> sec_shift_; s < cfg_.nr_sections && (s << sec_shift_) < z.zone_end_pfn; s++) {
			bool absent = !present_[s];
			if constexpr (fault::at(fault::flatmem_boot_frees_holes))
				absent = absent && cfg_.memmap != memmap_model::flat;
			if (absent)
				continue;
			uint64_t pfn = std::max(z.zone_start_pfn, s * pps);
			uint64_t end = std::min(z.zone_end_pfn, (s + 1) * pps);
			if constexpr (fault::at(fault::boot_last_zone_to_section_end))
				if (&z == &zones_.back())
					end = (s + 1) * pps;
			uint64_t count = end - pfn;
			while (count) {
				auto step = next_chunk<u64_word>(pfn, count, max_order());
				if constexpr (fault::at(fault::boot_chunks_unaligned)) {
					const uint64_t room = cfg_.max_order_nr_pages() - (pfn & (cfg_.max_order_nr_pages() - 1));
					step.order = u64_word::ilog2(std::min(count, room));
					step.next_pfn = pfn + (uint64_t(1) << step.order);
					step.next_count = count - (uint64_t(1) << step.order);
				}
				unsigned order = unsigned(step.order);
				unsigned mt = pageblock_mt(pfn);
				if (order > cfg_.pageblock_order)
					split_large_buddy(z, pfn, order, FPI_NONE);
				else
					__free_one_page(pfn, z, order, mt, FPI_NONE);
				pfn = step.next_pfn;
				count = step.next_count;
			}
		}
	}
}

// ---------------------------------------------------------------- memmap

BC_NO_COVERAGE uint64_t Model::page_to_pfn(const page *p) const
{
	const uintptr_t a = reinterpret_cast<uintptr_t>(p);
	if (flat_map_) {
		const uintptr_t base = reinterpret_cast<uintptr_t>(flat_map_);
		if (a < base || a >= base + flat_bytes_ || (a - base) % sizeof(page))
			return no_pfn;
		uint64_t pfn = (a - base) / sizeof(page);
		return present_[pfn >> sec_shift_] ? pfn : no_pfn;
	}
	// Classic sparse: find the section memmap the pointer lies in; the last
	// one found usually holds the next pointer too.
	const uint64_t pps = cfg_.pages_per_section();
	if (last_section_hit_ < section_by_addr_.size()) {
		const auto &hint = section_by_addr_[last_section_hit_];
		const uintptr_t off = a - hint.first;
		if (a >= hint.first && off < pps * sizeof(page) && off % sizeof(page) == 0)
			return hint.second * pps + off / sizeof(page);
	}
	auto it = std::upper_bound(section_by_addr_.begin(), section_by_addr_.end(), std::make_pair(a, ~uint64_t(0)));
	if (it == section_by_addr_.begin())
		return no_pfn;
	--it;
	const uintptr_t off = a - it->first;
	if (off >= pps * sizeof(page) || off % sizeof(page))
		return no_pfn;
	last_section_hit_ = size_t(it - section_by_addr_.begin());
	return it->second * pps + off / sizeof(page);
}

uint64_t Model::memdesc_section(const page *p) const
{
	return (p->flags.f >> BC_SECTIONS_PGSHIFT) & BC_SECTIONS_MASK;
}

BC_NO_COVERAGE zone *Model::zone_of(uint64_t pfn)
{
	for (zone &z : zones_)
		if (z.contains(pfn))
			return &z;
	return nullptr;
}

BC_NO_COVERAGE const zone *Model::zone_of(uint64_t pfn) const
{
	for (const zone &z : zones_)
		if (z.contains(pfn))
			return &z;
	return nullptr;
}

// ---------------------------------------------------------------- findings

void Model::report(const char *invariant, uint64_t pfn, std::string message)
{
	findings.push_back({invariant, std::move(message), pfn});
	if (stop_at_first_finding)
		throw finding_stop(findings.back());
}

void Model::warn(uint64_t pfn, std::string message)
{
	warnings.push_back({"WARN_ON", std::move(message), pfn});
}

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
		report("struct_page_pointer", no_pfn, "free_pages_prepare() got a pointer that is not a struct page of the memmap");
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
		       "__free_frozen_pages(pfn " + hex(pfn) + ", order " + std::to_string(order) +
			       ") exceeds MAX_PAGE_ORDER " + std::to_string(max_order()));
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
				       "chunk " + hex(pfn) + " order " + std::to_string(order) + " contains pfn " +
					       hex(pfn + i) +
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
	const unsigned merge_limit = fault::at(fault::merge_past_max_order) ? std::min(max_order(), NR_ORDERS_MAX - 2) + 1
									   : max_order();
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

// ---------------------------------------------------------------- allocation

BC_NO_COVERAGE page *Model::pick_block(zone &z, unsigned order, unsigned mt)
{
	list_head *l = &z.area[order].free_list[mt];
	if (list_empty(l))
		return nullptr;
	if (cfg_.alloc == alloc_policy::kernel)
		return page_of(l->next);
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

page *Model::rmqueue_pcplist(zone &z, unsigned order, unsigned mt, uint64_t *pfn_out)
{
	per_cpu_pages &pcp = z.pcp[current_cpu % z.pcp.size()];
	cost.pcp_lock++;
	const unsigned pindex = order_to_pindex(mt, order, cfg_.thp_order);
	list_head *l = &pcp.lists[pindex];
	if (list_empty(l)) {
		// rmqueue_bulk(): refill with `batch` pages' worth of blocks.
		cost.zone_lock++;
		long want = std::max<long>(1, pcp.batch >> order);
		for (long i = 0; i < want; i++) {
			uint64_t pfn;
			page *p = rmqueue_smallest(z, order, mt, &pfn);
			// Fall back to the other mergeable types, as the non-pcp path
			// does (without stealing: the model's simplification).
			for (unsigned m = 0; !p && m < MIGRATE_PCPTYPES; m++)
				if (m != mt)
					p = rmqueue_smallest(z, order, m, &pfn);
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
	page *p = page_of(l->next);
	list_unlink(&p->pcp_list);
	p->bc_where = BC_ON_NOTHING;
	p->private_ = 0;
	pcp.count -= long(1) << order;
	*pfn_out = page_to_pfn(p);
	touch(*pfn_out, uint64_t(1) << order);
	return p;
}

BC_NO_COVERAGE void Model::prep_new_page(uint64_t pfn, unsigned order, bool compound, bool frozen)
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
	if (order > max_order())
		return nullptr;
	if (cfg_.alloc == alloc_policy::canonical)
		drain_all_pages(); // allocation must not depend on what sits on pcp lists
	for (int zi = zone_idx >= 0 ? zone_idx : int(zones_.size()) - 1; zi >= 0; zi--) {
		zone &z = zones_[size_t(zi)];
		uint64_t pfn = no_pfn;
		page *p = nullptr;
		if (cfg_.alloc == alloc_policy::kernel && pcp_allowed_order(order) && mt < MIGRATE_PCPTYPES) {
			p = rmqueue_pcplist(z, order, mt, &pfn);
		} else {
			cost.zone_lock++;
			p = rmqueue_smallest(z, order, mt, &pfn);
			if (!p && cfg_.alloc == alloc_policy::kernel) {
				// Fallback without stealing (the model's simplification).
				for (unsigned m = 0; !p && m < MIGRATE_PCPTYPES; m++)
					if (m != mt)
						p = rmqueue_smallest(z, order, m, &pfn);
			}
		}
		if (p) {
			prep_new_page(pfn, order, compound, frozen);
			return p;
		}
		if (zone_idx >= 0)
			break;
	}
	return nullptr;
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
						fault::at(fault::unisolate_cleared_migratetype) ? unsigned(p->index) : pageblock_mt(pfn),
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

// ---------------------------------------------------------------- vmalloc

bool Model::vmalloc_pages(uint64_t nr_pages, bool huge, std::vector<page *> &pages)
{
	pages.clear();
	unsigned cap = max_order();
	if (huge)
		cap = cfg_.thp_order >= 0 ? unsigned(cfg_.thp_order) : cfg_.pageblock_order;
	uint64_t remaining = nr_pages;
	while (remaining) {
		unsigned order = std::min<unsigned>(cap, unsigned(u64_word::ilog2(remaining)));
		page *p = nullptr;
		for (;;) {
			p = alloc_pages(order, MIGRATE_UNMOVABLE, -1, false, false);
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
	{"mapping", -1}, {"mapcount", -1},           {"memcg", -1},      {"lru", PG_lru},
	{"locked", PG_locked}, {"private", PG_private}, {"private_2", PG_private_2}, {"writeback", PG_writeback},
	{"reserved", PG_reserved}, {"active", PG_active}, {"unevictable", PG_unevictable}, {"mlocked", PG_mlocked},
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
