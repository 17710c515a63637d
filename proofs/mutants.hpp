// Wrong chunk routines, written over the same word policy as
// bc::next_chunk: each one breaks one obligation, so Z3 must find a
// counterexample, and the uint64_t instantiation must break on it too.
#pragma once

#include <cstdint>

#include "buddycheck/chunk.hpp"
#include "z3_word.hpp"

namespace bc::proofs {

template <class W>
chunk_step<W> step_of_order(const typename W::word &order, const typename W::word &pfn, const typename W::word &count)
{
	auto size = W::shl(W::lit(1), order);
	return {order, pfn + size, count - size};
}

// No cap: min(alignment, ilog2(count)) without MAX_PAGE_ORDER.
template <class W>
chunk_step<W> uncapped_chunk(const typename W::word &pfn, const typename W::word &count,
			     const typename W::word &max_order)
{
	auto align = W::select(W::is_zero(pfn), max_order, W::ctz(pfn));
	return step_of_order<W>(umin<W>(align, W::ilog2(count)), pfn, count);
}

// Rounds the fit up: ilog2(count) + 1.
template <class W>
chunk_step<W> ilog2_plus_one_chunk(const typename W::word &pfn, const typename W::word &count,
				   const typename W::word &max_order)
{
	auto align = W::select(W::is_zero(pfn), max_order, W::ctz(pfn));
	auto order = umin<W>(umin<W>(align, W::ilog2(count) + W::lit(1)), max_order);
	return step_of_order<W>(order, pfn, count);
}

// Forgets the alignment of pfn.
template <class W>
chunk_step<W> unaligned_chunk(const typename W::word &pfn, const typename W::word &count,
			      const typename W::word &max_order)
{
	return step_of_order<W>(umin<W>(W::ilog2(count), max_order), pfn, count);
}

// ctz(pfn) without the pfn-0 guard.  With a ctz whose value at 0 is
// undefined (__ffs(0), __builtin_ctzll(0)) this is wrong; see ub_ctz_word.
template <class W>
chunk_step<W> unguarded_ctz_chunk(const typename W::word &pfn, const typename W::word &count,
				  const typename W::word &max_order)
{
	auto order = umin<W>(umin<W>(W::ctz(pfn), W::ilog2(count)), max_order);
	return step_of_order<W>(order, pfn, count);
}

// Uses the mask (1 << order) - 1 as the chunk size.
template <class W>
chunk_step<W> mask_as_size_chunk(const typename W::word &pfn, const typename W::word &count,
				 const typename W::word &max_order)
{
	auto order = chunk_order<W>(pfn, count, max_order);
	auto size = W::shl(W::lit(1), order) - W::lit(1);
	return {order, pfn + size, count - size};
}

// Advances pfn by the order instead of the chunk size (pfn += order, not
// pfn += 1 << order): the chunks no longer tile the run.
template <class W>
chunk_step<W> pfn_plus_order_chunk(const typename W::word &pfn, const typename W::word &count,
				   const typename W::word &max_order)
{
	auto order = chunk_order<W>(pfn, count, max_order);
	return {order, pfn + order, count - W::shl(W::lit(1), order)};
}

// Caps at MAX_PAGE_ORDER - 1: the old exclusive MAX_ORDER read as the
// inclusive MAX_PAGE_ORDER.  Every chunk is still aligned, fits and tiles,
// but a long run takes twice as many chunks, beyond the iteration bound.
template <class W>
chunk_step<W> exclusive_cap_chunk(const typename W::word &pfn, const typename W::word &count,
				  const typename W::word &max_order)
{
	return step_of_order<W>(chunk_order<W>(pfn, count, max_order - W::lit(1)), pfn, count);
}

// ctz with C's semantics at 0: undefined, so the solver may choose any
// value (the constant "ctz0").
struct ub_ctz_z3_word : z3_word {
	static word ctz(const word &x) { return z3::ite(is_zero(x), ctx().bv_const("ctz0", 64), z3_word::ctz(x)); }
};

// The uint64_t twin: ctz(0) is whatever the counterexample chose.
struct ub_ctz_u64_word : u64_word {
	static inline thread_local uint64_t ctz0 = 64;
	static word ctz(word x) { return x ? u64_word::ctz(x) : ctz0; }
};

} // namespace bc::proofs
