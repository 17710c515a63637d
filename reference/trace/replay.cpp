#include "buddycheck/replay.hpp"
#include "buddycheck/report.hpp"

#include "buddycheck/format.hpp"
#include "buddycheck/splitmix.hpp"

#include <algorithm>
#include <cstdio>
#include <memory>
#include <span>
#include <sstream>

namespace bc {

namespace {

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

void excess_free(unsigned long pfn, unsigned long nr) { active_family().free_contig_frozen_range_inner(pfn, nr); }

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

	engine(std::string r, const free_family *f, const config &c) : role(std::move(r)), fam(f), m(std::make_unique<Model>(c))
	{
		owner.assign(m->nr_pfns(), -1);
		// The first finding stops the operation (run() catches the stop):
		// code under test that loops past its range ends there.
		m->stop_at_first_finding = true;
	}

	void reset(const config &c)
	{
		m->reset(c);
		nr_handles = 0;
		live.clear();
		failed_at.clear();
		owner.assign(m->nr_pfns(), -1);
		vmalloc_pages = 0;
		alloc_failed = false;
		allocated = nullptr;
		free_log.clear();
		warnings_before = 0;
		op_ranges.clear();
	}

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

	handle &get(const std::string &name)
	{
		handle *found = find_live(name);
		if (!found) {
			for (auto f = failed_at.rbegin(); f != failed_at.rend(); ++f)
				if (f->first == name)
					throw bad_input{"handle '" + name + "' does not exist: its allocation at line " + std::to_string(f->second) +
							" failed (add 'expect fail' after it to document that)"};
			throw bad_input{"handle '" + name + "' does not exist (never allocated, or all its pages were freed)"};
		}
		return *found;
	}

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
	void require_granular(uint64_t pfn, bool frozen)
	{
		require_allocated(pfn);
		handle *h = owner_of(pfn);
		if (h && !h->granular())
			throw bad_input{"pfn " + hex(pfn) + " belongs to the unsplit order-" + std::to_string(h->order) +
					" allocation '" + h->name + "' (split it, or free it whole)"};
		const page *p = m->pfn_to_page(pfn);
		if (frozen && p->_refcount != 0)
			throw bad_input{"pfn " + hex(pfn) + " has refcount " + std::to_string(p->_refcount) +
					": the frozen path takes frozen pages (refcount 0)"};
		if (!frozen && p->_refcount < 1)
			throw bad_input{"pfn " + hex(pfn) + " is frozen (refcount 0): use the frozen path"};
	}

	void set_scope(std::span<const uint64_t> given)
	{
		static thread_local std::vector<uint64_t> sorted;
		std::span<const uint64_t> pfns = given;
		if (!std::is_sorted(given.begin(), given.end())) { // most arrays are: a handle's pfns in order
			copy_elements(sorted, given);
			std::sort(sorted.begin(), sorted.end());
			pfns = sorted;
		}
		m->scope.ranges.clear();
		for (uint64_t p : pfns) {
			if (!m->scope.ranges.empty() && m->scope.ranges.back().second == p)
				m->scope.ranges.back().second++;
			else
				m->scope.ranges.emplace_back(p, p + 1);
		}
		for (const auto &r : m->scope.ranges)
			op_ranges.push_back(r);
	}

	void range_of(const op &o, uint64_t &pfn, uint64_t &count)
	{
		if (!o.by_handle) {
			pfn = o.pfn;
			count = o.count;
			return;
		}
		handle &h = get(o.handle);
		if (h.kind == handle_kind::vmalloc)
			throw bad_input{"'" + h.name + "' is a vmalloc area: free it with vfree"};
		if (h.live != h.pfns.size())
			throw bad_input{"'" + h.name + "' was partly freed: name the remaining pfns"};
		pfn = h.pfns.front();
		count = h.pfns.size();
	}

	const std::vector<uint64_t> &array_of(const handle &h, const op &o)
	{
		std::vector<uint64_t> &a = scratch_arr;
		a.assign(h.pfns.begin(), h.pfns.end());
		if (o.arr == array_order::sorted)
			std::sort(a.begin(), a.end());
		else if (o.arr == array_order::reversed)
			std::reverse(a.begin(), a.end());
		else if (o.arr == array_order::shuffled) {
			uint64_t s = o.seed;
			for (size_t i = a.size(); i > 1; i--)
				std::swap(a[i - 1], a[splitmix64(s) % i]);
		}
		return a;
	}

	void free_array(const std::vector<uint64_t> &pfns)
	{
		std::vector<page *> &pages = scratch_pages;
		pages.clear();
		for (uint64_t p : pfns) {
			require_granular(p, false);
			pages.push_back(m->pfn_to_page(p));
		}
		for (uint64_t p : pfns)
			if (m->pfn_to_page(p)->_refcount == 1)
				release(p);
		set_scope(pfns);
		fam->free_pages_bulk(pages.data(), pages.size());
	}

	void run(const op &o)
	{
		Model &mm = *m;
		activate();
		if (o.kind >= op_kind::check)
			return; // checks and expectations read the previous operation's results
		mm.dirty.clear();
		mm.free_log.clear();
		mm.scope.ranges.clear();
		op_ranges.clear();
		alloc_failed = false;
		allocated = nullptr;
		struct note_failure {
			engine &e;
			const op &o;
			~note_failure()
			{
				if (e.alloc_failed)
					e.failed_at.emplace_back(o.handle, o.line);
			}
		} note{*this, o};
		warnings_before = mm.warnings.size();
		try {
			perform(o);
		} catch (const finding_stop &) {
			// The model stopped the operation at its first finding (the
			// lockstep sets stop_at_first_finding): the finding is in
			// mm.findings, and check_after_op() reports it at this
			// operation.  The model's state is left as the stop found it.
		}
		mm.scope.ranges.clear();
		free_log.swap(mm.free_log); // the model's log is cleared at the next operation
	}

	// The operation itself, on this engine's model (activated).
	void perform(const op &o)
	{
		Model &mm = *m;
		switch (o.kind) {
		case op_kind::alloc: {
			if (find_live(o.handle))
				throw bad_input{"handle '" + o.handle + "' already exists"};
			page *p = mm.alloc_pages(o.order, o.mt, o.zone, o.compound, o.frozen);
			if (!p) {
				alloc_failed = true;
				break;
			}
			const uint64_t pfn = mm.page_to_pfn(p);
			handle &h = add(o.handle, handle_kind::pages, [&](auto &v) { fill_range(v, pfn, uint64_t(1) << o.order); });
			h.order = o.order;
			h.compound = o.compound && o.order > 0;
			h.frozen = o.frozen;
			break;
		}
		case op_kind::split: {
			handle &h = get(o.handle);
			if (h.kind != handle_kind::pages || h.split || h.order == 0)
				throw bad_input{"split needs an unsplit allocation of order > 0; '" + h.name + "' is not one"};
			if (h.compound)
				throw bad_input{"split_page() of compound page '" + h.name + "' (the kernel would BUG)"};
			if (h.frozen)
				throw bad_input{"split_page() of frozen allocation '" + h.name + "'"};
			mm.split_page(mm.pfn_to_page(h.pfns[0]), h.order);
			h.split = true;
			break;
		}
		case op_kind::free_pages:
		case op_kind::free_frozen: {
			handle &h = get(o.handle);
			if (h.kind != handle_kind::pages || (h.split && h.order > 0))
				throw bad_input{"'" + h.name + "' is not a whole allocation (split or contig): free its pages instead"};
			if (h.live != h.pfns.size())
				throw bad_input{"'" + h.name + "' was partly freed"};
			page *head = mm.pfn_to_page(h.pfns[0]);
			const bool frozen = o.kind == op_kind::free_frozen;
			if (frozen != (head->_refcount == 0))
				throw bad_input{"'" + h.name + "' has refcount " + std::to_string(head->_refcount) + ": use " +
						(frozen ? "free_pages" : "free_frozen")};
			std::vector<uint64_t> &pfns = scratch_pfns;
			pfns.assign(h.pfns.begin(), h.pfns.end());
			if (frozen || head->_refcount == 1) {
				for (uint64_t p : pfns)
					release(p);
			} else if (!h.compound) {
				for (size_t i = 1; i < pfns.size(); i++)
					release(pfns[i]); // another reference keeps the first page
			}
			set_scope(pfns);
			if (frozen)
				mm.free_frozen_pages(head, h.order);
			else
				mm.__free_pages(head, h.order);
			break;
		}
		case op_kind::free_page: {
			require_granular(o.pfn, false);
			if (mm.pfn_to_page(o.pfn)->_refcount == 1)
				release(o.pfn);
			set_scope({&o.pfn, 1});
			mm.__free_pages(mm.pfn_to_page(o.pfn), 0);
			break;
		}
		case op_kind::get: {
			require_allocated(o.pfn);
			page *p = mm.pfn_to_page(o.pfn);
			if (p->_refcount < 1)
				throw bad_input{"get on pfn " + hex(o.pfn) + " with refcount 0 (frozen or a tail page)"};
			p->_refcount++;
			mm.touch(o.pfn, 1);
			break;
		}
		case op_kind::free_contig_range:
		case op_kind::free_contig_range_inner:
		case op_kind::free_contig_frozen_inner:
		case op_kind::free_contig_frozen_range: {
			uint64_t pfn, count;
			range_of(o, pfn, count);
			const bool frozen = o.kind == op_kind::free_contig_frozen_inner || o.kind == op_kind::free_contig_frozen_range;
			for (uint64_t p = pfn; p < pfn + count; p++)
				require_allocated(p);
			handle *h = owner_of(pfn);
			std::vector<uint64_t> &pfns = pfn_range(pfn, count);
			const bool head = h && h->compound && h->pfns[0] == pfn;
			if (head && o.kind == op_kind::free_contig_range) {
				// free_contig_range() refuses a compound head: nothing is freed.
			} else if (head && o.kind == op_kind::free_contig_frozen_range) {
				if (count != h->pfns.size() || !h->frozen)
					throw bad_input{"free_contig_frozen_range of compound '" + h->name + "' needs its " +
							std::to_string(h->pfns.size()) + " frozen pages exactly"};
				for (uint64_t p : pfns)
					release(p);
			} else {
				for (uint64_t p : pfns) {
					handle *ph = owner_of(p);
					if (ph && ph->compound)
						throw bad_input{"range contains pfn " + hex(p) + " of compound page '" + ph->name +
								"' (a caller error in the kernel)"};
					require_granular(p, frozen);
				}
				for (uint64_t p : pfns)
					if (frozen || mm.pfn_to_page(p)->_refcount == 1)
						release(p);
			}
			set_scope(pfns);
			switch (o.kind) {
			case op_kind::free_contig_range:
				fam->free_contig_range(pfn, count);
				break;
			case op_kind::free_contig_range_inner:
				fam->free_contig_range_inner(pfn, count);
				break;
			case op_kind::free_contig_frozen_inner:
				fam->free_contig_frozen_range_inner(pfn, count);
				break;
			default:
				fam->free_contig_frozen_range(pfn, count);
				break;
			}
			break;
		}
		case op_kind::free_pages_bulk: {
			if (o.by_handle) {
				handle &h = get(o.handle);
				if (h.live != h.pfns.size())
					throw bad_input{"'" + h.name + "' was partly freed"};
				free_array(array_of(h, o));
			} else {
				free_array(o.pfns);
			}
			break;
		}
		case op_kind::alloc_contig: {
			if (find_live(o.handle))
				throw bad_input{"handle '" + o.handle + "' already exists"};
			mm.free_log.clear();
			if (!mm.alloc_contig_range(o.pfn, o.pfn + o.count, o.frozen, excess_free)) {
				alloc_failed = true;
				break;
			}
			handle &h = add(o.handle, handle_kind::contig, [&](auto &v) { fill_range(v, o.pfn, o.count); });
			h.frozen = o.frozen;
			op_ranges.emplace_back(o.pfn & ~(mm.cfg().max_order_nr_pages() - 1),
					       std::min(mm.nr_pfns(), ((o.pfn + o.count) | (mm.cfg().max_order_nr_pages() - 1)) + 1));
			break;
		}
		case op_kind::cma_release: {
			handle &h = get(o.handle);
			if (h.kind != handle_kind::contig || !h.frozen)
				throw bad_input{"cma_release needs a frozen alloc_contig area; '" + h.name + "' is not one"};
			if (h.live != h.pfns.size())
				throw bad_input{"'" + h.name + "' was partly freed"};
			std::vector<uint64_t> &pfns = scratch_pfns;
			pfns.assign(h.pfns.begin(), h.pfns.end());
			for (uint64_t p : pfns)
				release(p);
			set_scope(pfns);
			fam->free_contig_frozen_range(pfns.front(), pfns.size());
			break;
		}
		case op_kind::vmalloc: {
			if (find_live(o.handle))
				throw bad_input{"handle '" + o.handle + "' already exists"};
			std::vector<page *> &pages = scratch_pages;
			pages.clear();
			if (!mm.vmalloc_pages(o.count, o.huge, pages)) {
				alloc_failed = true;
				break;
			}
			add(o.handle, handle_kind::vmalloc, [&](auto &v) {
				for (page *p : pages)
					v.push_back(mm.page_to_pfn(p));
			});
			vmalloc_pages += long(pages.size());
			break;
		}
		case op_kind::vfree: {
			handle &h = get(o.handle);
			if (h.kind != handle_kind::vmalloc)
				throw bad_input{"vfree needs a vmalloc area; '" + h.name + "' is not one"};
			if (h.live != h.pfns.size())
				throw bad_input{"'" + h.name + "' was partly freed"};
			const std::vector<uint64_t> &arr = array_of(h, o);
			std::vector<page *> &pages = scratch_pages;
			pages.clear();
			for (uint64_t p : arr) {
				require_granular(p, false);
				pages.push_back(mm.pfn_to_page(p));
			}
			vmalloc_pages -= long(arr.size());
			for (uint64_t p : arr)
				if (mm.pfn_to_page(p)->_refcount == 1)
					release(p);
			set_scope(arr);
			mm.vfree_pages(pages.data(), pages.size());
			break;
		}
		case op_kind::poison: {
			require_allocated(o.pfn);
			handle *h = owner_of(o.pfn);
			if (h && (!h->granular() || h->compound))
				throw bad_input{"pfn " + hex(o.pfn) + " is part of the unsplit allocation '" + h->name +
						"': the model poisons order-0 pages only"};
			mm.set_hwpoison(o.pfn);
			break;
		}
		case op_kind::make_bad:
			require_allocated(o.pfn);
			mm.make_bad(o.pfn, o.kind_arg);
			break;
		case op_kind::drain:
			if (o.all)
				mm.drain_all_pages();
			else
				mm.drain_pages(unsigned(o.count));
			break;
		case op_kind::cpu:
			mm.current_cpu = unsigned(o.count);
			break;
		default:
			break;
		}
	}
};

struct failure {
	std::string engine, invariant, message;
	uint64_t pfn = no_pfn;
	const Model *model = nullptr;
};

// Checks after one operation, in proportion to what it touched.
std::optional<failure> check_after_op(engine &e, bool full)
{
	Model &m = *e.m;
	if (!m.findings.empty()) {
		const finding &f = m.findings.front();
		return failure{e.role, f.invariant, f.message, f.pfn, &m};
	}
	static thread_local std::vector<std::pair<uint64_t, uint64_t>> r, merged;
	const uint64_t mask = m.cfg().max_order_nr_pages() - 1;
	r.clear();
	for (const auto *from : {&m.dirty, &e.op_ranges})
		for (const auto &x : *from)
			r.emplace_back(x.first & ~mask, std::min(m.nr_pfns(), (x.second + mask) & ~mask));
	if (!std::is_sorted(r.begin(), r.end()))
		std::sort(r.begin(), r.end());
	merged.clear();
	for (auto &x : r) {
		if (!merged.empty() && x.first <= merged.back().second)
			merged.back().second = std::max(merged.back().second, x.second);
		else
			merged.push_back(x);
	}
	for (auto &x : merged)
		if (auto v = check_range(m, x.first, x.second))
			return failure{e.role, v->invariant, v->message, v->pfn, &m};
	if (full)
		if (auto v = check_all(m, e.vmalloc_pages))
			return failure{e.role, v->invariant, v->message, v->pfn, &m};
	return std::nullopt;
}

std::optional<failure> drained_check(engine &e, bool full = true)
{
	e.activate();
	try {
		e.m->drain_all_pages();
	} catch (const finding_stop &) {
		// reported below, as after an operation
	}
	if (!e.m->findings.empty())
		return check_after_op(e, false);
	if (!full || drained_state_sound(*e.m, e.vmalloc_pages))
		return std::nullopt;
	if (auto v = check_all(*e.m, e.vmalloc_pages))
		return failure{e.role, v->invariant, v->message, v->pfn, e.m.get()};
	if (auto v = check_canonical_form(*e.m))
		return failure{e.role, v->invariant, v->message, v->pfn, e.m.get()};
	return std::nullopt;
}

std::string chunks_str(const std::vector<unsigned> &v)
{
	std::string s;
	for (size_t i = 0; i < v.size(); i++)
		s += (i ? "," : "") + std::to_string(v[i]);
	return s.empty() ? "(none)" : s;
}

} // namespace

struct lockstep::impl {
	std::string file;
	replay_options opt;
	engine oracle, batched;
	bool full;
	bool ended = false;
	replay_result res;
	const op *cur = nullptr;

	impl(const config &c, const replay_options &o, std::string f)
		: file(std::move(f)), opt(o), oracle("oracle", o.oracle, c), batched(o.batched->name, o.batched, c),
		  full(o.full_checks || c.nr_pfns() <= o.full_check_max_pfns)
	{
	}

	bool fail(const failure &f)
	{
		res.v = verdict::counterexample;
		res.engine = f.engine;
		res.invariant = f.invariant;
		res.message = f.message;
		res.pfn = f.pfn;
		if (cur) {
			res.line = cur->line;
			res.op_text = cur->text;
		}
		if (opt.render_map && f.model) {
			uint64_t at = f.pfn;
			if (at == no_pfn && !f.model->dirty.empty())
				at = f.model->dirty.front().first;
			if (at == no_pfn)
				at = 0;
			res.pfn_map = render_pfn_map_around(*f.model, at, f.pfn == no_pfn ? std::vector<uint64_t>{} : std::vector<uint64_t>{f.pfn});
		}
		res.oracle_cost = oracle.m->cost;
		res.batched_cost = batched.m->cost;
		ended = true;
		return false;
	}

	bool expectation(const std::string &msg, uint64_t pfn, const Model *m)
	{
		return fail(failure{"both", "expectation", msg, pfn, m});
	}

	bool step(const op &o)
	{
		if (ended)
			return false;
		cur = &o;
		try {
			oracle.run(o);
		} catch (const bad_input &b) {
			res.v = verdict::bad_input;
			res.error = file + ":" + std::to_string(o.line) + ": " + b.message;
			res.line = o.line;
			res.op_text = o.text;
			ended = true;
			return false;
		}
		if (opt.check_oracle_per_op || !oracle.m->findings.empty())
			if (auto f = check_after_op(oracle, full))
				return fail(*f);
		try {
			batched.run(o);
		} catch (const bad_input &b) {
			// Valid for the oracle, not for the batched engine: its state diverged.
			return fail(failure{batched.role, inv::differential,
					    "the operation is valid on the oracle but not on the batched engine: " + b.message,
					    no_pfn, batched.m.get()});
		}
		if (auto f = check_after_op(batched, full))
			return fail(*f);
		res.ops_run++;
		if (oracle.alloc_failed != batched.alloc_failed || !engine::same_allocation(oracle, batched)) {
			auto desc = [](const engine &e) {
				return e.alloc_failed ? std::string("failed") : e.first_allocated() == no_pfn ? std::string("nothing") : "pfn " + hex(e.first_allocated());
			};
			return fail(failure{batched.role, inv::differential,
					    "allocation diverged: oracle got " + desc(oracle) + ", batched got " + desc(batched),
					    batched.first_allocated(), batched.m.get()});
		}
		size_t wo = oracle.m->warnings.size() - oracle.warnings_before;
		size_t wb = batched.m->warnings.size() - batched.warnings_before;
		if (wo != wb)
			return fail(failure{batched.role, inv::differential,
					    "the oracle fired " + std::to_string(wo) + " WARN(s), the batched engine " + std::to_string(wb) +
						    (wb ? ": " + batched.m->warnings.back().message : std::string()),
					    no_pfn, batched.m.get()});
		switch (o.kind) {
		case op_kind::check:
			return final_check(false);
		case op_kind::expect_chunks: {
			std::vector<unsigned> want(o.pfns.begin(), o.pfns.end());
			if (batched.free_log != want)
				return expectation("expected chunk orders " + chunks_str(want) + " from the previous operation, the batched engine made " +
							   chunks_str(batched.free_log),
						   no_pfn, batched.m.get());
			break;
		}
		case op_kind::expect_free:
			for (engine *e : {&oracle, &batched}) {
				uint64_t head;
				unsigned order;
				if (!e->m->free_block_of(o.pfn, &head, &order) || order != o.order)
					return expectation("expected pfn " + hex(o.pfn) + " free in an order-" + std::to_string(o.order) +
								   " block; " + e->role + ": " + describe_pfn(*e->m, o.pfn),
							   o.pfn, e->m.get());
			}
			break;
		case op_kind::expect_leaked:
		case op_kind::expect_allocated:
			for (engine *e : {&oracle, &batched}) {
				uint8_t bit = o.kind == op_kind::expect_leaked ? LEDGER_LEAKED : LEDGER_ALLOCATED;
				if (!(e->m->ledger(o.pfn) & bit))
					return expectation(std::string("expected pfn ") + hex(o.pfn) +
								   (bit == LEDGER_LEAKED ? " leaked" : " allocated") + "; " + e->role + ": " +
								   describe_pfn(*e->m, o.pfn),
							   o.pfn, e->m.get());
			}
			break;
		case op_kind::expect_warn:
			for (engine *e : {&oracle, &batched})
				if (e->m->warnings.size() == e->warnings_before)
					return expectation("expected a WARN from the previous operation; " + e->role + " fired none", no_pfn, e->m.get());
			break;
		case op_kind::expect_fail:
			for (engine *e : {&oracle, &batched})
				if (!e->alloc_failed)
					return expectation("expected the previous allocation to fail; on " + e->role + " it did not", no_pfn,
							   e->m.get());
			break;
		default:
			break;
		}
		return true;
	}

	// Drain both, full invariants and canonical form on each, then the
	// differential check.
	bool final_check(bool at_end)
	{
		if (at_end)
			cur = nullptr;
		// An untrusted run checks the oracle too; a fuzzer trusts it (its
		// per-page code is what every other check is measured against) and
		// the differential check below compares the two states anyway.
		if (auto f = drained_check(oracle, opt.check_oracle_per_op))
			return fail(*f);
		if (auto f = drained_check(batched))
			return fail(*f);
		if (auto v = diff_states(*oracle.m, *batched.m))
			return fail(failure{batched.role, v->invariant, v->message, v->pfn, batched.m.get()});
		res.oracle_cost = oracle.m->cost;
		res.batched_cost = batched.m->cost;
		return true;
	}
};

lockstep::lockstep(const config &c, const replay_options &opt, const std::string &file)
	: p(std::make_unique<impl>(c, opt, file))
{
}
lockstep::~lockstep() = default;

void lockstep::reset(const config &c)
{
	p->oracle.reset(c);
	p->batched.reset(c);
	p->full = p->opt.full_checks || c.nr_pfns() <= p->opt.full_check_max_pfns;
	p->ended = false;
	p->res = replay_result{};
	p->cur = nullptr;
}

size_t lockstep::handle_count() const { return p->oracle.live.size(); }

handle_view lockstep::handle_at(size_t i) const
{
	const engine &e = p->oracle;
	const size_t idx = e.live[i];
	const handle &h = e.handles[idx];
	handle_view v;
	v.index = int32_t(idx);
	v.name = &h.name;
	v.pfns = &h.pfns;
	v.kind = h.kind == handle_kind::pages ? handle_info::pages : h.kind == handle_kind::contig ? handle_info::contig : handle_info::vmalloc;
	v.live = h.live;
	v.whole = h.live == h.pfns.size();
	v.order = h.order;
	v.compound = h.compound;
	v.frozen = h.frozen;
	v.split = h.split;
	return v;
}

uint64_t lockstep::live_pages() const
{
	uint64_t n = 0;
	for (size_t idx : p->oracle.live)
		n += p->oracle.handles[idx].live;
	return n;
}

int32_t lockstep::owner(uint64_t pfn) const { return p->oracle.owner[pfn]; }
bool lockstep::step(const op &o) { return p->step(o); }
const replay_result &lockstep::finish()
{
	if (!p->ended)
		p->final_check(true);
	p->ended = true;
	return p->res;
}
const replay_result &lockstep::result() const { return p->res; }
bool lockstep::ended() const { return p->ended; }
const Model &lockstep::oracle_model() const { return *p->oracle.m; }
const Model &lockstep::batched_model() const { return *p->batched.m; }
bool lockstep::last_alloc_failed() const { return p->oracle.alloc_failed; }

replay_result replay(const trace &t, const replay_options &opt)
{
	lockstep ls(t.cfg, opt, t.file);
	for (const op &o : t.ops) {
		if (opt.before_op)
			opt.before_op(o);
		if (!ls.step(o))
			return ls.result();
	}
	return ls.finish();
}

} // namespace bc
