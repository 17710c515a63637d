// A thin wrapper around the solver: every query has a name, a one-line
// statement, a timeout, and is proved by asking Z3 for a model of
// assumptions && !claim (unsat = proved, sat = counterexample).
#pragma once

#include <chrono>
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
	std::optional<z3::model> model; // when v == counterexample
	std::string reason;             // Z3's reason when v == unknown
};

inline outcome prove(z3::context &c, const std::string &name, const z3::expr &assumptions, const z3::expr &claim,
		     unsigned timeout_ms)
{
	outcome o;
	o.name = name;
	z3::solver s(c, "QF_BV");
	z3::params p(c);
	p.set("timeout", timeout_ms);
	s.set(p);
	s.add(assumptions);
	s.add(!claim);
	auto t0 = std::chrono::steady_clock::now();
	z3::check_result r = s.check();
	o.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
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
