// The replay engine's pieces, private to reference/trace: one engine (a
// model, the trace's live handles, the results of its last operation), the
// operations run on it (perform.cpp), and the checks and comparison of the
// two engines (compare.cpp) that lockstep (replay.cpp) runs after each one.
#pragma once

#include "buddycheck/format.hpp"
#include "buddycheck/replay.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace bc::detail {

// A precondition of the trace does not hold: bad input, not a finding.
struct bad_input {
	std::string message;
};

enum class handle_kind : uint8_t { pages, contig, vmalloc };

struct handle {
	std::string name;
	handle_kind kind = handle_kind::pages;
	std::vector<uint64_t> pfns; // in allocation order (vm->pages[] for vmalloc)
	unsigned order = 0;
	bool compound = false, frozen = false, split = false;
	uint64_t live = 0;
	// order-0 granular: every page can be freed on its own
	bool granular() const { return kind != handle_kind::pages || split || order == 0; }
};

struct engine {
	std::string role;
	const free_family *fam;
	std::unique_ptr<Model> m;
	// handles[0, nr_handles) are this history's; the slots past it keep
	// their vectors' memory for the next history (fuzzers reset often).
	std::vector<handle> handles;
	size_t nr_handles = 0;
	std::vector<int32_t> owner; // pfn -> handle index, -1
	std::vector<size_t> live;    // indices of handles with pages left, in creation order
	std::vector<std::pair<std::string, int>> failed_at; // handle -> line of its failed allocation
	// Scratch arrays of one operation, reused (no allocation per operation).
	std::vector<uint64_t> scratch_pfns, scratch_arr;
	std::vector<page *> scratch_pages;

	// [start, start + n) into v.  Element by element: fuzz builds keep
	// copies of pfn arrays off the sanitizer's memcpy/memset interceptors,
	// which check every range they are handed.
	static std::vector<uint64_t> &fill_range(std::vector<uint64_t> &v, uint64_t start, uint64_t n)
	{
		v.resize(n);
		for (uint64_t i = 0; i < n; i++)
			v[i] = start + i;
		return v;
	}
	std::vector<uint64_t> &pfn_range(uint64_t start, uint64_t n) { return fill_range(scratch_pfns, start, n); }
	long vmalloc_pages = 0;
	// results of the last operation, compared across engines
	bool alloc_failed = false;
	const handle *allocated = nullptr; // the handle the last operation allocated
	std::vector<unsigned> free_log;
	size_t warnings_before = 0;
	std::vector<std::pair<uint64_t, uint64_t>> op_ranges;

	engine(std::string r, const free_family *f, const config &c);
	void reset(const config &c);

	void activate()
	{
		set_current(m.get());
		set_active_family(fam);
	}

	// Two sequences compared by hand: == on std::string and std::vector
	// calls memcmp, which the sanitizer runtime and libFuzzer intercept on
	// every call.
	template <class Seq> static bool same_elements(const Seq &a, const Seq &b)
	{
		if (a.size() != b.size())
			return false;
		for (size_t i = 0; i < a.size(); i++)
			if (a[i] != b[i])
				return false;
		return true;
	}

	// And copied by hand, for the same reason (memcpy).
	template <class Dst, class Src> static void copy_elements(Dst &to, const Src &from)
	{
		to.resize(from.size());
		for (size_t i = 0; i < from.size(); i++)
			to[i] = from[i];
	}

	// Live handles are few: a scan beats a map (no allocation per handle).
	handle *find_live(const std::string &name)
	{
		for (size_t idx : live)
			if (same_elements(handles[idx].name, name))
				return &handles[idx];
		return nullptr;
	}

	// The live handle named so, else bad input (why it does not exist).
	handle &get(const std::string &name);

	// A new handle in a reused slot (its arrays keep their memory); fill
	// writes its pfns.  The name is copied by hand (copy_elements).
	template <class Fill> handle &add(const std::string &name, handle_kind k, Fill fill)
	{
		if (find_live(name))
			throw bad_input{"handle '" + name + "' already exists"};
		if (nr_handles == handles.size())
			handles.emplace_back();
		const size_t idx = nr_handles++;
		handle &h = handles[idx];
		copy_elements(h.name, name);
		h.kind = k;
		h.order = 0;
		h.compound = h.frozen = h.split = false;
		h.pfns.clear();
		fill(h.pfns);
		h.live = h.pfns.size();
		live.push_back(idx);
		for (uint64_t p : h.pfns)
			owner[p] = int32_t(idx);
		allocated = &h;
		return h;
	}

	uint64_t first_allocated() const { return allocated && !allocated->pfns.empty() ? allocated->pfns.front() : no_pfn; }

	// The last operation allocated the same pfns on both engines.
	static bool same_allocation(const engine &a, const engine &b)
	{
		if (!a.allocated || !b.allocated)
			return !a.allocated && !b.allocated;
		return same_elements(a.allocated->pfns, b.allocated->pfns);
	}

	// The pfn leaves the caller's hands: the ledger and the handle forget it.
	void release(uint64_t pfn)
	{
		m->ledger_clear(pfn, LEDGER_ALLOCATED);
		int32_t hi = owner[pfn];
		owner[pfn] = -1;
		if (hi >= 0) {
			handle &h = handles[size_t(hi)];
			if (--h.live == 0) {
				live.erase(std::find(live.begin(), live.end(), size_t(hi)));
			}
		}
	}

	handle *owner_of(uint64_t pfn) { return owner[pfn] >= 0 ? &handles[size_t(owner[pfn])] : nullptr; }

	void require_allocated(uint64_t pfn)
	{
		if (!(m->ledger(pfn) & LEDGER_ALLOCATED))
			throw bad_input{"pfn " + hex(pfn) + " is not allocated (" + describe_pfn(*m, pfn) + ")"};
	}

	// A page the trace frees on its own (order-0 granular).
	void require_granular(uint64_t pfn, bool frozen);
	// The model's scope (and this operation's ranges to check): the pfns given.
	void set_scope(std::span<const uint64_t> given);
	// PFN COUNT, or the whole area of handle H.
	void range_of(const op &o, uint64_t &pfn, uint64_t &count);
	// H's pfns in the order the operation asks for.
	const std::vector<uint64_t> &array_of(const handle &h, const op &o);
	void free_array(const std::vector<uint64_t> &pfns);

	// One operation on this engine: run() resets the per-operation results
	// and catches the model's stop; perform() dispatches to the operation.
	void run(const op &o);
	void perform(const op &o);

	// The operations (perform.cpp), one function each.
	void do_alloc(const op &o);
	void do_split(const op &o);
	void do_free_whole(const op &o);
	void do_free_page(const op &o);
	void do_get(const op &o);
	void do_free_contig(const op &o);
	void do_free_pages_bulk(const op &o);
	void do_alloc_contig(const op &o);
	void do_cma_release(const op &o);
	void do_vmalloc(const op &o);
	void do_vfree(const op &o);
	void do_poison(const op &o);
};

struct failure {
	std::string engine, invariant, message;
	uint64_t pfn = no_pfn;
	const Model *model = nullptr;
};
// Checks after one operation, in proportion to what it touched.
std::optional<failure> check_after_op(engine &e, bool full);
// Drain, then the full checks of a drained engine.
std::optional<failure> drained_check(engine &e, bool full = true);
// The two engines' results of the same operation differ (allocation, WARNs).
std::optional<failure> compare_results(const engine &oracle, const engine &batched);
// An `expect` line does not hold after the previous operation.
std::optional<failure> check_expectation(const op &o, engine &oracle, engine &batched);

} // namespace bc::detail
