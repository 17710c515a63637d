// The study's vocabulary: policies and their labels, the workload's
// description, the zone, the named scenarios, and the statistics over seeds.
#include "buddycheck/frag.hpp"

#include <cmath>
#include <cstdio>

namespace bc::frag {

const char *name(vmalloc_alloc a) { return a == vmalloc_alloc::order0 ? "order0" : "high"; }

const char *name(vmalloc_free f)
{
	switch (f) {
	case vmalloc_free::per_page:
		return "per-page";
	case vmalloc_free::bulk:
		return "bulk";
	case vmalloc_free::bulk_direct:
		return "bulk-direct";
	}
	return "?";
}

std::string policy::label() const { return std::string(name(alloc)) + "+" + name(free); }

bool parse_policy(const std::string &label, policy &out)
{
	for (const policy &p : all_policies())
		if (p.label() == label) {
			out = p;
			return true;
		}
	return false;
}

std::vector<policy> all_policies()
{
	using A = vmalloc_alloc;
	using F = vmalloc_free;
	return {{A::order0, F::per_page},
		{A::high, F::per_page},
		{A::order0, F::bulk},
		{A::high, F::bulk},
		{A::high, F::bulk_direct}};
}

std::string workload::describe() const
{
	char b[1024];
	std::snprintf(b, sizeof b,
		      "ops=%llu free_target=%.3f vmalloc_share=%.3f unmovable_share=%.3f atomic_share=%.4f thp_share=%.3f "
		      "folio_fraction=%.2f slab_sigma=%.2f cache_sigma=%.2f vmalloc_sigma=%.2f thp_sigma=%.2f "
		      "slab_long_lived=%.3f vmalloc_max_pages=%u vmalloc_stack_fraction=%.2f vmalloc_max_order=%u "
		      "pin_per_pageblock=%d",
		      (unsigned long long)ops, free_target, vmalloc_share, unmovable_share, atomic_share, thp_share,
		      folio_fraction, slab_sigma, cache_sigma, vmalloc_sigma, thp_sigma, slab_long_lived, vmalloc_max_pages,
		      vmalloc_stack_fraction, vmalloc_max_order, pin_per_pageblock ? 1 : 0);
	return b;
}

config study_config(unsigned normal_mib)
{
	config c = *preset("x86_64");
	c.memmap = memmap_model::vmemmap; // x86_64's SPARSEMEM_VMEMMAP
	const uint64_t sec_pages = c.pages_per_section();
	const uint64_t dma32_pages = 64 * 256; // 64 MiB
	const uint64_t normal_pages = uint64_t(normal_mib) * 256;
	c.nr_sections = (dma32_pages + normal_pages + sec_pages - 1) / sec_pages;
	c.alloc = alloc_policy::kernel;
	c.nr_cpus = 1;
	// A populated DMA32 below Normal: the kernel then allocates from Normal
	// with ALLOC_NOFRAGMENT first (alloc_flags_nofragment()).  Normal runs
	// to the end of the last section (at least normal_mib MiB).
	c.zones = {{"DMA32", 0, dma32_pages}, {"Normal", dma32_pages, c.nr_pfns()}};
	return c;
}

const std::vector<scenario> &scenarios()
{
	static const std::vector<scenario> all = [] {
		std::vector<scenario> v;
		scenario debate;
		debate.name = "debate";
		debate.doc = "slab-like unmovable, page cache and vmalloc mixed; the five vmalloc policies side by side";
		debate.policies = all_policies();
		v.push_back(debate);

		scenario movable;
		movable.name = "all-movable";
		movable.doc = "sanity: page cache and THP only, no long-lived pages (fragmentation stays low, order 9 succeeds)";
		movable.w.vmalloc_share = 0;
		movable.w.unmovable_share = 0;
		movable.w.atomic_share = 0;
		movable.w.slab_long_lived = 0;
		movable.w.cache_sigma = 0.05;
		movable.w.thp_sigma = 0.05;
		movable.w.free_target = 0.5;
		movable.policies = {{vmalloc_alloc::high, vmalloc_free::bulk}};
		v.push_back(movable);

		scenario pinned = movable;
		pinned.name = "pinned";
		pinned.doc = "sanity: one unmovable page pinned in every pageblock, then the all-movable churn (order 9 never "
			     "succeeds although half the memory is free)";
		pinned.w.pin_per_pageblock = true;
		v.push_back(pinned);
		return v;
	}();
	return all;
}

const scenario *find_scenario(const std::string &name)
{
	for (const scenario &s : scenarios())
		if (s.name == name)
			return &s;
	return nullptr;
}

interval mean_ci(const std::vector<double> &xs)
{
	interval r;
	r.n = xs.size();
	if (xs.empty())
		return r;
	double sum = 0;
	for (double x : xs)
		sum += x;
	r.mean = sum / double(xs.size());
	if (xs.size() < 2)
		return r;
	double ss = 0;
	for (double x : xs)
		ss += (x - r.mean) * (x - r.mean);
	const double sd = std::sqrt(ss / double(xs.size() - 1));
	// Student's t, two-sided 95%, by degrees of freedom.
	static const double t95[] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
				     2.201, 2.179,  2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
	const size_t df = xs.size() - 1;
	const double t = df < std::size(t95) ? t95[df] : 1.96;
	r.half = t * sd / std::sqrt(double(xs.size()));
	return r;
}

} // namespace bc::frag
