// A thin wrapper around the solver: every query has a name, a one-line
// statement, a resource limit, and is proved by asking Z3 for a model of
// assumptions && !claim (unsat = proved, sat = counterexample).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <z3++.h>

namespace bc::proofs {

enum class verdict { proved, counterexample, unknown };

inline const char *verdict_name(verdict v)
{
	switch (v) {
	case verdict::proved: return "proved";
	case verdict::counterexample: return "counterexample";
	default: return "unknown";
	}
}

struct outcome {
	std::string name;
	verdict v = verdict::unknown;
	double ms = 0;
	uint64_t rlimit_used = 0;       // solver steps this query took (deterministic work)
	std::optional<z3::model> model; // when v == counterexample
	std::string reason;             // Z3's reason when v == unknown
};

// How much a query may spend.  The verdict is bounded by Z3's resource
// limit (`rlimit`), a count of solver steps that is the same on every run
// and every machine, not by the clock: a wall-clock limit turns into
// "unknown" when the machine is busy (ctest -j, a fuzz campaign beside it).
// The timeout is only a backstop against a solver that runs away.
// Both are Z3's own unsigned parameters; the rlimit counts from where the
// context stands when the query starts.
struct limits {
	unsigned rlimit;
	unsigned timeout_ms;
};

// Z3's "rlimit count": the steps its context has taken so far, over every
// query of that context (a statistic of the solver, read before and after).
inline uint64_t rlimit_count(const z3::solver &s)
{
	const z3::stats st = s.statistics();
	for (unsigned i = 0; i < st.size(); i++)
		if (st.key(i) == "rlimit count")
			return st.is_uint(i) ? st.uint_value(i) : uint64_t(st.double_value(i));
	return 0;
}

// LOGIC: QF_BV, or QF_UFBV for queries with uninterpreted functions (the
// candidate proofs' struct page fields and kernel answers).
inline outcome prove(z3::context &c, const std::string &name, const z3::expr &assumptions, const z3::expr &claim,
		     const limits &lim, const char *logic = "QF_BV")
{
	outcome o;
	o.name = name;
	z3::solver s(c, logic);
	z3::params p(c);
	p.set("rlimit", lim.rlimit);
	p.set("timeout", lim.timeout_ms);
	s.set(p);
	s.add(assumptions);
	s.add(!claim);
	const uint64_t steps_before = rlimit_count(s);
	auto t0 = std::chrono::steady_clock::now();
	z3::check_result r = s.check();
	o.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
	o.rlimit_used = rlimit_count(s) - steps_before;
	if (r == z3::unsat) {
		o.v = verdict::proved;
	} else if (r == z3::sat) {
		o.v = verdict::counterexample;
		o.model = s.get_model();
	} else {
		o.reason = s.reason_unknown();
	}
	return o;
}

} // namespace bc::proofs
