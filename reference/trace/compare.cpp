// The checks of the lockstep: each engine's invariants after an operation
// and when drained, the two engines' results compared, and the `expect`
// lines of a trace.
#include "engine.hpp"

#include "buddycheck/report.hpp"

namespace bc::detail {

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

std::optional<failure> drained_check(engine &e, bool full)
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

static std::string chunks_str(const std::vector<unsigned> &v)
{
	std::string s;
	for (size_t i = 0; i < v.size(); i++)
		s += (i ? "," : "") + std::to_string(v[i]);
	return s.empty() ? "(none)" : s;
}

std::optional<failure> compare_results(const engine &oracle, const engine &batched)
{
	if (oracle.alloc_failed != batched.alloc_failed || !engine::same_allocation(oracle, batched)) {
		auto desc = [](const engine &e) {
			return e.alloc_failed ? std::string("failed") : e.first_allocated() == no_pfn ? std::string("nothing") : "pfn " + hex(e.first_allocated());
		};
		return failure{batched.role, inv::differential,
			       "allocation diverged: oracle got " + desc(oracle) + ", batched got " + desc(batched),
			       batched.first_allocated(), batched.m.get()};
	}
	size_t wo = oracle.m->warnings.size() - oracle.warnings_before;
	size_t wb = batched.m->warnings.size() - batched.warnings_before;
	if (wo != wb)
		return failure{batched.role, inv::differential,
			       "the oracle fired " + std::to_string(wo) + " WARN(s), the batched engine " + std::to_string(wb) +
				       (wb ? ": " + batched.m->warnings.back().message : std::string()),
			       no_pfn, batched.m.get()};
	return std::nullopt;
}

static failure expectation(const std::string &msg, uint64_t pfn, const Model *m)
{
	return failure{"both", "expectation", msg, pfn, m};
}

std::optional<failure> check_expectation(const op &o, engine &oracle, engine &batched)
{
	switch (o.kind) {
	case op_kind::expect_chunks: {
		if (!engine::same_elements(batched.free_log, o.orders))
			return expectation("expected chunk orders " + chunks_str(o.orders) + " from the previous operation, the batched engine made " +
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
	return std::nullopt;
}

} // namespace bc::detail
