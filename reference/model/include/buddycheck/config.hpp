// Runtime configuration of the reference model: the kernel's build-time
// constants (PAGE_SHIFT, MAX_PAGE_ORDER, ...) become values checked against
// the kernel's own build rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bc {

// Which struct page layout the memmap has (reference/README.md, rows 1).
enum class memmap_model : uint8_t {
	flat,           // FLATMEM: one contiguous memmap, section number not in flags
	vmemmap,        // SPARSEMEM_VMEMMAP: virtually contiguous, section not in flags
	sparse,         // classic SPARSEMEM, boot memory (sparse_init_nid()): one buffer per
			// node, its present sections' memmaps packed in pfn order
	sparse_hotplug, // classic SPARSEMEM, hot-added memory (section_activate()):
			// one allocation per present section
};
// Every memory model, in the order of `check`'s columns.
constexpr memmap_model all_memmaps[] = {memmap_model::flat, memmap_model::vmemmap, memmap_model::sparse,
					memmap_model::sparse_hotplug};
const char *memmap_name(memmap_model m);
// The kernel configuration and memmap layout a model stands for (one line,
// for table headers and --help).
const char *memmap_kernel_layout(memmap_model m);
std::optional<memmap_model> memmap_from_name(std::string_view s);
// The "known:" list of an error message.
const char *memmap_names_help();
// Classic SPARSEMEM (either layout): the section number is in page->flags.
constexpr bool classic_sparse(memmap_model m) { return m == memmap_model::sparse || m == memmap_model::sparse_hotplug; }

// How an allocation picks its block.  `canonical` makes allocation a function
// of the free pfn set only, so two engines that agree on it allocate the same
// pages; `kernel` follows the kernel (pcp list head, free list head).
enum class alloc_policy : uint8_t { canonical, kernel };

struct pfn_range {
	uint64_t start = 0, end = 0; // [start, end)
};

struct zone_config {
	std::string name;
	uint64_t start_pfn = 0, end_pfn = 0; // spanned [start, end)
};

struct config {
	std::string preset = "small";
	unsigned page_shift = 12;
	unsigned max_page_order = 5;
	unsigned pageblock_order = 4;
	unsigned section_size_bits = 19;
	int thp_order = -1; // HPAGE_PMD_ORDER when THP is configured, else -1
	memmap_model memmap = memmap_model::sparse;
	uint64_t nr_sections = 8;
	std::vector<uint64_t> holes; // section numbers that are not present
	// NUMA nodes: the first section of each node after node 0, ascending
	// (empty: one node).  A node is whole sections with its own zones and,
	// under `sparse`, its own memmap buffer.
	std::vector<uint64_t> node_starts;
	// Under `sparse`: the last `hotplug` present sections of every node are
	// hot-added (own memmap allocation) instead of in the node's boot buffer;
	// also what the kernel does when the boot buffer runs out.
	unsigned hotplug = 0;
	std::vector<zone_config> zones;
	unsigned nr_cpus = 2;
	unsigned pcp_high = 32;
	unsigned pcp_batch = 8;
	bool page_checks = true; // bad-page checks in free_pages_prepare()
	std::vector<pfn_range> cma;       // pageblocks of MIGRATE_CMA
	std::vector<pfn_range> unmovable; // pageblocks of MIGRATE_UNMOVABLE
	alloc_policy alloc = alloc_policy::canonical;

	unsigned pfn_section_shift() const { return section_size_bits - page_shift; }
	uint64_t pages_per_section() const { return uint64_t(1) << pfn_section_shift(); }
	uint64_t nr_pfns() const { return nr_sections << pfn_section_shift(); }
	uint64_t pageblock_nr_pages() const { return uint64_t(1) << pageblock_order; }
	uint64_t max_order_nr_pages() const { return uint64_t(1) << max_page_order; }
	bool section_present(uint64_t sec) const;
	unsigned nr_nodes() const { return unsigned(node_starts.size()) + 1; }
	unsigned node_of_section(uint64_t sec) const;
	unsigned node_of_pfn(uint64_t pfn) const { return node_of_section(pfn >> pfn_section_shift()); }
	// [first, end) sections of node nid.
	uint64_t node_first_section(unsigned nid) const { return nid ? node_starts[nid - 1] : 0; }
	uint64_t node_end_section(unsigned nid) const { return nid < node_starts.size() ? node_starts[nid] : nr_sections; }
};

// Largest model this tool builds (struct page is ~80 bytes).
constexpr uint64_t max_model_pfns = uint64_t(1) << 22;

// Names of the presets: the four kernel ones (x86_64, arm64-4k/16k/64k) and the
// scaled-down ones for fuzzing.
const std::vector<std::string> &preset_names();
// A preset with its default layout (sections, zones, pcp sizes).  nullopt for
// an unknown name.
std::optional<config> preset(std::string_view name);
// A preset built once and kept (nullptr for an unknown name): for code that
// asks on every input.
const config *preset_ref(std::string_view name);
// Same memory model, sections and holes: one memmap serves both (a model
// resets to the other without reallocating).
bool same_memmap_shape(const config &a, const config &b);
// Re-derive the default zones of a configuration after its section count or
// holes changed (two zones with an unaligned boundary).
void default_zones(config &c);

// Zones as the kernel lays them out in practice: the boundary *between*
// zones is aligned to MAX_PAGE_ORDER (x86 DMA/DMA32 limits, ZONE_MOVABLE is
// rounded up to MAX_ORDER_NR_PAGES), while the outer edges need not be (here
// the last zone ends 3 pages short of the last section).  Campaigns use it:
// the free family assumes no contiguous run of pages spans two zones, which
// an unaligned inner boundary breaks (see README.md, findings).
void kernel_like_zones(config &c);

// Two NUMA nodes as a campaign and the fuzzers build them: the node
// boundary at the middle section, a hole inside node 0 (when it has three
// sections or more), node 0 with DMA and Normal (inner boundary aligned to
// MAX_PAGE_ORDER), node 1 with Normal1 ending 3 pfns short.  Needs >= 2
// sections.
void two_node_layout(config &c);

// nullopt when `c` obeys the kernel's build rules and the model's limits;
// otherwise the one-line reason it is refused.
std::optional<std::string> validate(const config &c);

// One line describing the configuration (used in reports and traces).
std::string describe(const config &c);

} // namespace bc
