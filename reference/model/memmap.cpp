// The reference model's core data and boot: the model-wide helpers, the
// setup of zones, free areas and pcp lists (mm/mm_init.c: zone and
// pageblock init, memmap_init_range(), and memblock_free_all() handing
// every present pfn to the buddy allocator), and the memmap itself with
// page_to_pfn() and the zone lookup (mm/sparse.c: the boot buffer per node
// and the hot-added sections of classic SPARSEMEM;
// include/asm-generic/memory_model.h).
// One of the four files the model was split into along the kernel's seams
// (with free_path.cpp, alloc_path.cpp and vmalloc.cpp); here because it is
// what every other part runs on.
#include "buddycheck/model.hpp"

#include "buddycheck/chunk.hpp"
#include "buddycheck/fault.hpp"
#include "model_internal.hpp"

#include <algorithm>
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

namespace bc {

using namespace model_detail;

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
	alloc_mobility_.assign(nr_pfns_, MIGRATE_UNMOVABLE);
	extfrag = extfrag_counters{};
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
	call = {};
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
	for (const memmap_block &b : memmap_blocks_) {
		BC_UNPOISON(b.alloc, (b.nr_pages + 2 * b.redzone) * sizeof(page));
		delete[] b.alloc;
	}
	memmap_blocks_.clear();
	section_map_.clear();
	section_by_addr_.clear();
	last_section_hit_ = 0;
}

Model::~Model() { release_memmap(); }

// Classic SPARSEMEM's memmaps (mm/sparse.c).  Boot memory: sparse_init_nid()
// reserves one buffer per node for all its present sections and hands them
// out in pfn order (sparse_buffer_alloc()), so the struct page after a
// section's last one is the first of the node's next *present* section:
// a page++ walk across a hole lands on the wrong pfn and nothing faults.
// Hot-added sections (section_activate() -> populate_section_memmap()) and
// what the boot buffer could not hold get one allocation each.  Every
// allocation has a poisoned redzone of a MAX_PAGE_ORDER block on both sides,
// so that a walk out of it (by up to one chunk) is an AddressSanitizer
// report rather than a read of another allocation.
BC_NO_COVERAGE void Model::build_section_memmaps()
{
	const uint64_t pps = cfg_.pages_per_section();
	const size_t redzone = size_t(cfg_.max_order_nr_pages());
	section_map_.assign(cfg_.nr_sections, nullptr);
	auto allocate = [&](const std::vector<uint64_t> &sections) {
		if (sections.empty())
			return;
		memmap_block b;
		b.nr_pages = size_t(sections.size() * pps);
		b.redzone = redzone;
		b.alloc = new page[b.nr_pages + 2 * redzone];
		BC_POISON(b.alloc, redzone * sizeof(page));
		BC_POISON(b.alloc + redzone + b.nr_pages, redzone * sizeof(page));
		for (size_t i = 0; i < sections.size(); i++) {
			section_map_[sections[i]] = b.alloc + redzone + i * pps;
			section_by_addr_.emplace_back(reinterpret_cast<uintptr_t>(section_map_[sections[i]]), sections[i]);
		}
		memmap_blocks_.push_back(b);
	};
	for (unsigned nid = 0; nid < cfg_.nr_nodes(); nid++) {
		std::vector<uint64_t> present;
		for (uint64_t s = cfg_.node_first_section(nid); s < cfg_.node_end_section(nid); s++)
			if (present_[s])
				present.push_back(s);
		size_t hot = cfg_.memmap == memmap_model::sparse_hotplug ? present.size()
									 : std::min<size_t>(cfg_.hotplug, present.size());
		std::vector<uint64_t> boot(present.begin(), present.end() - long(hot));
		allocate(boot);
		for (size_t i = present.size() - hot; i < present.size(); i++)
			allocate({present[i]});
	}
	std::sort(section_by_addr_.begin(), section_by_addr_.end());
}

BC_NO_COVERAGE void Model::init_memmap(bool reuse)
{
	const uint64_t pps = cfg_.pages_per_section();
	// Each memmap array is zeroed by one memset (its pages one by one
	// would each go through the sanitizer's memset interceptor).
	auto init_page = [&](page *p, uint64_t pfn) BC_NO_COVERAGE {
		if (classic_sparse(cfg_.memmap))
			p->flags.f = (pfn >> sec_shift_) << BC_SECTIONS_PGSHIFT;
		p->_mapcount = -1;
		list_init(&p->lru);
	};
	if (classic_sparse(cfg_.memmap)) {
		if (!reuse)
			build_section_memmaps();
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
		for (uint64_t s = z.zone_start_pfn >> sec_shift_; s < cfg_.nr_sections && (s << sec_shift_) < z.zone_end_pfn;
		     s++) {
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
	// Classic sparse: find the section memmap the pointer lies in (the
	// kernel reads the section from the page's flags: the same page); the
	// last one found usually holds the next pointer too.
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

uint64_t Model::memdesc_section(const page *p) const { return (p->flags.f >> BC_SECTIONS_PGSHIFT) & BC_SECTIONS_MASK; }

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

} // namespace bc
