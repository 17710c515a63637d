// The fragmentation study (buddycheck frag): a seeded workload of slab-like,
// page-cache and vmalloc allocations run on the model with the kernel's
// allocation policy (alloc=kernel with the migratetype fallback), measured
// with the kernel's own fragmentation formulas.  It answers the v6 thread's
// "Do we have data?" (seed 002): does vmalloc's high-order allocation, freed
// in one batch by free_pages_bulk(), fragment memory more or less than
// order-0 vmalloc freed page by page?  docs/fragmentation.md is its report.
#pragma once

#include "buddycheck/config.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace bc {
class Model;
struct free_family;
} // namespace bc

namespace bc::frag {

// How vmalloc gets its pages (mm/vmalloc.c vm_area_alloc_pages()).
enum class vmalloc_alloc : uint8_t {
	order0, // before commit a06157804399: order-0 pages, alloc_pages_bulk()
	high,   // since then: the largest order <= ilog2(remaining) first, without
		// direct reclaim (fail fast), lower orders on failure, then order 0; split_page()
};
// How vfree() gives them back.
enum class vmalloc_free : uint8_t {
	per_page, // before this series: __free_page() on each page (order-0 pcp frees)
	bulk,     // this series: free_pages_bulk(), each contiguous run in chunks; pcp-allowed chunk orders through the pcp lists
	bulk_direct, // free_pages_bulk()'s chunks all straight to the buddy lists (free_one_page())
};
const char *name(vmalloc_alloc a);
const char *name(vmalloc_free f);

struct policy {
	vmalloc_alloc alloc = vmalloc_alloc::high;
	vmalloc_free free = vmalloc_free::bulk;
	std::string label() const; // "high+bulk"
};
// "order0+per-page" etc.; false for an unknown label.
bool parse_policy(const std::string &label, policy &out);

// The workload: every parameter is printed in the output (describe()).
struct workload {
	uint64_t ops = 1000000;        // allocations + frees
	double free_target = 0.20;     // fraction of the zone the controller keeps free
	double vmalloc_share = 0.20;   // fraction of the allocated page volume that is vmalloc
	double unmovable_share = 0.25; // slab-like unmovable (order 0-1)
	double atomic_share = 0.01;    // order-3 atomic requests (network rx)
	double thp_share = 0.10;       // order-9 movable requests (THP faults, no compaction)
	// The rest of the volume is movable page cache: order 0 and folios 2..4.
	double folio_fraction = 0.4; // of the page-cache volume, in order-2..4 folios
	// Lifetimes, in units of the zone's turnover (log-normal sigma per class;
	// a large sigma is a heavy tail: most die young, a few live on for the run).
	double slab_sigma = 2.5, cache_sigma = 0.7, vmalloc_sigma = 1.5, thp_sigma = 0.7;
	double slab_long_lived = 0.05;       // fraction of slab objects that outlive the run
	unsigned vmalloc_max_pages = 1024;   // sizes log-uniform in [1, max], plus 4-page stacks
	double vmalloc_stack_fraction = 0.5; // 16 KiB vmap stacks (fork)
	unsigned vmalloc_max_order = 10;     // high: the first order tried is min(this, ilog2(remaining))
	bool pin_per_pageblock = false;      // first pin one unmovable page at the start of every pageblock
	std::string describe() const;
};

// The zone the study runs on: x86_64 preset (4 KiB pages, MAX_PAGE_ORDER 10,
// pageblock_order 9, 128 MiB sections, SPARSEMEM_VMEMMAP), a 64 MiB DMA32
// zone and a Normal zone of at least `normal_mib` MiB above it, to the end
// of the last section (the requests prefer Normal).
config study_config(unsigned normal_mib = 1024);

// One sample of the zone (Normal).
struct sample {
	uint64_t op = 0;
	double free_fraction = 0;                      // NR_FREE_PAGES + pcp pages, of the zone's pages
	int unusable[2]{};                             // unusable_free_index(3), (9): 0..1000
	int fragindex[2]{};                            // __fragmentation_index(3), (9): -1000 or 0..1000
	uint64_t free_blocks_ge[2]{};                  // free blocks able to serve order 3, 9 (in that order's units)
	uint64_t mixed_pageblocks = 0;                 // holding allocated pages of more than one mobility
	uint64_t polluted_pageblocks = 0;              // holding allocated pages of a mobility other than their type
	uint64_t pageblocks_by_type[3]{};              // unmovable, movable, reclaimable (pagetypeinfo counts)
	uint64_t extfrag_claim = 0, extfrag_steal = 0; // cumulative
	uint64_t atomic3_ok = 0, atomic3_fail = 0, thp_ok = 0, thp_fail = 0; // cumulative
	uint64_t vmalloc_fallback = 0;                                       // cumulative high-order vmalloc attempts that failed
	double spill_fraction = 0; // of the zones below Normal (DMA32), the part allocated
	// Compaction-cost proxy per order (3, 9): the fewest movable allocated pages
	// to migrate to make one free aligned block; blocks makeable at the budget;
	// blocks makeable at all (only free and movable pages).
	int64_t compact_min[2]{};
	uint64_t compact_at_budget[2]{};
	uint64_t compactable[2]{};
};

struct run_result {
	std::string scenario;
	policy pol;
	uint64_t seed = 0;
	workload w;
	std::vector<sample> series;
	sample final_state;
	std::vector<unsigned long> buddyinfo;                 // free blocks per order, at the end
	std::vector<std::vector<unsigned long>> pagetypeinfo; // [mt][order] free blocks, at the end
	// Every zone's free blocks per order after everything was freed and the
	// pcp lists drained: the boot state's whatever the policy (a test
	// compares the policies' and the boot's).
	std::vector<std::vector<unsigned long>> drained_buddyinfo;
	uint64_t ops_done = 0, allocs = 0, frees = 0;
	double seconds = 0;
	uint64_t checks = 0; // invariant checks run
	std::string failure; // a broken invariant (buddycheck's own failure), or empty
};

struct run_options {
	uint64_t sample_every = 0;                   // 0: ops / 100
	uint64_t check_every = 65536;                // the full invariant checker every N ops (0: never; 1: every op)
	bool check_ranges = false;                   // and the range invariants over what each op touched
	uint64_t migration_budget = 2048;            // pages, for compact_at_budget
	std::function<void(uint64_t done)> progress; // called every 65536 ops
	// Tests only: the free family vfree() hands batched frees to instead of
	// the policy's (a broken variant, to show the drain check fails).
	const struct free_family *family_override = nullptr;
};

// Runs one policy on one seed.  The model is built here (study_config()
// unless `cfg` is given).
run_result run(const std::string &scenario, const workload &w, const policy &p, uint64_t seed, const run_options &o,
	       const config *cfg = nullptr);

// ---- metrics (metrics.cpp): the kernel's formulas on a model's zone ----
struct contig_page_info {
	unsigned long free_pages = 0, free_blocks_total = 0, free_blocks_suitable = 0;
};
contig_page_info fill_contig_page_info(const Model &m, unsigned zone_idx, unsigned suitable_order);
int unusable_free_index(unsigned order, const contig_page_info &info);
int fragmentation_index(unsigned order, const contig_page_info &info);
// The pageblock scan: mixed and polluted pageblocks, type counts, and the
// compaction proxy for one order.
struct pageblock_stats {
	uint64_t mixed = 0, polluted = 0;
	uint64_t by_type[3]{};
};
pageblock_stats scan_pageblocks(const Model &m, unsigned zone_idx);
struct compaction_proxy {
	int64_t min_cost = -1; // -1: no block can be made by migration alone
	uint64_t at_budget = 0, compactable = 0;
};
compaction_proxy compaction_cost(const Model &m, unsigned zone_idx, unsigned order, uint64_t budget);

// ---- scenarios and the study (study.cpp) ----
struct scenario {
	std::string name, doc;
	workload w;
	std::vector<policy> policies;
};
const std::vector<scenario> &scenarios();
const scenario *find_scenario(const std::string &name);
// The four policies of the debate plus bulk_direct.
std::vector<policy> all_policies();

// Mean and 95% confidence half-width (Student's t) of xs.
struct interval {
	double mean = 0, half = 0;
	size_t n = 0;
};
interval mean_ci(const std::vector<double> &xs);

// ---- the summary (summary.cpp): steady-state values over the second half ----
// A metric of a run: a level averaged over the samples of the window, or a
// rate of cumulative counters between the window's first and last sample.
struct metric {
	const char *name, *unit, *doc;
	// The run's value over its steady-state window (NaN: undefined, e.g. no
	// request of that kind).
	double (*value)(const std::vector<sample> &window);
	// The value at one sample (levels) or since the previous sample (rates),
	// for time series; NaN when undefined.
	double (*at)(const sample &prev, const sample &cur);
};
const std::vector<metric> &metrics();
const metric *find_metric(const std::string &name);
// The samples of a run's steady state: op >= half of its ops.
std::vector<sample> steady_window(const run_result &r);

// One grid cell: the workload's pressure and vmalloc share.
struct cell {
	std::string scenario;
	double free_target = 0, vmalloc_share = 0;
	bool operator==(const cell &) const = default;
};
cell cell_of(const run_result &r);
struct summary_row {
	cell c;
	std::string policy, metric;
	interval v; // over seeds
};
std::vector<summary_row> summarize(const std::vector<run_result> &runs);
// CSV with a header line; the summary reads back exactly (read_summary_csv).
std::string summary_csv(const std::vector<summary_row> &rows);
// false, and *error says why, on a malformed file.
bool read_summary_csv(const std::string &text, std::vector<summary_row> &rows, std::string *error);
std::string series_csv(const std::vector<run_result> &runs);
// The same number the CSV holds, as the report prints it.
std::string fmt_value(double v);

} // namespace bc::frag
