// The word policy of chunk.hpp over Z3 64-bit bit-vectors: the same
// templates the model runs on uint64_t (bc::u64_word) build the formulas the
// proofs check, so the code that is proved is the code that runs.
//
// Every operation matches u64_word bit for bit, including the edge cases the
// C code defines: ctz(0) = 64, ilog2(0) = 0, shl by >= 64 gives 0 (bvshl
// does the same).  Z3 4.8.12 has no ctz/ilog2, so they are ite chains over
// single bits.
#pragma once

#include <cstdint>

#include <z3++.h>

namespace bc::proofs {

struct z3_word {
	using word = z3::expr;    // sort (_ BitVec 64)
	using boolean = z3::expr; // sort Bool

	// One context for every formula: z3::expr needs one, the policy's
	// functions are static like u64_word's.
	// One context per thread: the proofs binary runs queries on two threads.
	static z3::context &ctx()
	{
		static thread_local z3::context c;
		return c;
	}

	static word lit(uint64_t v) { return ctx().bv_val(v, 64); }
	static boolean is_zero(const word &x) { return x == lit(0); }
	static boolean eq(const word &a, const word &b) { return a == b; }
	static boolean ult(const word &a, const word &b) { return z3::ult(a, b); }
	static word select(const boolean &c, const word &a, const word &b) { return z3::ite(c, a, b); }

	// Lowest set bit: the first i (from bit 0) with bit i set, 64 when none.
	static word ctz(const word &x)
	{
		word r = lit(64);
		for (int i = 63; i >= 0; i--)
			r = z3::ite(x.extract(i, i) == ctx().bv_val(1, 1), lit(i), r);
		return r;
	}

	// Highest set bit: the first i (from bit 63) with bit i set, 0 when none.
	static word ilog2(const word &x)
	{
		word r = lit(0);
		for (int i = 0; i <= 63; i++)
			r = z3::ite(x.extract(i, i) == ctx().bv_val(1, 1), lit(i), r);
		return r;
	}

	static word shl(const word &x, const word &n) { return z3::shl(x, n); }
	static boolean and_(const boolean &a, const boolean &b) { return a && b; }
	static boolean or_(const boolean &a, const boolean &b) { return a || b; }
	static boolean not_(const boolean &a) { return !a; }
};

} // namespace bc::proofs
