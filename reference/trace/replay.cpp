// The lockstep: one trace's operations on the oracle and the batched
// engine (engine.hpp), the checks after each (compare.cpp), and its result.
#include "engine.hpp"

#include "buddycheck/report.hpp"

namespace bc {

using namespace detail;

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
		// The candidate's line, from the model's finding this failure is
		// (its message may have been extended).
		if (f.model)
			for (const finding &x : f.model->findings)
				if (x.invariant == f.invariant && f.message.rfind(x.message, 0) == 0) {
					res.source = x.where;
					break;
				}
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

	bool step(const op &o)
	{
		if (ended)
			return false;
		cur = &o;
		if (o.caller_error)
			return step_into_bug(o);
		if (o.kind == op_kind::expect_bug) {
			// After the BUG both engines are dead: the trace ends here, a pass.
			res.oracle_cost = oracle.m->cost;
			res.batched_cost = batched.m->cost;
			ended = true;
			return false;
		}
		// Under alloc=kernel the batched engine allocates what the oracle
		// did (Model::steering): the policy's choice depends on the pcp
		// lists, which a batched free legitimately fills differently.
		const bool steer = oracle.m->cfg().alloc == alloc_policy::kernel;
		if (steer) {
			oracle.m->record_allocs = true;
			oracle.m->alloc_log.clear();
		}
		try {
			oracle.run(o);
		} catch (const bad_input &b) {
			oracle.m->record_allocs = false;
			res.v = verdict::bad_input;
			res.error = file + ":" + std::to_string(o.line) + ": " + b.message;
			res.line = o.line;
			res.op_text = o.text;
			ended = true;
			return false;
		}
		oracle.m->record_allocs = false;
		if (opt.check_oracle_per_op || !oracle.m->findings.empty())
			if (auto f = check_after_op(oracle, full))
				return fail(*f);
		if (steer) {
			Model &b = *batched.m;
			engine::copy_elements(b.steer, oracle.m->alloc_log);
			b.steer_next = 0;
			b.steering = true;
		}
		struct steer_off {
			Model &m;
			~steer_off() { m.steering = false; }
		} off{*batched.m};
		try {
			batched.run(o);
		} catch (const bad_input &b) {
			// Valid for the oracle, not for the batched engine: its state diverged.
			return fail(failure{batched.role, inv::differential,
					    "the operation is valid on the oracle but not on the batched engine: " + b.message,
					    no_pfn, batched.m.get()});
		}
		if (steer && batched.m->steer_next != batched.m->steer.size())
			return fail(failure{batched.role, inv::differential,
					    "the batched engine made " + std::to_string(batched.m->steer_next) +
						    " allocations where the oracle made " +
						    std::to_string(batched.m->steer.size()),
					    no_pfn, batched.m.get()});
		if (auto f = check_after_op(batched, full))
			return fail(*f);
		res.ops_run++;
		if (auto f = compare_results(oracle, batched))
			return fail(*f);
		if (o.kind == op_kind::check)
			return final_check(false);
		if (o.kind >= op_kind::expect_chunks)
			if (auto f = check_expectation(o, oracle, batched))
				return fail(*f);
		return true;
	}

	// A caller error the kernel BUGs on (the op before `expect bug`): the
	// oracle must hit a BUG (else the trace is wrong), and the batched engine
	// the same one after the same number of WARNs: the WARNs the kernel
	// fires on the way are what a candidate must keep.
	bool step_into_bug(const op &o)
	{
		auto bad = [&](const std::string &msg) {
			res.v = verdict::bad_input;
			res.error = file + ":" + std::to_string(o.line) + ": " + msg;
			res.line = o.line;
			res.op_text = o.text;
			ended = true;
			return false;
		};
		try {
			oracle.run(o);
		} catch (const bad_input &b) {
			return bad(b.message);
		}
		if (oracle.m->findings.empty())
			return bad("'expect bug' follows it, but the kernel (the oracle) hits no BUG here");
		try {
			batched.run(o);
		} catch (const bad_input &b) {
			return fail(failure{batched.role, inv::differential,
					    "the operation is valid on the oracle but not on the batched engine: " + b.message,
					    no_pfn, batched.m.get()});
		}
		const finding &fo = oracle.m->findings.front();
		const size_t wo = oracle.m->warnings.size() - oracle.warnings_before;
		const size_t wb = batched.m->warnings.size() - batched.warnings_before;
		if (batched.m->findings.empty())
			return fail(failure{batched.role, inv::differential,
					    "the kernel hits a BUG here (the oracle: " + fo.invariant + ": " + fo.message +
						    "); the batched engine does not",
					    fo.pfn, batched.m.get()});
		const finding &fb = batched.m->findings.front();
		if (fb.invariant != fo.invariant)
			return fail(failure{batched.role, fb.invariant,
					    fb.message + " (the oracle hits another BUG here: " + fo.invariant + ": " +
						    fo.message + ")",
					    fb.pfn, batched.m.get()});
		if (wo != wb)
			return fail(failure{batched.role, inv::differential,
					    "before the BUG (" + fo.invariant + ") the oracle fired " + std::to_string(wo) +
						    " WARN(s), the batched engine " + std::to_string(wb),
					    fo.pfn, batched.m.get()});
		res.ops_run++;
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
