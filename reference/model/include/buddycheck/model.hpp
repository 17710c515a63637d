// The reference buddy page allocator: memmap in three memory models, zones,
// free_area[order][migratetype], per-CPU lists, pageblock migratetypes, the
// free path below the family under test (__free_frozen_pages and what it
// calls), and the allocation side used to build realistic states.
#pragma once

#include "buddycheck/config.hpp"
#include "buddycheck/page.h"

#include <array>
#include <cstdint>
#include <exception>
#include <memory>
#include <string>
#include <vector>

// Checkers and lookups are built without coverage instrumentation in the
// fuzz build: their comparisons would dominate the fuzzer's time and guide
// nothing.  (clang's attribute; no effect elsewhere.)  Not on small inline
// accessors: clang does not inline across differing sanitizer attributes.
#if defined(__clang__)
#define BC_NO_COVERAGE __attribute__((no_sanitize("coverage")))
#else
#define BC_NO_COVERAGE
#endif

// Hot one-line accessors: UBSan's object-size and pointer-overflow checks
// make them look too big to inline at -O2 (a call per pfn in every checker
// loop); force it.
#if defined(__GNUC__)
#define BC_ALWAYS_INLINE __attribute__((always_inline)) inline
#else
#define BC_ALWAYS_INLINE inline
#endif

namespace bc {

// The enum lives in page.h, shared with the C shim; bc::MIGRATE_* too.
using enum ::migratetype;
const char *migratetype_name(unsigned mt);
inline bool migratetype_is_mergeable(unsigned mt) { return mt < MIGRATE_PCPTYPES; }

constexpr unsigned NR_ORDERS_MAX = 16; // MAX_PAGE_ORDER <= 15
constexpr unsigned PAGE_ALLOC_COSTLY_ORDER = 3;
constexpr unsigned NR_LOWORDER_PCP_LISTS = MIGRATE_PCPTYPES * (PAGE_ALLOC_COSTLY_ORDER + 1);
constexpr unsigned NR_PCP_LISTS = NR_LOWORDER_PCP_LISTS + 1; // + the THP list

// fpi_t flags of __free_frozen_pages().
enum : unsigned { FPI_NONE = 0, FPI_TO_TAIL = 1u << 1, FPI_PREPARED = 1u << 3 };

constexpr uint64_t no_pfn = ~uint64_t(0);

struct free_area {
	list_head free_list[MIGRATE_TYPES];
	unsigned long nr_free = 0;                  // blocks on all lists of this order
	unsigned long nr_free_mt[MIGRATE_TYPES]{}; // blocks per list (buddycheck's own)
};

struct per_cpu_pages {
	long count = 0; // pages on all lists
	long high = 0;
	long batch = 0;
	list_head lists[NR_PCP_LISTS];
};

struct zone {
	std::string name;
	unsigned idx = 0;
	uint64_t zone_start_pfn = 0, zone_end_pfn = 0; // spanned [start, end)
	std::array<free_area, NR_ORDERS_MAX> area;
	std::vector<per_cpu_pages> pcp; // one per CPU
	long nr_free_pages = 0;         // vmstat NR_FREE_PAGES (buddy pages, not pcp, not isolated)
	bool contains(uint64_t pfn) const { return pfn >= zone_start_pfn && pfn < zone_end_pfn; }
};

// What the model's ledger knows of a pfn, independently of the free lists.
// A pfn must be in exactly one state: one ledger bit, or inside one free
// block (buddy or pcp).
enum ledger_bits : uint8_t {
	LEDGER_ALLOCATED = 1, // handed out by the allocation side, not yet given back
	LEDGER_LEAKED = 2,    // free_pages_prepare() failed: never returned, by design
	LEDGER_RESERVED = 4,  // present but in no zone (never given to the allocator)
};

// Cost counters: deterministic stand-ins for the seeds' profiles.
struct cost_counters {
	uint64_t zone_lock = 0;         // zone->lock acquisitions
	uint64_t pcp_lock = 0;          // pcp lock (trylock) acquisitions
	uint64_t pcp_insert = 0;        // blocks put on a pcp list by a free
	uint64_t pcp_drain = 0;         // free_pcppages_bulk() calls
	uint64_t pcp_drained_blocks = 0;// blocks it returned to the buddy lists
	uint64_t free_one_page = 0;     // __free_one_page() calls
	uint64_t merges = 0;            // buddy merges inside __free_one_page()
	uint64_t prepare = 0;           // free_pages_prepare() calls
	uint64_t prepare_failed = 0;    // ... that returned false
	uint64_t rmqueue = 0;           // blocks taken from the buddy lists
	uint64_t cond_resched = 0;
	std::array<uint64_t, NR_ORDERS_MAX + 8> free_frozen_pages_by_order{}; // __free_frozen_pages() calls
	cost_counters &operator+=(const cost_counters &o);
};

// alloc_flags bits the allocation side honours (mm/internal.h).  Watermarks,
// ALLOC_HARDER/HIGHATOMIC and reclaim are not modelled (reference/README.md).
enum : unsigned {
	ALLOC_NOFRAGMENT = 0x100, // no fallback below pageblock_order while a whole block can be had
	ALLOC_CMA = 0x80,         // may allocate from MIGRATE_CMA pageblocks (movable requests)
	ALLOC_AUTO = 1u << 31,    // buddycheck's own: derive the flags as the kernel does (gfp_to_alloc_flags)
};

// How __rmqueue() found its page last time (enum rmqueue_mode): rmqueue_bulk()
// keeps it across its loop so that a refill does not search again.
enum class rmqueue_mode : uint8_t { normal, cma, claim, steal };

// What the kernel's mm_page_alloc_extfrag tracepoint reports: one event per
// allocation served from another migratetype's free list.
struct extfrag_counters {
	uint64_t events = 0;      // every fallback (claim or steal)
	uint64_t claimed = 0;     // change_ownership: the pageblock now has the request's type
	uint64_t stolen = 0;      // taken without claiming (__rmqueue_steal)
	uint64_t fragmenting = 0; // fallback_order < pageblock_order (the tracepoint's `fragmenting`)
	uint64_t by_type[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES]{}; // [alloc_migratetype][fallback_migratetype]
	uint64_t cma = 0; // movable requests served from CMA pageblocks (not an extfrag event)
};

// A violated obligation found while the model ran: a chunk that breaks the
// chunk routine's contract, a struct page pointer that is not in the memmap,
// or a kernel assertion (VM_BUG_ON) of the model's free path.
struct finding {
	std::string invariant; // name of the violated obligation
	std::string message;
	uint64_t pfn = no_pfn;
	std::string where; // "file:line" of the candidate's call that broke it (Model::call_site), or empty
};

// What Model::report() throws, after recording the finding, when the model's
// stop_at_first_finding is set: the operation stops at its first finding
// (a candidate whose chunk loop runs past its range would otherwise never
// return).  The finding itself is Model::findings.back(); the runner that
// set the flag catches this around the operation and reports it.  Not a
// bad input: the history was valid, the code under test broke a contract.
struct finding_stop : std::exception {
	std::string text; // "INVARIANT: message"
	explicit finding_stop(const finding &f) : text(f.invariant + ": " + f.message) {}
	const char *what() const noexcept override { return text.c_str(); }
};

// The pfns the running free-family call was asked to free (sorted,
// disjoint [start, end) intervals), for the contract "a chunk lies inside the
// range being freed".  Empty: no contract on the range.
struct free_call_scope {
	std::vector<std::pair<uint64_t, uint64_t>> ranges;
	bool contains(uint64_t start, uint64_t end) const;
};

class Model {
  public:
	explicit Model(const config &c); // c must pass validate()
	~Model();
	// Back to the boot state of configuration c, reusing the memmap when
	// its shape (memory model, sections, holes) is unchanged: what a fuzzer
	// does between inputs.
	void reset(const config &c);
	Model(const Model &) = delete;
	Model &operator=(const Model &) = delete;

	const config &cfg() const { return cfg_; }
	unsigned max_order() const { return cfg_.max_page_order; }
	uint64_t nr_pfns() const { return nr_pfns_; }

	// ---- memmap ----
	BC_ALWAYS_INLINE bool pfn_valid(uint64_t pfn) const { return pfn < nr_pfns_ && present_[pfn >> sec_shift_]; }
	BC_ALWAYS_INLINE page *pfn_to_page(uint64_t pfn) const // pfn must be valid
	{
		if (flat_map_)
			return &flat_map_[pfn];
		return &section_map_[pfn >> sec_shift_][pfn & pfn_in_section_mask_];
	}
	uint64_t page_to_pfn(const page *p) const;            // no_pfn when p is not a struct page of the memmap
	BC_ALWAYS_INLINE uint64_t section_of(uint64_t pfn) const { return pfn >> sec_shift_; }
	uint64_t memdesc_section(const page *p) const;        // section number kept in flags (0 unless classic sparse)
	zone *zone_of(uint64_t pfn);                          // nullptr outside every zone
	const zone *zone_of(uint64_t pfn) const;
	std::vector<zone> &zones() { return zones_; }
	const std::vector<zone> &zones() const { return zones_; }

	// ---- pageblocks ----
	BC_ALWAYS_INLINE unsigned pageblock_mt(uint64_t pfn) const { return pageblock_mt_[pfn >> cfg_.pageblock_order]; }
	void set_pageblock_mt(uint64_t pfn, unsigned mt) { pageblock_mt_[pfn >> cfg_.pageblock_order] = uint8_t(mt); }

	// ---- the free path below the family under test ----
	bool free_pages_prepare(page *p, unsigned order);
	void __free_frozen_pages(page *p, unsigned order, unsigned fpi);
	void free_frozen_pages(page *p, unsigned order) { __free_frozen_pages(p, order, FPI_NONE); }
	bool put_page_testzero(page *p);
	void __free_pages(page *p, unsigned order); // refcounted
	void free_one_page(zone &z, uint64_t pfn, unsigned order, unsigned fpi);
	void split_large_buddy(zone &z, uint64_t pfn, unsigned order, unsigned fpi);
	void __free_one_page(uint64_t pfn, zone &z, unsigned order, unsigned mt, unsigned fpi);
	bool pcp_allowed_order(unsigned order) const;
	void free_pcppages_bulk(zone &z, per_cpu_pages &pcp, long count, unsigned pindex);
	void drain_pages(unsigned cpu);  // one CPU, every zone
	void drain_all_pages();          // every CPU
	void cond_resched() { cost.cond_resched++; }

	// ---- vmalloc (mm/vmalloc.c) ----
	// vm_area_alloc_pages(): large orders first, split_page() each, lower
	// the order on failure.  false (nothing kept) when memory runs out.
	// INTERLEAVE: chunk k prefers node k % nr_nodes (vmalloc under an
	// interleave mempolicy), so one array holds pages of every node.
	bool vmalloc_pages(uint64_t nr_pages, bool huge, bool interleave, std::vector<page *> &pages);
	// vfree(): NR_VMALLOC -= 1 per page, then free_pages_bulk() of the
	// active free family.
	void vfree_pages(page **pages, uint64_t nr_pages);

	// ---- allocation side ----
	// nullptr when no block of that order is free.  Pages come back
	// refcounted (head refcount 1) unless `frozen`.
	page *alloc_pages(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen);
	// The same with explicit alloc_flags (ALLOC_AUTO: as alloc_pages()).
	page *alloc_pages_flags(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen, unsigned alloc_flags);
	void split_page(page *p, unsigned order);

	// ---- steered allocation (alloc_steer.cpp): the lockstep under alloc=kernel ----
	// Under the kernel's policy two engines whose pcp lists differ would
	// allocate different pages after the same history.  The lockstep
	// records the oracle's choices and has the batched engine make the same
	// ones: each of its allocations takes exactly the recorded block (from
	// wherever it sits, buddy or pcp list), or fails where the oracle's
	// did.  A recorded block that is not free here is a real divergence of
	// the free sets: the allocation fails and the lockstep reports it.
	struct alloc_choice {
		uint64_t pfn = no_pfn; // no_pfn: the allocation failed
		unsigned order = 0;
	};
	bool record_allocs = false;
	std::vector<alloc_choice> alloc_log; // appended while record_allocs
	bool steering = false;
	std::vector<alloc_choice> steer; // the choices to make, in order
	size_t steer_next = 0;
	// Takes the free pfns [pfn, pfn + 2^order) off the free lists (buddy or
	// pcp), giving the rest of each block they lie in back to the buddy
	// lists; false, nothing changed, when one of them is not free.
	bool take_free_range(uint64_t pfn, unsigned order);
	// alloc_contig_range(start, end): true and pages frozen (or refcount 1)
	// on success; false, state unchanged, when a page of the range is busy.
	bool alloc_contig_range(uint64_t start, uint64_t end, bool frozen, void (*free_excess)(unsigned long, unsigned long));
	void isolate_pageblocks(uint64_t start, uint64_t end);   // [start, end), pageblock-rounded
	void unisolate_pageblocks(uint64_t start, uint64_t end); // restores and re-merges
	unsigned current_cpu = 0;

	// ---- pages ----
	void set_hwpoison(uint64_t pfn);
	bool make_bad(uint64_t pfn, const std::string &kind); // false for an unknown kind
	static const std::vector<std::string> &bad_kinds();
	// Why free_pages_prepare() would refuse this page; empty when it would not.
	std::string bad_reason(const page *p) const;
	BC_ALWAYS_INLINE bool is_bad(const page *p) const
	{
		return p->_mapcount != -1 || p->mapping || p->_refcount != 0 || p->memcg_data ||
		       (p->flags.f & BC_PAGE_FLAGS_CHECK_AT_FREE);
	}

	// ---- ledger and counters ----
	BC_ALWAYS_INLINE uint8_t ledger(uint64_t pfn) const { return ledger_[pfn]; }
	void ledger_set(uint64_t pfn, uint8_t bits) { ledger_[pfn] |= bits; }
	void ledger_clear(uint64_t pfn, uint8_t bits) { ledger_[pfn] &= uint8_t(~bits); }
	long nr_vmalloc = 0; // NR_VMALLOC
	cost_counters cost;

	// ---- findings ----
	std::vector<finding> findings;
	std::vector<finding> warnings; // WARN_ON of the model's own code (caller errors)
	// Records a finding; with stop_at_first_finding set it then throws
	// finding_stop, so that the code under test stops at once.  Off by
	// default (then the call that broke the contract is skipped and the
	// code under test runs on); reset() keeps it.
	void report(const char *invariant, uint64_t pfn, std::string message);
	bool stop_at_first_finding = false;
	void warn(uint64_t pfn, std::string message);
	// The source line of the call into the model that is running, set by
	// the kernel shim's call-site macros (a finding then says which line
	// of the candidate broke it); null outside such a call.
	struct call_site {
		const char *file = nullptr;
		int line = 0;
	} call;
	free_call_scope scope;
	// Orders of the __free_frozen_pages() calls since the log was cleared.
	std::vector<unsigned> free_log;

	// Intervals of pfns [start, end) the last operation touched, for checks
	// that cost in proportion to the work done.
	std::vector<std::pair<uint64_t, uint64_t>> dirty;
	void touch(uint64_t pfn, uint64_t nr) { dirty.emplace_back(pfn, pfn + nr); }

	// Block heads: order of the free block headed at pfn, or -1.
	int buddy_order_at(uint64_t pfn) const;
	// Head pfn and order of the free block (buddy or pcp) containing pfn;
	// false when the pfn is not free.  Counts every block covering pfn in
	// *covers (more than one means overlapping blocks).
	bool free_block_of(uint64_t pfn, uint64_t *head, unsigned *order, unsigned *covers = nullptr) const;

	// Low-level list operations (public for the invariant tests that break
	// the state on purpose).
	void add_to_free_list(page *p, uint64_t pfn, zone &z, unsigned order, unsigned mt, bool tail);
	void del_from_free_list(page *p, zone &z, unsigned order, unsigned mt);
	static unsigned order_to_pindex(unsigned mt, unsigned order, int thp_order);
	static unsigned pindex_to_order(unsigned pindex, int thp_order);

	page *rmqueue_smallest(zone &z, unsigned order, unsigned mt, uint64_t *pfn_out);

	// ---- migratetype fallback (alloc_fallback.cpp; alloc=kernel) ----
	// fallbacks[]: the types a request of each mergeable type may fall back to, in order.
	static const unsigned fallbacks[MIGRATE_PCPTYPES][MIGRATE_PCPTYPES - 1];
	page *__rmqueue(zone &z, unsigned order, unsigned mt, unsigned alloc_flags, rmqueue_mode *mode, uint64_t *pfn_out);
	page *__rmqueue_claim(zone &z, unsigned order, unsigned start_mt, unsigned alloc_flags, uint64_t *pfn_out);
	page *__rmqueue_steal(zone &z, unsigned order, unsigned start_mt, uint64_t *pfn_out);
	// A block of current_order >= pageblock_order: its pageblocks change type; a
	// smaller one: its pageblock is claimed when free + alike pages >= half.
	page *try_to_claim_block(zone &z, page *p, unsigned current_order, unsigned order, unsigned start_type,
				 unsigned block_type, uint64_t *pfn_out);
	static bool should_try_claim_block(unsigned order, unsigned start_mt, unsigned pageblock_order);
	// -1: no block of the order on any fallback list; -2: too small to claim.
	int find_suitable_fallback(const free_area &area, unsigned order, unsigned mt, bool claimable) const;
	// Free (buddy) and movable allocated pages of pfn's pageblock; false when
	// the pageblock straddles the zone's edge.
	bool prep_move_freepages_block(const zone &z, uint64_t pfn, uint64_t *start_pfn, long *num_free, long *num_movable) const;
	long __move_freepages_block(zone &z, uint64_t start_pfn, unsigned old_mt, unsigned new_mt);
	void change_pageblock_range(uint64_t pfn, unsigned start_order, unsigned mt);
	// alloc_flags_nofragment(): ALLOC_NOFRAGMENT for a request preferring
	// ZONE_NORMAL when a populated ZONE_DMA32 lies below it (CONFIG_ZONE_DMA32),
	// or always under vm.defrag_mode.
	unsigned alloc_flags_nofragment(const zone &preferred) const;
	bool defrag_mode = false; // vm.defrag_mode
	extfrag_counters extfrag;
	// The migratetype of the request that allocated pfn (valid while the
	// ledger says allocated): movable ones stand for PageLRU pages.
	BC_ALWAYS_INLINE unsigned alloc_mobility(uint64_t pfn) const { return alloc_mobility_[pfn]; }
	void set_alloc_mobility(uint64_t pfn, unsigned mt) { alloc_mobility_[pfn] = uint8_t(mt); }
	long nr_free_cma(const zone &z) const; // NR_FREE_CMA_PAGES
	void expand(zone &z, uint64_t pfn, unsigned low, unsigned high, unsigned mt);
	void prep_new_page(uint64_t pfn, unsigned order, bool compound, bool frozen, unsigned mobility = MIGRATE_UNMOVABLE);

  private:
	void pageblock_span(uint64_t &start, uint64_t &end) const;
	void setup(bool reuse_memmap);
	void release_memmap();
	void init_memmap(bool reuse);
	void build_section_memmaps();
	page *vmalloc_block(unsigned order, int nid);
	void init_free_memory();
	page *pick_block(zone &z, unsigned order, unsigned mt);
	page *list_head_page(const zone &z, list_head *l, unsigned order, unsigned mt, const char *list);
	page *rmqueue_pcplist(zone &z, unsigned order, unsigned mt, unsigned alloc_flags, uint64_t *pfn_out);
	page *alloc_by_policy(unsigned order, unsigned mt, int zone_idx, bool compound, bool frozen, unsigned alloc_flags);
	page *alloc_steered(unsigned order, unsigned mt, bool compound, bool frozen);

	config cfg_;
	uint64_t nr_pfns_ = 0;
	unsigned sec_shift_ = 0;
	uint64_t pfn_in_section_mask_ = 0;
	std::vector<uint8_t> present_;
	std::vector<zone> zones_;
	std::vector<uint8_t> pageblock_mt_;
	std::vector<uint8_t> pageblock_saved_mt_;
	std::vector<uint8_t> ledger_;
	std::vector<uint8_t> alloc_mobility_;
	// memmap storage: one array (flat, vmemmap) or one per present section
	page *flat_map_ = nullptr;
	size_t flat_bytes_ = 0;
	std::vector<page *> section_map_; // classic sparse: each present section's first struct page
	// Classic sparse: the allocations holding section memmaps (a node's
	// boot buffer or one hot-added section), each with `redzone` struct
	// pages before and after it poisoned for AddressSanitizer.
	struct memmap_block {
		page *alloc = nullptr;
		size_t nr_pages = 0, redzone = 0; // of the memmap proper
	};
	std::vector<memmap_block> memmap_blocks_;
	std::vector<std::pair<uintptr_t, uint64_t>> section_by_addr_; // sorted (base, section)
	mutable size_t last_section_hit_ = 0;                         // index into section_by_addr_
};

// The model that kernel-style code (engines, candidates) operates on.
Model &current();
void set_current(Model *m);

} // namespace bc
