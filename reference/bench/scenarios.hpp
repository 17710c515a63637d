// The seeds' experiments as workloads on the reference model: each scenario
// is one iteration of the seed's test loop (CMA alloc + release, order-9
// alloc + split + free_contig_range, vmalloc + vfree, ...), run with the
// per-page oracle or the batched family as the active free family.
#pragma once

#include "buddycheck/free_family.hpp"
#include "buddycheck/generate.hpp"
#include "buddycheck/model.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace bc::bench {

// One model, one free family, and the scenario's own scratch.
struct bench_ctx {
	std::unique_ptr<Model> m;
	const free_family *fam = nullptr;
	rng_chooser rng{1};
	std::vector<page *> pages; // the live allocation (vm->pages[])
	std::vector<uint32_t> perm; // a fixed permutation of pages[] (shuffled vfree)
};

// A workload failed (allocation failure, a finding): the figures would mean
// nothing, so the run stops with this message.
struct bench_error : std::runtime_error {
	using std::runtime_error::runtime_error;
};

struct scenario {
	std::string name;
	std::string seed_text; // the seed's published figure, as the seed states it
	double seed_ratio = 0; // the same as a speed-up ratio (0: none published)
	uint64_t pages_per_iteration = 0; // 0: varies
	uint64_t iterations = 0;       // full run (the seed's loop count, scaled where noted)
	uint64_t quick_iterations = 0; // --quick
	// One iteration of the seed's loop: allocate, then give back through
	// the free family.  With free_only, only release() is timed (the
	// counters still cover both halves).
	std::function<void(bench_ctx &)> alloc, release;
	bool free_only = false;
};

// The scenarios, in table order.
const std::vector<scenario> &scenarios();

// The configuration every scenario runs on: the x86_64 preset (4 sections
// of 32768 pages), kernel-like zones, the kernel allocation policy, a CMA
// area, and the given memory model.
config bench_config(memmap_model mm);
constexpr uint64_t unmovable_start_pfn = 16384; // the start of ZONE_NORMAL
constexpr uint64_t cma_start_pfn = 65536, cma_nr_pages = 16384;

// A fresh model with family f active (set_current, set_active_family).
void boot(bench_ctx &c, const config &cfg, const free_family *f);
// Every page back: drain the pcp lists and compare NR_FREE_PAGES with the
// boot value; throws bench_error on a leak or any finding/warning.
void verify_returned(bench_ctx &c, long boot_free_pages);
long free_pages_total(const Model &m);

// The whole bench (options, runs, table, JSON; run.cpp).  candidate: the
// family of the candidate C file this binary was built with
// (candidate_main.cpp), or null (main.cpp: the reference, or --engine).
int bench_main(int argc, char **argv, const free_family *candidate);

} // namespace bc::bench
