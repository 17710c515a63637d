// rc::state model of an allocator history.  The model state is the history
// itself (config + operations); what a command needs to know about it (live
// handles, which pfns are allocated, refcounts) is read from a shadow
// lockstep that replays the history on the per-page oracle.  Shadows are
// pooled and advanced incrementally: generation and shrinking walk a
// history front to back, so a replay from scratch is rare.
#include "stateful.hpp"

#include "buddycheck/generate.hpp"
#include "buddycheck/replay.hpp"
#include "gen.hpp"

#include <rapidcheck/state.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bc::props {

namespace fs = std::filesystem;

static failure last;
failure &last_failure() { return last; }
void clear_last_failure() { last = failure{}; }

namespace {

// ---------------------------------------------------------------- the model state

struct shadow {
	std::unique_ptr<lockstep> ls;
	std::vector<std::string> applied; // lines of the operations it has run
	bool valid = false;
	uint64_t used = 0;
};

struct shadow_pool {
	config cfg;
	const target *tgt = nullptr;
	std::array<shadow, 3> slots;
	uint64_t tick = 0;

	static bool prefix_of(const std::vector<std::string> &a, const std::vector<op> &ops)
	{
		if (a.size() > ops.size())
			return false;
		for (size_t i = 0; i < a.size(); i++)
			if (a[i] != ops[i].text)
				return false;
		return true;
	}

	// A shadow that has run exactly `ops`.
	shadow &sync(const std::vector<op> &ops)
	{
		shadow *best = nullptr;
		for (shadow &s : slots)
			if (s.valid && prefix_of(s.applied, ops) && (!best || s.applied.size() > best->applied.size()))
				best = &s;
		if (!best) {
			best = &slots[0];
			for (shadow &s : slots)
				if (s.used < best->used)
					best = &s;
			replay_options ro;
			ro.render_map = false;
			ro.full_check_max_pfns = 0; // validity only: the system under test does the checking
			ro.check_oracle_per_op = false;
			ro.batched = &oracle_family();
			if (best->ls)
				best->ls->reset(cfg);
			else
				best->ls = std::make_unique<lockstep>(cfg, ro, "<shadow>");
			best->applied.clear();
			best->valid = true;
		}
		best->used = ++tick;
		while (best->valid && best->applied.size() < ops.size()) {
			op o = ops[best->applied.size()];
			o.line = int(best->applied.size() + 1);
			if (!best->ls->step(o))
				best->valid = false;
			else
				best->applied.push_back(o.text);
		}
		return *best;
	}
};

struct history_state {
	std::shared_ptr<shadow_pool> pool;
	std::vector<op> ops;
	uint64_t next_handle = 0;

	const config &cfg() const { return pool->cfg; }
	const lockstep *view() const
	{
		shadow &s = pool->sync(ops);
		return s.valid ? s.ls.get() : nullptr;
	}
	// The oracle runs `o` after this history without calling it bad input.
	bool accepts(const op &o) const
	{
		shadow &s = pool->sync(ops);
		if (!s.valid)
			return false;
		op x = o;
		x.line = int(ops.size() + 1);
		if (!s.ls->step(x)) {
			s.valid = false;
			return false;
		}
		s.applied.push_back(o.text);
		return true;
	}
};

// The system under test: the lockstep of the oracle and the batched engine
// under test, and the operations it ran (the trace of a failure).
struct system_under_test {
	lockstep ls;
	std::vector<op> ran;
	system_under_test(const config &c, const replay_options &ro) : ls(c, ro, "<property>") {}
};

std::string out_dir()
{
	const char *e = std::getenv("BUDDYCHECK_PROPERTIES_OUT");
	return e && *e ? e : "buddycheck-out/properties";
}

[[noreturn]] void report(const shadow_pool &pool, const std::vector<op> &ran, const replay_result &r)
{
	if (r.v == verdict::bad_input) // the preconditions let an invalid operation through: a harness bug
		RC_FAIL("harness error: the oracle refused an operation the preconditions accepted: " + r.error);
	const target &t = *pool.tgt;
	std::ostringstream tr;
	tr << "# counterexample from property stateful_history (shrunk by rapidcheck)\n"
	   << "# " << r.invariant << ": " << r.message.substr(0, r.message.find('\n')) << "\n"
	   << "# replay: buddycheck replay " << t.replay_args << " FILE\n"
	   << "buddycheck-trace 1\n"
	   << config_to_trace(pool.cfg);
	for (const op &o : ran)
		tr << o.text << "\n";
	failure f;
	f.trace = tr.str();
	f.ops = ran.size();
	f.invariant = r.invariant;
	f.message = r.message;
	std::error_code ec;
	fs::create_directories(out_dir(), ec);
	f.file = out_dir() + "/" + t.stem + ".trace";
	std::ofstream(f.file) << f.trace;
	last = f;
	RC_FAIL("engine " + r.engine + " violated " + r.invariant + " after " + std::to_string(ran.size()) + " operations: " +
		r.message + "\n" + r.pfn_map + "\nhistory (written to " + f.file + "; replay with `buddycheck replay " +
		t.replay_args + " " + f.file + "`):\n" + f.trace);
}

// ---------------------------------------------------------------- lookups on the oracle

std::optional<handle_view> live_handle(const lockstep &ls, const std::string &name)
{
	for (size_t i = 0; i < ls.handle_count(); i++) {
		handle_view h = ls.handle_at(i);
		if (*h.name == name)
			return h;
	}
	return std::nullopt;
}

std::vector<handle_view> handles_where(const lockstep &ls, const std::function<bool(const handle_view &)> &pred)
{
	std::vector<handle_view> v;
	for (size_t i = 0; i < ls.handle_count(); i++)
		if (pred(ls.handle_at(i)))
			v.push_back(ls.handle_at(i));
	return v;
}

bool allocated(const lockstep &ls, uint64_t pfn)
{
	const bc::Model &m = ls.oracle_model();
	return pfn < m.nr_pfns() && m.pfn_valid(pfn) && (m.ledger(pfn) & LEDGER_ALLOCATED);
}

int refcount(const lockstep &ls, uint64_t pfn) { return ls.oracle_model().pfn_to_page(pfn)->_refcount; }

// Pages the trace may free one by one (order 0, split, contig or vmalloc).
bool granular(const handle_view &h) { return h.kind != handle_info::pages || h.split || h.order == 0; }

std::optional<handle_view> owner_of(const lockstep &ls, uint64_t pfn)
{
	const int32_t idx = ls.owner(pfn);
	if (idx < 0)
		return std::nullopt;
	for (size_t i = 0; i < ls.handle_count(); i++)
		if (ls.handle_at(i).index == idx)
			return ls.handle_at(i);
	return std::nullopt;
}

// The replay's rule for a page freed on its own: allocated, of a granular
// allocation, frozen exactly when the frozen path is used.
bool single_page_ok(const lockstep &ls, uint64_t pfn, bool frozen)
{
	if (!allocated(ls, pfn))
		return false;
	auto h = owner_of(ls, pfn);
	if (h && (!granular(*h) || h->compound))
		return false;
	return frozen ? refcount(ls, pfn) == 0 : refcount(ls, pfn) >= 1;
}

std::vector<uint64_t> live_pfns(const lockstep &ls, const handle_view &h)
{
	std::vector<uint64_t> v;
	for (uint64_t p : *h.pfns)
		if (ls.owner(p) == h.index)
			v.push_back(p);
	return v;
}


// ---------------------------------------------------------------- commands

using command_base = rc::state::Command<history_state, system_under_test>;

// A command is one trace operation.  Subclasses build it from the state
// (generation) and say when it is valid (`valid`, re-checked on every
// shrink); the oracle must also accept it.
struct trace_command : command_base {
	op o;
	bool built = false; // generation found something to act on

	void finish_build() { o.text = op_to_line(o), built = true; }
	virtual bool valid(const history_state &s, const lockstep &ls) const = 0;

	void checkPreconditions(const history_state &s) const override
	{
		RC_PRE(built);
		const lockstep *ls = s.view();
		RC_PRE(ls != nullptr);
		RC_PRE(valid(s, *ls));
		RC_PRE(s.accepts(o));
	}
	void apply(history_state &s) const override
	{
		s.ops.push_back(o);
		if (!o.handle.empty() && o.handle[0] == 'h' && !o.by_handle)
			s.next_handle = std::max<uint64_t>(s.next_handle, std::strtoull(o.handle.c_str() + 1, nullptr, 10) + 1);
	}
	void run(const history_state &s, system_under_test &sut) const override
	{
		op x = o;
		x.line = int(sut.ran.size() + 1);
		sut.ran.push_back(o);
		if (!sut.ls.step(x))
			report(*s.pool, sut.ran, sut.ls.result());
	}
	void show(std::ostream &os) const override { os << o.text; }
};

// Commands that create a handle: its name must be free.
struct creating_command : trace_command {
	bool valid(const history_state &, const lockstep &ls) const override { return !live_handle(ls, o.handle); }
	void name(const history_state &s) { handle_name(o.handle, s.next_handle); }
};

struct alloc_cmd : creating_command {
	explicit alloc_cmd(const history_state &s)
	{
		name(s);
		o.kind = op_kind::alloc;
		o.order = any_in(0u, s.cfg().max_page_order + 1);
		o.mt = any_in(0u, 3u);
		o.compound = o.order > 0 && sometimes(15);
		o.frozen = sometimes(15);
		finish_build();
	}
};

struct alloc_contig_cmd : creating_command {
	explicit alloc_contig_cmd(const history_state &s)
	{
		const config &c = s.cfg();
		name(s);
		o.kind = op_kind::alloc_contig;
		const zone_config &z = pick(c.zones);
		const uint64_t span = z.end_pfn - z.start_pfn;
		o.count = any_in<uint64_t>(1, std::min<uint64_t>(span, c.max_order_nr_pages() * 3) + 1);
		o.pfn = z.start_pfn + any_in<uint64_t>(0, span - o.count + 1);
		if (sometimes(40)) // aligned starts reach the largest chunks
			o.pfn = std::max(z.start_pfn, o.pfn & ~(c.max_order_nr_pages() - 1));
		o.frozen = sometimes(50);
		finish_build();
	}
	bool valid(const history_state &s, const lockstep &ls) const override
	{
		if (!creating_command::valid(s, ls))
			return false;
		const bc::Model &m = ls.oracle_model();
		const zone *z = m.zone_of(o.pfn);
		if (!z || o.count == 0 || !z->contains(o.pfn + o.count - 1))
			return false;
		for (uint64_t p = o.pfn; p < o.pfn + o.count; p++)
			if (!m.pfn_valid(p))
				return false;
		return true;
	}
};

struct vmalloc_cmd : creating_command {
	explicit vmalloc_cmd(const history_state &s)
	{
		name(s);
		o.kind = op_kind::vmalloc;
		o.count = any_in<uint64_t>(1, s.cfg().max_order_nr_pages() * 2 + 1);
		o.huge = sometimes(10);
		o.interleave = s.cfg().nr_nodes() > 1 && sometimes(50);
		finish_build();
	}
};

// Commands on a whole live handle.
struct handle_command : trace_command {
	virtual bool fits(const lockstep &ls, const handle_view &h) const = 0;
	void choose(const history_state &s, op_kind k)
	{
		o.kind = k;
		o.by_handle = true;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		auto hs = handles_where(*ls, [&](const handle_view &h) { return fits(*ls, h); });
		if (hs.empty())
			return;
		o.handle = *pick(hs).name;
		finish_build();
	}
	bool valid(const history_state &, const lockstep &ls) const override
	{
		auto h = live_handle(ls, o.handle);
		return h && fits(ls, *h);
	}
};

struct split_cmd : handle_command {
	explicit split_cmd(const history_state &s) { choose(s, op_kind::split); }
	bool fits(const lockstep &, const handle_view &h) const override
	{
		return h.kind == handle_info::pages && !h.split && h.order > 0 && !h.compound && !h.frozen;
	}
};

// __free_pages() / free_frozen_pages() of a whole allocation.
template <bool frozen> struct free_pages_cmd : handle_command {
	explicit free_pages_cmd(const history_state &s) { choose(s, frozen ? op_kind::free_frozen : op_kind::free_pages); }
	bool fits(const lockstep &ls, const handle_view &h) const override
	{
		if (h.kind != handle_info::pages || (h.split && h.order > 0) || !h.whole)
			return false;
		return frozen == (refcount(ls, h.pfns->front()) == 0);
	}
};

struct cma_release_cmd : handle_command {
	explicit cma_release_cmd(const history_state &s) { choose(s, op_kind::cma_release); }
	bool fits(const lockstep &, const handle_view &h) const override
	{
		return h.kind == handle_info::contig && h.frozen && h.whole;
	}
};

struct vfree_cmd : handle_command {
	explicit vfree_cmd(const history_state &s)
	{
		choose(s, op_kind::vfree);
		o.arr = array_order(any_in(0, 4));
		o.seed = o.arr == array_order::shuffled ? any_in<uint64_t>(0, 1000) : 0;
		if (built)
			finish_build();
	}
	bool fits(const lockstep &ls, const handle_view &h) const override
	{
		if (h.kind != handle_info::vmalloc || !h.whole)
			return false;
		for (uint64_t p : *h.pfns)
			if (!single_page_ok(ls, p, false))
				return false;
		return true;
	}
};

// Commands on pages of a granular allocation.
struct pages_command : trace_command {
	// The live pages of a granular allocation that the command may take.
	std::vector<uint64_t> candidates(const lockstep &ls, bool frozen) const
	{
		std::vector<uint64_t> v;
		for (const handle_view &h : handles_where(ls, [](const handle_view &h) { return granular(h); }))
			for (uint64_t p : live_pfns(ls, h))
				if (single_page_ok(ls, p, frozen))
					v.push_back(p);
		return v;
	}
};

struct free_page_cmd : pages_command {
	explicit free_page_cmd(const history_state &s)
	{
		o.kind = op_kind::free_page;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		auto c = candidates(*ls, false);
		if (c.empty())
			return;
		o.pfn = pick(c);
		finish_build();
	}
	bool valid(const history_state &, const lockstep &ls) const override { return single_page_ok(ls, o.pfn, false); }
};

struct poison_cmd : pages_command {
	explicit poison_cmd(const history_state &s)
	{
		o.kind = op_kind::poison;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		auto c = candidates(*ls, false), f = candidates(*ls, true);
		c.insert(c.end(), f.begin(), f.end());
		if (c.empty())
			return;
		o.pfn = pick(c);
		finish_build();
	}
	bool valid(const history_state &, const lockstep &ls) const override
	{
		return single_page_ok(ls, o.pfn, false) || single_page_ok(ls, o.pfn, true);
	}
};

// get and make_bad take any allocated page (get: one holding a reference).
template <op_kind K> struct any_page_cmd : trace_command {
	explicit any_page_cmd(const history_state &s)
	{
		o.kind = K;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		std::vector<uint64_t> c;
		for (size_t i = 0; i < ls->handle_count(); i++)
			for (uint64_t p : live_pfns(*ls, ls->handle_at(i)))
				if (ok(*ls, p))
					c.push_back(p);
		if (c.empty())
			return;
		o.pfn = pick(c);
		if (K == op_kind::make_bad)
			o.bad = bc::bad_page_kind(any_in<size_t>(0, bc::Model::bad_kinds().size()));
		finish_build();
	}
	bool ok(const lockstep &ls, uint64_t pfn) const
	{
		return allocated(ls, pfn) && (K != op_kind::get || refcount(ls, pfn) >= 1);
	}
	bool valid(const history_state &, const lockstep &ls) const override { return ok(ls, o.pfn); }
};
using get_cmd = any_page_cmd<op_kind::get>;
using make_bad_cmd = any_page_cmd<op_kind::make_bad>;

// The four range calls of the family: a run of consecutive live pages of
// one granular allocation (and, for free_contig_frozen_range, a whole
// frozen compound page, which it frees as one block).
template <op_kind K> struct free_range_cmd : pages_command {
	static constexpr bool frozen = K == op_kind::free_contig_frozen_inner || K == op_kind::free_contig_frozen_range;

	explicit free_range_cmd(const history_state &s)
	{
		o.kind = K;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		if (K == op_kind::free_contig_frozen_range && sometimes(30)) {
			auto hs = handles_where(*ls, [](const handle_view &h) { return h.compound && h.frozen && h.whole; });
			if (!hs.empty()) {
				const handle_view &h = pick(hs);
				o.pfn = h.pfns->front();
				o.count = h.pfns->size();
				finish_build();
				return;
			}
		}
		auto c = candidates(*ls, frozen);
		if (c.empty())
			return;
		o.pfn = pick(c);
		// Extend over the following live pages of the same allocation.
		const int32_t own = ls->owner(o.pfn);
		const uint64_t want = any_in<uint64_t>(1, 3 * s.cfg().max_order_nr_pages() + 1);
		o.count = 1;
		while (o.count < want && o.pfn + o.count < ls->oracle_model().nr_pfns() && ls->owner(o.pfn + o.count) == own &&
		       single_page_ok(*ls, o.pfn + o.count, frozen))
			o.count++;
		finish_build();
	}
	bool compound_whole(const lockstep &ls) const
	{
		auto h = owner_of(ls, o.pfn);
		return K == op_kind::free_contig_frozen_range && h && h->compound && h->frozen && h->whole &&
		       h->pfns->front() == o.pfn && h->pfns->size() == o.count;
	}
	bool valid(const history_state &, const lockstep &ls) const override
	{
		if (o.count == 0 || o.pfn + o.count > ls.oracle_model().nr_pfns())
			return false;
		if (compound_whole(ls))
			return true;
		for (uint64_t p = o.pfn; p < o.pfn + o.count; p++)
			if (!single_page_ok(ls, p, frozen))
				return false;
		return true;
	}
};

// free_pages_bulk() of an array of live refcounted pages, sorted or shuffled.
struct free_pages_bulk_cmd : pages_command {
	explicit free_pages_bulk_cmd(const history_state &s)
	{
		o.kind = op_kind::free_pages_bulk;
		const lockstep *ls = s.view();
		if (!ls)
			return;
		auto c = candidates(*ls, false);
		if (c.empty())
			return;
		// A window of candidates around a chosen page: neighbours make runs.
		const size_t n = any_in<size_t>(1, std::min<size_t>(c.size(), 24) + 1);
		const size_t first = any_in<size_t>(0, c.size() - n + 1);
		o.pfns.assign(c.begin() + first, c.begin() + first + n);
		if (sometimes(50)) { // shuffled; shrinks to sorted
			const auto perm =
				*rc::gen::resize(rc::kNominalSize, rc::gen::unique<std::vector<size_t>>(n, rc::gen::inRange<size_t>(0, n)));
			std::vector<uint64_t> shuffled;
			for (size_t i : perm)
				shuffled.push_back(o.pfns[i]);
			o.pfns = shuffled;
		}
		finish_build();
	}
	bool valid(const history_state &, const lockstep &ls) const override
	{
		if (o.pfns.empty())
			return false;
		std::vector<uint64_t> sorted = o.pfns;
		std::sort(sorted.begin(), sorted.end());
		if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end())
			return false; // a page twice would be a double free
		for (uint64_t p : o.pfns)
			if (!single_page_ok(ls, p, false))
				return false;
		return true;
	}
};

struct drain_cmd : trace_command {
	explicit drain_cmd(const history_state &s)
	{
		o.kind = op_kind::drain;
		o.all = sometimes(50);
		o.cpu = o.all ? 0 : any_in(0u, s.cfg().nr_cpus);
		finish_build();
	}
	bool valid(const history_state &s, const lockstep &) const override { return o.all || o.cpu < s.cfg().nr_cpus; }
};

struct cpu_cmd : trace_command {
	explicit cpu_cmd(const history_state &s)
	{
		o.kind = op_kind::cpu;
		o.cpu = any_in(0u, s.cfg().nr_cpus);
		finish_build();
	}
	bool valid(const history_state &s, const lockstep &) const override { return o.cpu < s.cfg().nr_cpus; }
};

struct check_cmd : trace_command {
	check_cmd()
	{
		o.kind = op_kind::check;
		finish_build();
	}
	bool valid(const history_state &, const lockstep &) const override { return true; }
};

// Allocations come up more often than their share of the command list, so
// that the free commands find something to free.
auto command_gen = [](const history_state &s) {
	return rc::gen::weightedOneOf<std::shared_ptr<const command_base>>({
		{6, rc::state::gen::execOneOfWithArgs<alloc_cmd, alloc_contig_cmd, vmalloc_cmd>()(s)},
		{10, rc::state::gen::execOneOfWithArgs<
			     split_cmd, free_pages_cmd<false>, free_pages_cmd<true>, free_page_cmd, get_cmd,
			     free_range_cmd<op_kind::free_contig_range>, free_range_cmd<op_kind::free_contig_range_inner>,
			     free_range_cmd<op_kind::free_contig_frozen_inner>, free_range_cmd<op_kind::free_contig_frozen_range>,
			     free_pages_bulk_cmd, cma_release_cmd, vfree_cmd>()(s)},
		{2, rc::state::gen::execOneOfWithArgs<poison_cmd, make_bad_cmd>()(s)},
		{1, rc::state::gen::execOneOfWithArgs<drain_cmd, cpu_cmd, check_cmd>()(s)},
	});
};

// A scaled configuration: preset, memory model, allocation policy, layout (one node, a hole,
// or two nodes with a hole in node 0 and, under `sparse`, hot-added sections
// at the end of each node), CPUs; inner zone boundaries aligned as in the
// kernel (an unaligned one is a documented finding of the reference, not
// what this property looks for).
config gen_config()
{
	static const char *presets[] = {"tiny", "small", "small-64k"};
	config c = *preset(presets[any_in(0, 3)]);
	c.memmap = all_memmaps[any_in<size_t>(0, std::size(all_memmaps))];
	c.nr_cpus = any_in(1u, 3u);
	// The kernel's allocation policy half of the time (pcp and free-list
	// heads, the migratetype fallback: claimed and stolen pageblocks), the
	// batched engine steered to the oracle's choices (Model::steering).
	c.alloc = sometimes(50) ? alloc_policy::kernel : alloc_policy::canonical;
	switch (any_in(0, 4)) { // one node without holes half of the time
	case 2:
		c.holes = {c.nr_sections / 2};
		[[fallthrough]];
	case 0:
	case 1:
		kernel_like_zones(c);
		break;
	default:
		two_node_layout(c);
		if (c.memmap == memmap_model::sparse)
			c.hotplug = any_in(0u, 2u);
	}
	return c;
}

// A failing case whose system under test crashed in a forked child: the
// sanitizer's SUMMARY line names what happened at operation `ran.size()`.
[[noreturn]] void report_crash(const shadow_pool &pool, const std::vector<op> &ran, int status)
{
	std::ifstream in(pool.tgt->crash_log);
	std::string line, summary = WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
							 : "exit status " + std::to_string(WEXITSTATUS(status));
	while (std::getline(in, line))
		if (line.rfind("SUMMARY: ", 0) == 0)
			summary = line.substr(9);
	replay_result r;
	r.v = verdict::counterexample;
	r.engine = pool.tgt->family->name;
	r.invariant = "crash";
	r.message = "the system under test crashed: " + summary + " (report: " + pool.tgt->crash_log + ")";
	report(pool, ran, r);
}

// Runs the commands in a child process; returns normally when the case
// passes there, or when it failed without crashing (then the caller runs it
// again in-process, which reports the failure the usual way).
template <class Cmds> bool passes_in_child(const shadow_pool &pool, const Cmds &cmds, const history_state &s0, const replay_options &ro)
{
	int fds[2];
	if (pipe(fds) != 0)
		return false;
	std::fflush(nullptr);
	const pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		const int log = open(pool.tgt->crash_log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (log >= 0)
			dup2(log, 2);
		try {
			system_under_test sut(pool.cfg, ro);
			history_state s = s0;
			for (const auto &c : cmds) {
				const uint32_t i = uint32_t(sut.ran.size());
				if (write(fds[1], &i, sizeof i) != sizeof i)
					_exit(4);
				c->run(s, sut);
				c->apply(s);
			}
			_exit(sut.ls.finish().v == verdict::pass ? 0 : 3);
		} catch (...) {
			_exit(3);
		}
	}
	close(fds[1]);
	uint32_t i = 0, last = 0;
	while (read(fds[0], &i, sizeof i) == sizeof i)
		last = i;
	close(fds[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3))
		return WEXITSTATUS(status) == 0;
	std::vector<op> ran;
	for (const auto &c : cmds) {
		if (ran.size() > last)
			break;
		ran.push_back(static_cast<const trace_command &>(*c).o);
	}
	report_crash(pool, ran, status);
}

} // namespace

void stateful_history(const target &t)
{
	auto pool = std::make_shared<shadow_pool>();
	pool->cfg = gen_config();
	pool->tgt = &t;
	history_state s0;
	s0.pool = pool;
	const auto cmds = *rc::state::gen::commands(s0, command_gen);
	replay_options ro;
	ro.batched = t.family;
	if (t.isolate && passes_in_child(*pool, cmds, s0, ro))
		return;
	system_under_test sut(pool->cfg, ro);
	RC_TAG(pool->cfg.preset, cmds.size() / 10 * 10);
	rc::state::runAll(cmds, s0, sut);
	const replay_result &r = sut.ls.finish();
	if (r.v != verdict::pass)
		report(*pool, sut.ran, r);
}

rc::detail::TestParams params_from_config(double scale)
{
	rc::detail::TestParams p = rc::detail::configuration().testParams;
	p.maxSuccess = std::max(1, int(p.maxSuccess * scale));
	return p;
}

outcome check_quietly(const std::function<void()> &property, const rc::detail::TestParams &params)
{
	clear_last_failure();
	outcome out;
	const auto result = rc::detail::checkTestable(property, rc::detail::TestMetadata{}, params);
	if (result.template is<rc::detail::FailureResult>()) {
		const auto &f = result.template get<rc::detail::FailureResult>();
		out.falsified = true;
		out.successes = f.numSuccess;
		out.description = f.description;
		out.shrunk = last_failure();
	} else if (result.template is<rc::detail::GaveUpResult>()) {
		out.gave_up = true;
		out.description = result.template get<rc::detail::GaveUpResult>().description;
	} else if (result.template is<rc::detail::SuccessResult>()) {
		out.successes = result.template get<rc::detail::SuccessResult>().numSuccess;
	} else if (result.template is<rc::detail::Error>()) {
		out.gave_up = true;
		out.description = result.template get<rc::detail::Error>().description;
	}
	return out;
}

void default_params(uint64_t seed, int max_success)
{
	const char *e = std::getenv("RC_PARAMS");
	std::string p = e ? e : "";
	const char *scale = std::getenv("BUDDYCHECK_PROPERTIES_SCALE");
	if (p.find("seed=") == std::string::npos)
		p += " seed=" + std::to_string(seed);
	if (p.find("max_success=") == std::string::npos)
		p += " max_success=" + std::to_string(uint64_t(max_success) * (scale ? std::max(1ul, std::strtoul(scale, nullptr, 10)) : 1));
	setenv("RC_PARAMS", p.c_str(), 1);
}

} // namespace bc::props
