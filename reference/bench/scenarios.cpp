// The seeds' test loops (v3 3/3: CMA through debugfs; v3 1/3: order-9
// alloc + split_page + free_contig_range; v4 2/3: test_vmalloc) on the
// reference model.  The range contract (Model::scope) is left empty: the
// bench measures the free path, replay checks it.
#include "scenarios.hpp"

#include "buddycheck/config.hpp"
#include "buddycheck/generate.hpp"

#include <algorithm>
#include <numeric>

namespace bc::bench {

config bench_config(memmap_model mm)
{
	config c = *preset("x86_64");
	c.memmap = mm;
	c.alloc = alloc_policy::kernel; // pcp list heads, free list heads: what the kernel hands out
	kernel_like_zones(c);           // DMA below 64 MiB, Normal above: inner boundary MAX_PAGE_ORDER-aligned
	c.cma = {{cma_start_pfn, cma_start_pfn + cma_nr_pages}};
	// Unmovable pageblocks for the unmovable allocations (vmalloc, the
	// order-9 test): the model falls back to other migratetypes without
	// stealing the pageblock, so without them every unmovable pcp refill
	// would come from movable pageblocks and be freed to the movable list.
	c.unmovable = {{unmovable_start_pfn, cma_start_pfn}};
	if (auto why = validate(c))
		throw bench_error("bench configuration refused: " + *why);
	return c;
}

long free_pages_total(const Model &m)
{
	long n = 0;
	for (const zone &z : m.zones())
		n += z.nr_free_pages;
	return n;
}

void boot(bench_ctx &c, const config &cfg, const free_family *f)
{
	c.m = std::make_unique<Model>(cfg);
	// A finding stops the run at once (run_scenario() reports it): an
	// engine whose chunk loop runs past its range would never return.
	c.m->stop_at_first_finding = true;
	c.fam = f;
	c.rng.state = 1;
	c.pages.clear();
	set_current(c.m.get());
	set_active_family(f);
}

static void check_findings(const Model &m)
{
	if (!m.findings.empty())
		throw bench_error("finding " + m.findings.front().invariant + ": " + m.findings.front().message);
	if (!m.warnings.empty())
		throw bench_error("warning: " + m.warnings.front().message);
}

void verify_returned(bench_ctx &c, long boot_free_pages)
{
	Model &m = *c.m;
	check_findings(m);
	m.drain_all_pages();
	const long now = free_pages_total(m);
	if (now != boot_free_pages)
		throw bench_error(std::string(c.fam->name) + ": NR_FREE_PAGES " + std::to_string(now) +
				  " after the run, " + std::to_string(boot_free_pages) + " at boot");
}

// The per-operation logs the replay reads; a bench only lets them grow.
static void end_iteration(Model &m)
{
	m.free_log.clear();
	m.dirty.clear();
	check_findings(m);
}

// ---------------------------------------------------------------- CMA

static void cma_alloc(bench_ctx &c)
{
	Model &m = *c.m;
	const uint64_t s = cma_start_pfn, e = s + cma_nr_pages;
	if (!m.alloc_contig_range(s, e, true, c.fam->free_contig_frozen_range_inner))
		throw bench_error("alloc_contig_range of the CMA area failed");
	for (uint64_t pfn = s; pfn < e; pfn++)
		m.ledger_clear(pfn, LEDGER_ALLOCATED); // handed to the free path next
}

static void cma_release(bench_ctx &c)
{
	c.fam->free_contig_frozen_range(cma_start_pfn, cma_nr_pages); // cma_release()
	end_iteration(*c.m);
}

// ------------------------------------------------- page allocator test (v3 1/3)

constexpr unsigned split_test_order = 9;

static void split_alloc(bench_ctx &c)
{
	Model &m = *c.m;
	page *p = m.alloc_pages(split_test_order, MIGRATE_UNMOVABLE, -1, false, false);
	if (!p)
		throw bench_error("alloc_pages(order 9) failed");
	m.split_page(p, split_test_order);
	c.pages.assign(1, p);
}

static void split_release(bench_ctx &c)
{
	Model &m = *c.m;
	const uint64_t pfn = m.page_to_pfn(c.pages[0]);
	const uint64_t n = uint64_t(1) << split_test_order;
	for (uint64_t i = 0; i < n; i++)
		m.ledger_clear(pfn + i, LEDGER_ALLOCATED);
	c.fam->free_contig_range(pfn, n);
	end_iteration(m);
}

// ---------------------------------------------------------------- vmalloc

static void do_vmalloc(bench_ctx &c, uint64_t nr, bool huge)
{
	if (!c.m->vmalloc_pages(nr, huge, false, c.pages))
		throw bench_error("vmalloc of " + std::to_string(nr) + " pages failed");
}

static void do_vfree(bench_ctx &c)
{
	c.m->vfree_pages(c.pages.data(), c.pages.size());
	c.pages.clear();
	end_iteration(*c.m);
}

// test_vmalloc's random_size_alloc_test: 1..100 pages.
static uint64_t random_size(bench_ctx &c)
{
	return 1 + c.rng.below(100);
}

// ------------------------------------------------- vfree: sorted / shuffled

constexpr uint64_t vfree_array_pages = 4096;

static void vfree_array_alloc(bench_ctx &c, bool shuffled)
{
	do_vmalloc(c, vfree_array_pages, false);
	Model &m = *c.m;
	std::sort(c.pages.begin(), c.pages.end(),
		  [&](page *a, page *b) { return m.page_to_pfn(a) < m.page_to_pfn(b); });
	if (!shuffled)
		return;
	if (c.perm.size() != c.pages.size()) { // one fixed permutation for the whole run
		c.perm.resize(c.pages.size());
		std::iota(c.perm.begin(), c.perm.end(), 0u);
		rng_chooser r(7);
		for (size_t i = c.perm.size(); i > 1; i--)
			std::swap(c.perm[i - 1], c.perm[r.below(i)]);
	}
	std::vector<page *> sorted = c.pages;
	for (size_t i = 0; i < sorted.size(); i++)
		c.pages[i] = sorted[c.perm[i]];
}

// ---------------------------------------------------------------- the table

static scenario vmalloc_fix_size(uint64_t p, bool huge, const char *seed_text, double seed_ratio, uint64_t iters)
{
	scenario s;
	s.name = "vmalloc fix_size p:" + std::to_string(p) + " h:" + (huge ? "1" : "0");
	s.seed_text = seed_text;
	s.seed_ratio = seed_ratio;
	s.pages_per_iteration = p;
	s.iterations = iters;
	s.quick_iterations = std::max<uint64_t>(iters / 20, 10);
	s.alloc = [p, huge](bench_ctx &c) { do_vmalloc(c, p, huge); };
	s.release = do_vfree;
	return s;
}

static std::vector<scenario> make_scenarios()
{
	std::vector<scenario> v;
	{
		scenario s;
		s.name = "cma 16384 alloc+release";
		s.seed_text = "1406 -> 402 usec";
		s.seed_ratio = 1406.0 / 402.0;
		s.pages_per_iteration = cma_nr_pages;
		s.iterations = 300;
		s.quick_iterations = 10;
		s.alloc = cma_alloc;
		s.release = cma_release;
		v.push_back(s);
		s.name = "cma 16384 release only";
		s.seed_text = "(profile: 70.9% -> 23.6%)";
		s.seed_ratio = 0;
		s.free_only = true;
		v.push_back(s);
	}
	{
		scenario s;
		s.name = "alloc o9+split+free_contig_range";
		s.seed_text = "4097358 usec -> \">10x\"";
		s.seed_ratio = 10;
		s.pages_per_iteration = uint64_t(1) << split_test_order;
		s.iterations = 100000; // the seed's loop count
		s.quick_iterations = 1000;
		s.alloc = split_alloc;
		s.release = split_release;
		v.push_back(s);
	}
	// test_vmalloc (v4 2/3, arm64): the improvement in percent, "> 0 is
	// faster", read as before/after - 1 (so +118% is 2.18x).
	v.push_back(vmalloc_fix_size(1, false, "-5.14%", 1 - 0.0514, 100000));
	v.push_back(vmalloc_fix_size(4, false, "+53.55%", 1.5355, 100000));
	v.push_back(vmalloc_fix_size(16, false, "+57.26%", 1.5726, 50000));
	v.push_back(vmalloc_fix_size(16, true, "+68.46%", 1.6846, 50000));
	v.push_back(vmalloc_fix_size(64, false, "+79.27%", 1.7927, 20000));
	v.push_back(vmalloc_fix_size(64, true, "+84.17%", 1.8417, 20000));
	v.push_back(vmalloc_fix_size(256, false, "+77.01%", 1.7701, 5000));
	v.push_back(vmalloc_fix_size(256, true, "+89.44%", 1.8944, 5000));
	v.push_back(vmalloc_fix_size(512, false, "+82.67%", 1.8267, 2500));
	v.push_back(vmalloc_fix_size(512, true, "+118.09%", 2.1809, 2500));
	{
		scenario s;
		s.name = "vmalloc random_size 1..100";
		s.seed_text = "+72.23%";
		s.seed_ratio = 1.7223;
		s.pages_per_iteration = 0; // varies: 50.5 on average
		s.iterations = 20000;
		s.quick_iterations = 1000;
		s.alloc = [](bench_ctx &c) { do_vmalloc(c, random_size(c), false); };
		s.release = do_vfree;
		v.push_back(s);
	}
	for (bool shuffled : {false, true}) {
		scenario s;
		s.name = std::string("vfree 4096 ") + (shuffled ? "shuffled" : "sorted") + " array";
		s.seed_text = "-";
		s.pages_per_iteration = vfree_array_pages;
		s.iterations = 300;
		s.quick_iterations = 10;
		s.free_only = true;
		s.alloc = [shuffled](bench_ctx &c) { vfree_array_alloc(c, shuffled); };
		s.release = do_vfree;
		v.push_back(s);
	}
	return v;
}

const std::vector<scenario> &scenarios()
{
	static const std::vector<scenario> v = make_scenarios();
	return v;
}

} // namespace bc::bench
