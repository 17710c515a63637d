// The chunk-splitting routine of free_prepared_contig_range() and the
// run-splitting step of __free_contig_range_common(), written once over a
// word type.  The model instantiates them with u64_word (plain uint64_t);
// proofs/ instantiates the same templates with Z3 bit-vectors, so the code
// that is proved is the code that runs.
//
// A word policy W provides:
//   using word, boolean;
//   word lit(uint64_t); boolean is_zero(word); boolean ult(word, word);
//   boolean eq(word, word); word select(boolean, word, word);
//   word ctz(word) (x != 0); word ilog2(word) (x != 0); word shl(word, word);
//   word add, sub, band via operators +, -, &; boolean and_/or_/not_.
#pragma once

#include <cstdint>

namespace bc {

struct u64_word {
	using word = uint64_t;
	using boolean = bool;
	static word lit(uint64_t v) { return v; }
	static boolean is_zero(word x) { return x == 0; }
	static boolean eq(word a, word b) { return a == b; }
	static boolean ult(word a, word b) { return a < b; }
	static word select(boolean c, word a, word b) { return c ? a : b; }
	static word ctz(word x) { return x ? word(__builtin_ctzll(x)) : 64; }
	static word ilog2(word x) { return x ? word(63 - __builtin_clzll(x)) : 0; }
	static word shl(word x, word n) { return n < 64 ? x << n : 0; }
	static boolean and_(boolean a, boolean b) { return a && b; }
	static boolean or_(boolean a, boolean b) { return a || b; }
	static boolean not_(boolean a) { return !a; }
};

template <class W> typename W::word umin(const typename W::word &a, const typename W::word &b)
{
	return W::select(W::ult(a, b), a, b);
}

// Order of the next chunk of a prepared run [pfn, pfn + count), count >= 1:
// the largest naturally aligned power of two that starts at pfn, fits in
// count and does not exceed MAX_PAGE_ORDER.  pfn 0 is aligned to everything,
// and ctz(0) is undefined, so pfn 0 takes max_order as its alignment.
template <class W>
typename W::word chunk_order(const typename W::word &pfn, const typename W::word &count,
			     const typename W::word &max_order)
{
	auto align = W::select(W::is_zero(pfn), max_order, W::ctz(pfn));
	return umin<W>(umin<W>(align, W::ilog2(count)), max_order);
}

template <class W> struct chunk_step {
	typename W::word order;      // order of the chunk that starts at pfn
	typename W::word next_pfn;   // pfn after the chunk
	typename W::word next_count; // pages left after the chunk
};

// One iteration of free_prepared_contig_range().
template <class W>
chunk_step<W> next_chunk(const typename W::word &pfn, const typename W::word &count,
			 const typename W::word &max_order)
{
	auto order = chunk_order<W>(pfn, count, max_order);
	auto size = W::shl(W::lit(1), order);
	return {order, pfn + size, count - size};
}

// The open run of __free_contig_range_common(): prepared pages
// [start, start + len) of one section.  len == 0 means no run is open.
template <class W> struct run_state {
	typename W::word start;
	typename W::word len;
	typename W::word section;
};

template <class W> struct run_step_result {
	typename W::boolean flush; // hand [flush_start, flush_start + flush_len) to the chunk routine
	typename W::word flush_start;
	typename W::word flush_len;
	run_state<W> next;
};

// One page of __free_contig_range_common(): page `pfn` of section `section`
// was (`prepared`) or was not prepared.  A failed page closes the open run;
// a page of another section closes it and opens a new one; otherwise the page
// extends the open run or opens one.
template <class W>
run_step_result<W> run_step(const run_state<W> &s, const typename W::word &pfn, const typename W::word &section,
			    const typename W::boolean &prepared)
{
	auto open = W::not_(W::is_zero(s.len));
	auto other_section = W::not_(W::eq(section, s.section));
	auto flush = W::and_(open, W::or_(W::not_(prepared), other_section));
	auto zero = W::lit(0), one = W::lit(1);
	// Extending: the open run continues (same section, prepared).
	auto extend = W::and_(open, W::and_(prepared, W::not_(other_section)));
	run_state<W> next{
		W::select(extend, s.start, W::select(prepared, pfn, zero)),
		W::select(extend, s.len + one, W::select(prepared, one, zero)),
		W::select(extend, s.section, W::select(prepared, section, zero)),
	};
	return {flush, s.start, s.len, next};
}

} // namespace bc
