// What the semantics tests share (semantics_config_test.cpp,
// semantics_memmap_test.cpp, semantics_free_family_test.cpp,
// semantics_free_test.cpp, semantics_alloc_test.cpp,
// semantics_vmalloc_test.cpp): one test per behaviour row of
// reference/README.md (Rows, sections 1-5), split along the model's files;
// the test suite names the section, the test names the row.  Every scenario
// ends with the model's invariants (check_all, and the canonical form after
// a drain), so a row's test also fails when the state it leaves is corrupt.
//
// Ledger rule: the ledger records what the caller knows.  Before a test
// hands pages to a free-family function it clears LEDGER_ALLOCATED for
// them (hand_back), as the trace executor in replay.cpp does, except for
// pages whose refcount stays above zero.
#pragma once

#include "buddycheck/chunk.hpp"
#include "buddycheck/config.hpp"
#include "buddycheck/free_family.hpp"
#include "buddycheck/invariants.hpp"
#include "buddycheck/model.hpp"
#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"
#include "buddycheck/trace.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace semantics {

using namespace bc;

// ------------------------------------------------------------------ helpers

inline config make_cfg(const char *name = "small", memmap_model mm = memmap_model::sparse)
{
	config c = *preset(name);
	c.memmap = mm;
	return c;
}

// A model that kernel-style code operates on: current() and the active free
// family point at it while a test drives it.
struct world {
	std::unique_ptr<Model> owned;
	Model &m;
	explicit world(const config &c, const free_family &f = reference_family()) : owned(make(c)), m(*owned) { activate(f); }
	void activate(const free_family &f = reference_family())
	{
		set_current(&m);
		set_active_family(&f);
	}
	static std::unique_ptr<Model> make(const config &c)
	{
		if (auto e = validate(c))
			throw std::runtime_error("configuration refused: " + *e);
		return std::make_unique<Model>(c);
	}
};

// Findings and broken invariants, empty when the state is consistent.
inline std::string problems(const Model &m, long nr_vmalloc = 0)
{
	std::string s;
	for (const finding &f : m.findings)
		s += "finding " + f.invariant + ": " + f.message + "\n";
	if (auto v = check_all(m, nr_vmalloc))
		s += v->invariant + ": " + v->message + "\n";
	return s;
}

// The same after every pcp list is drained, plus the canonical form.
inline std::string drained_problems(Model &m, long nr_vmalloc = 0)
{
	m.drain_all_pages();
	std::string s = problems(m, nr_vmalloc);
	if (auto v = check_canonical_form(m))
		s += v->invariant + ": " + v->message + "\n";
	return s;
}

inline std::string diff(const Model &a, const Model &b)
{
	auto v = diff_states(a, b);
	return v ? v->invariant + ": " + v->message : "";
}

// alloc_contig_range() gives the excess back through __free_contig_frozen_range().
inline void free_excess(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

// Exactly the pfns [start, start + n), order-0 pages (refcount 1, or frozen).
inline bool take(Model &m, uint64_t start, uint64_t n, bool frozen)
{
	return m.alloc_contig_range(start, start + n, frozen, free_excess);
}

inline void hand_back(Model &m, uint64_t pfn, uint64_t n = 1)
{
	for (uint64_t i = 0; i < n; i++)
		m.ledger_clear(pfn + i, LEDGER_ALLOCATED);
}

inline uint64_t pfn_of(const Model &m, const page *p) { return p ? m.page_to_pfn(p) : no_pfn; }

inline std::vector<page *> pages_of(const Model &m, const std::vector<uint64_t> &pfns)
{
	std::vector<page *> v;
	for (uint64_t p : pfns)
		v.push_back(m.pfn_to_page(p));
	return v;
}

inline std::vector<uint64_t> seq(uint64_t start, uint64_t n)
{
	std::vector<uint64_t> v;
	for (uint64_t i = 0; i < n; i++)
		v.push_back(start + i);
	return v;
}

// Migratetype list of the free buddy block headed at pfn.
inline unsigned list_mt(const Model &m, uint64_t pfn) { return unsigned(m.pfn_to_page(pfn)->index); }

// Where the free block covering pfn sits: BC_ON_BUDDY, BC_ON_PCP or BC_ON_NOTHING.
inline unsigned where(const Model &m, uint64_t pfn)
{
	uint64_t head;
	unsigned order;
	if (!m.free_block_of(pfn, &head, &order))
		return BC_ON_NOTHING;
	return m.pfn_to_page(head)->bc_where;
}

inline bool is_free(const Model &m, uint64_t pfn) { return m.free_block_of(pfn, nullptr, nullptr); }

// Presets "small": zones DMA [0, 0x83) and Normal [0x83, 0x400).
inline constexpr int DMA = 0, NORMAL = 1;
inline long pcp_count(const Model &m, int zone_idx = NORMAL, unsigned cpu = 0)
{
	return m.zones()[size_t(zone_idx)].pcp[cpu].count;
}

// A free family that records what the reference does and forwards to it,
// so tests see the runs, the common calls and NR_VMALLOC at the bulk free.
struct call {
	uint64_t pfn;
	unsigned long nr;
	bool frozen;
	bool operator==(const call &) const = default;
};
inline std::ostream &operator<<(std::ostream &o, const call &c)
{
	return o << "{0x" << std::hex << c.pfn << std::dec << ", " << c.nr << (c.frozen ? ", frozen}" : "}");
}

inline std::vector<call> g_runs;   // free_prepared_contig_range(page, nr)
inline std::vector<call> g_common; // __free_contig_range_common(pfn, nr, is_frozen)
inline long g_nr_vmalloc_at_bulk = -1;

inline void reset_recorder()
{
	g_runs.clear();
	g_common.clear();
	g_nr_vmalloc_at_bulk = -1;
}

inline void rec_prepared(page *p, unsigned long nr)
{
	g_runs.push_back({current().page_to_pfn(p), nr, true});
	reference_family().free_prepared_contig_range(p, nr);
}

inline void rec_common(unsigned long pfn, unsigned long nr, bool frozen)
{
	g_common.push_back({pfn, nr, frozen});
	reference_family().free_contig_range_common(pfn, nr, frozen);
}

inline void rec_bulk(page **pages, unsigned long nr)
{
	g_nr_vmalloc_at_bulk = current().nr_vmalloc;
	reference_family().free_pages_bulk(pages, nr);
}

inline const free_family &recording_family()
{
	static const free_family f = [] {
		free_family r = reference_family();
		r.name = "recording";
		r.free_prepared_contig_range = rec_prepared;
		r.free_contig_range_common = rec_common;
		r.free_pages_bulk = rec_bulk;
		return r;
	}();
	return f;
}

} // namespace semantics
