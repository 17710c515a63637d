#include "buddycheck/config.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <unordered_set>

namespace bc {

const char *memmap_name(memmap_model m)
{
	switch (m) {
	case memmap_model::flat:
		return "flat";
	case memmap_model::vmemmap:
		return "vmemmap";
	case memmap_model::sparse:
		return "sparse";
	case memmap_model::sparse_hotplug:
		return "sparse-hotplug";
	}
	return "?";
}

const char *memmap_kernel_layout(memmap_model m)
{
	switch (m) {
	case memmap_model::flat:
		return "FLATMEM: one memmap array";
	case memmap_model::vmemmap:
		return "SPARSEMEM_VMEMMAP: one virtual memmap, holes unmapped";
	case memmap_model::sparse:
		return "SPARSEMEM boot memory: one memmap buffer per node, present sections packed (sparse_init_nid)";
	case memmap_model::sparse_hotplug:
		return "SPARSEMEM hot-added memory: one memmap allocation per section (section_activate)";
	}
	return "?";
}

const char *memmap_names_help() { return "flat, vmemmap, sparse or sparse-hotplug"; }

std::optional<memmap_model> memmap_from_name(std::string_view s)
{
	if (s == "flat" || s == "flatmem")
		return memmap_model::flat;
	if (s == "vmemmap" || s == "sparse-vmemmap")
		return memmap_model::vmemmap;
	if (s == "sparse" || s == "classic-sparse" || s == "sparse-boot")
		return memmap_model::sparse;
	if (s == "sparse-hotplug")
		return memmap_model::sparse_hotplug;
	return std::nullopt;
}

bool config::section_present(uint64_t sec) const
{
	if (sec >= nr_sections)
		return false;
	return std::find(holes.begin(), holes.end(), sec) == holes.end();
}

unsigned config::node_of_section(uint64_t sec) const
{
	unsigned nid = 0;
	while (nid < node_starts.size() && sec >= node_starts[nid])
		nid++;
	return nid;
}

const std::vector<std::string> &preset_names()
{
	static const std::vector<std::string> names = {
		"x86_64", "arm64-4k", "arm64-16k", "arm64-64k", "small", "small-64k", "tiny",
	};
	return names;
}

void default_zones(config &c)
{
	// Two zones whose boundary is deliberately not aligned to anything: a
	// block never merges across it, so the boundary is an edge worth having.
	// With nodes, that is node 0; every other node has one zone, Normal<nid>.
	uint64_t end = c.nr_pfns();
	if (!c.node_starts.empty())
		end = c.node_starts[0] << c.pfn_section_shift();
	uint64_t boundary = end / 8 + 3;
	if (boundary >= end)
		boundary = end / 2;
	c.zones = {{"DMA", 0, boundary}, {"Normal", boundary, end}};
	for (unsigned nid = 1; nid < c.nr_nodes(); nid++)
		c.zones.push_back({"Normal" + std::to_string(nid), c.node_first_section(nid) << c.pfn_section_shift(),
				   c.node_end_section(nid) << c.pfn_section_shift()});
}

void kernel_like_zones(config &c)
{
	const uint64_t end = c.nr_pfns();
	const uint64_t block = c.max_order_nr_pages();
	uint64_t boundary = (end / 8 + 3) & ~(block - 1);
	if (boundary == 0)
		boundary = block;
	if (boundary >= end - 3)
		boundary = (end / 2) & ~(block - 1);
	c.zones = {{"DMA", 0, boundary}, {"Normal", boundary, end - 3}};
}

void two_node_layout(config &c)
{
	const uint64_t pps = c.pages_per_section(), block = c.max_order_nr_pages();
	const uint64_t mid = c.nr_sections / 2;
	c.node_starts = {mid};
	c.holes.clear();
	if (mid >= 3)
		c.holes.push_back(mid - 2); // inside node 0: present sections on both sides
	const uint64_t node1 = mid * pps, end = c.nr_pfns();
	uint64_t boundary = (node1 / 2 + 3) & ~(block - 1);
	if (boundary == 0)
		boundary = block;
	c.zones.clear();
	if (boundary < node1)
		c.zones = {{"DMA", 0, boundary}, {"Normal", boundary, node1}};
	else
		c.zones = {{"DMA", 0, node1}};
	c.zones.push_back({"Normal1", node1, end - 3});
}

std::optional<config> preset(std::string_view name)
{
	config c;
	c.preset = std::string(name);
	if (name == "x86_64" || name == "arm64-4k") {
		c.page_shift = 12;
		c.max_page_order = 10;
		c.pageblock_order = 9;
		c.section_size_bits = 27;
		c.thp_order = 9;
		c.nr_sections = 4;
		c.pcp_batch = 63;
		c.pcp_high = 6 * 63;
	} else if (name == "arm64-16k") {
		c.page_shift = 14;
		c.max_page_order = 11;
		c.pageblock_order = 11;
		c.section_size_bits = 27;
		c.thp_order = 11;
		c.nr_sections = 4;
		c.pcp_batch = 63;
		c.pcp_high = 6 * 63;
	} else if (name == "arm64-64k") {
		c.page_shift = 16;
		c.max_page_order = 13;
		c.pageblock_order = 13;
		c.section_size_bits = 29;
		c.thp_order = 13;
		c.nr_sections = 4;
		c.pcp_batch = 63;
		c.pcp_high = 6 * 63;
	} else if (name == "small") {
		// Scaled x86_64 shape: a section (128 pages) is larger than a
		// MAX_PAGE_ORDER block (32 pages).
		c.page_shift = 12;
		c.max_page_order = 5;
		c.pageblock_order = 4;
		c.section_size_bits = 19;
		c.thp_order = -1;
		c.nr_sections = 8;
		c.pcp_batch = 8;
		c.pcp_high = 32;
	} else if (name == "small-64k") {
		// Scaled arm64-64k shape: a section is exactly one MAX_PAGE_ORDER
		// block, so section splitting alone bounds every chunk.
		c.page_shift = 16;
		c.max_page_order = 5;
		c.pageblock_order = 5;
		c.section_size_bits = 21;
		c.thp_order = 5;
		c.nr_sections = 8;
		c.pcp_batch = 8;
		c.pcp_high = 32;
	} else if (name == "tiny") {
		// Smallest useful shape for exhaustive tests: 16-page sections,
		// MAX_PAGE_ORDER 3.
		c.page_shift = 12;
		c.max_page_order = 3;
		c.pageblock_order = 2;
		c.section_size_bits = 16;
		c.thp_order = -1;
		c.nr_sections = 4;
		c.pcp_batch = 4;
		c.pcp_high = 12;
	} else {
		return std::nullopt;
	}
	default_zones(c);
	return c;
}

bool same_memmap_shape(const config &a, const config &b)
{
	return a.memmap == b.memmap && a.nr_sections == b.nr_sections && a.pfn_section_shift() == b.pfn_section_shift() &&
	       a.holes == b.holes && a.node_starts == b.node_starts &&
	       (a.memmap != memmap_model::sparse || a.hotplug == b.hotplug);
}

const config *preset_ref(std::string_view name)
{
	// Built once: parsers and decoders ask for a preset on every input.
	static const std::vector<config> all = [] {
		std::vector<config> v;
		for (const auto &n : preset_names())
			v.push_back(*preset(n));
		return v;
	}();
	for (const config &c : all)
		if (c.preset == name)
			return &c;
	return nullptr;
}

static std::string fmt(const char *f, auto... args)
{
	char buf[512];
	std::snprintf(buf, sizeof buf, f, args...);
	return buf;
}

std::optional<std::string> validate(const config &c)
{
	using ull = unsigned long long;
	if (c.page_shift < 1 || c.page_shift > 24)
		return fmt("PAGE_SHIFT %u is out of range (1..24)", c.page_shift);
	if (c.max_page_order > 15)
		return fmt("MAX_PAGE_ORDER %u is out of range (0..15)", c.max_page_order);
	if (c.section_size_bits >= 48)
		return fmt("SECTION_SIZE_BITS %u is out of range (< 48)", c.section_size_bits);
	if (c.section_size_bits <= c.page_shift)
		return fmt("SECTION_SIZE_BITS %u must exceed PAGE_SHIFT %u", c.section_size_bits, c.page_shift);
	if (c.max_page_order + c.page_shift > c.section_size_bits)
		return fmt("MAX_PAGE_ORDER + PAGE_SHIFT (%u + %u = %u) exceeds SECTION_SIZE_BITS (%u): "
			   "the kernel refuses this at build time (\"Allocator MAX_PAGE_ORDER exceeds SECTION_SIZE\")",
			   c.max_page_order, c.page_shift, c.max_page_order + c.page_shift, c.section_size_bits);
	if (c.pageblock_order > c.max_page_order)
		return fmt("pageblock_order %u exceeds MAX_PAGE_ORDER %u: the kernel refuses this at build time",
			   c.pageblock_order, c.max_page_order);
	if (c.thp_order > int(c.max_page_order))
		return fmt("THP order %d exceeds MAX_PAGE_ORDER %u", c.thp_order, c.max_page_order);
	if (c.thp_order < -1)
		return fmt("THP order %d is invalid (use -1 for no THP)", c.thp_order);
	if (c.nr_sections < 1 || c.nr_sections > (1u << 20))
		return fmt("number of sections %llu is out of range (1..%u)", ull(c.nr_sections), 1u << 20);
	if (c.pfn_section_shift() > 40 || c.nr_pfns() > max_model_pfns)
		return fmt("%llu sections of 2^%u pages exceed the model's limit of %llu pages",
			   ull(c.nr_sections), c.pfn_section_shift(), ull(max_model_pfns));
	// Pairwise for a few holes (no allocation: a fuzzer validates every
	// input), a set for the thousands a trace may list.
	std::unordered_set<uint64_t> seen_holes;
	for (size_t i = 0; i < c.holes.size(); i++) {
		if (c.holes[i] >= c.nr_sections)
			return fmt("hole section %llu is beyond the last section %llu", ull(c.holes[i]),
				   ull(c.nr_sections - 1));
		const bool twice = c.holes.size() <= 16 ? std::find(c.holes.begin(), c.holes.begin() + long(i), c.holes[i]) !=
								      c.holes.begin() + long(i)
							: !seen_holes.insert(c.holes[i]).second;
		if (twice)
			return fmt("hole section %llu is listed twice", ull(c.holes[i]));
	}
	if (c.holes.size() >= c.nr_sections)
		return std::string("every section is a hole: no memory present");
	if (c.node_starts.size() > 7)
		return fmt("%zu nodes configured; the model supports at most 8", c.node_starts.size() + 1);
	for (size_t i = 0; i < c.node_starts.size(); i++) {
		const uint64_t s = c.node_starts[i], prev = i ? c.node_starts[i - 1] : 0;
		if (s <= prev || s >= c.nr_sections)
			return fmt("node %zu starts at section %llu: node starts must ascend from section 1 and lie below "
				   "section %llu",
				   i + 1, ull(s), ull(c.nr_sections));
	}
	if (c.hotplug > 1024)
		return fmt("hotplug %u is out of range (0..1024)", c.hotplug);
	if (c.zones.empty())
		return std::string("no zone configured");
	if (c.zones.size() > 4)
		return fmt("%zu zones configured; the model supports at most 4", c.zones.size());
	for (size_t i = 0; i < c.zones.size(); i++) {
		const auto &z = c.zones[i];
		if (z.name.empty())
			return fmt("zone %zu has no name", i);
		if (z.start_pfn >= z.end_pfn)
			return fmt("zone %s is empty or inverted (0x%llx-0x%llx)", z.name.c_str(), ull(z.start_pfn),
				   ull(z.end_pfn));
		if (z.end_pfn > c.nr_pfns())
			return fmt("zone %s ends at pfn 0x%llx, beyond the last pfn 0x%llx", z.name.c_str(),
				   ull(z.end_pfn), ull(c.nr_pfns() - 1));
		if (i > 0 && z.start_pfn < c.zones[i - 1].end_pfn)
			return fmt("zone %s overlaps or precedes zone %s (zones must be sorted and disjoint)",
				   z.name.c_str(), c.zones[i - 1].name.c_str());
		if (c.node_of_pfn(z.start_pfn) != c.node_of_pfn(z.end_pfn - 1))
			return fmt("zone %s (0x%llx-0x%llx) spans nodes %u and %u: a zone lies in one node", z.name.c_str(),
				   ull(z.start_pfn), ull(z.end_pfn), c.node_of_pfn(z.start_pfn), c.node_of_pfn(z.end_pfn - 1));
		for (size_t j = 0; j < i; j++)
			if (c.zones[j].name == z.name)
				return fmt("zone name %s is used twice", z.name.c_str());
	}
	if (c.nr_cpus < 1 || c.nr_cpus > 8)
		return fmt("cpus %u is out of range (1..8)", c.nr_cpus);
	if (c.pcp_batch < 1)
		return std::string("pcp batch must be at least 1");
	if (c.pcp_high < c.pcp_batch)
		return fmt("pcp high %u is below pcp batch %u", c.pcp_high, c.pcp_batch);
	auto check_pb_ranges = [&](const std::vector<pfn_range> &v, const char *what) -> std::optional<std::string> {
		for (const auto &r : v) {
			uint64_t pb = c.pageblock_nr_pages();
			if (r.start >= r.end || r.end > c.nr_pfns())
				return fmt("%s range 0x%llx-0x%llx is empty or beyond the last pfn", what, ull(r.start),
					   ull(r.end));
			if (r.start % pb || r.end % pb)
				return fmt("%s range 0x%llx-0x%llx is not aligned to pageblocks of %llu pages", what,
					   ull(r.start), ull(r.end), ull(pb));
		}
		return std::nullopt;
	};
	if (auto e = check_pb_ranges(c.cma, "cma"))
		return e;
	if (auto e = check_pb_ranges(c.unmovable, "unmovable"))
		return e;
	return std::nullopt;
}

std::string describe(const config &c)
{
	std::ostringstream o;
	o << "preset=" << c.preset << " memmap=" << memmap_name(c.memmap) << " PAGE_SHIFT=" << c.page_shift
	  << " MAX_PAGE_ORDER=" << c.max_page_order << " pageblock_order=" << c.pageblock_order
	  << " SECTION_SIZE_BITS=" << c.section_size_bits << " sections=" << c.nr_sections;
	if (!c.holes.empty()) {
		o << " holes=";
		for (size_t i = 0; i < c.holes.size(); i++)
			o << (i ? "," : "") << c.holes[i];
	}
	if (!c.node_starts.empty()) {
		o << " nodes=0";
		for (auto n : c.node_starts)
			o << "," << n;
	}
	if (c.hotplug && c.memmap == memmap_model::sparse)
		o << " hotplug=" << c.hotplug;
	for (const auto &z : c.zones)
		o << " zone=" << z.name << ":0x" << std::hex << z.start_pfn << "-0x" << z.end_pfn << std::dec;
	return o.str();
}

} // namespace bc
