// proofs: Z3 proofs of the chunk-splitting routine of
// free_prepared_contig_range() (bc::next_chunk in chunk.hpp), on the code
// that runs: the routine and the obligations are templates over a word
// policy, instantiated once with Z3 bit-vectors (to prove) and once with
// uint64_t (to replay every counterexample on the code the model runs).
//
// For every configuration (the kernel presets, the scaled ones, and "any":
// MAX_PAGE_ORDER and the section shift symbolic within validate()'s ranges)
// each obligation is proved for all 64-bit pfn and count under
//   count >= 1, pfn + count does not overflow, MAX_PAGE_ORDER <= section shift
// (the kernel's MAX_PAGE_ORDER + PAGE_SHIFT <= SECTION_SIZE_BITS), and each
// mutant (a wrong routine or a configuration that breaks the rule) must get a
// counterexample that also breaks on the uint64_t instantiation.
//
// Exit 0 when every obligation is proved and every mutant refuted and
// replayed; 1 otherwise.  run_split (run_step, the run splitting of
// __free_contig_range_common) is proved as an inductive step with its own
// assumptions (see run_split_cell).

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <stdexcept>
#include <string>
#include <vector>

#include "buddycheck/chunk.hpp"
#include "buddycheck/config.hpp"
#include "buddycheck/format.hpp"
#include "mutants.hpp"
#include "proof.hpp"
#include "z3_word.hpp"

namespace bc::proofs {
namespace {

// Every query's budget (proof.hpp, limits).  The hardest query takes 7.7
// million steps with --jobs 1 and up to 10 million on two threads (a
// context's earlier queries change the count a little; RESULT's max_rlimit);
// the bound leaves ten times that.  The clock is a backstop only: that query
// takes 1-2 s on g++ -O2 and 4.5-6.6 s under ASan+UBSan on a busy core, where
// the 5 s timeout this replaced failed it.
constexpr limits query_limits{.rlimit = 100'000'000, .timeout_ms = 300'000};

// --emit-smt2 DIR: every query is also written as a standalone QF_BV file
// named "<z3 answer>.<query>.smt2" (unsat = proved, sat = counterexample), so
// a second solver can be held to Z3's answer (ctest proofs_cvc5).
std::string emit_dir;
std::vector<std::string> emitted; // manifest lines: "answer file"
std::mutex emitted_lock;

std::string file_name(const std::string &query)
{
	std::string out;
	for (char ch : query)
		out += (isalnum((unsigned char)ch) || ch == '-' || ch == '_') ? ch : ch == '+' ? 'p' : '.';
	return out;
}

// Proves and, with --emit-smt2, writes the same query (assumptions && !claim).
outcome prove_and_emit(z3::context &c, const std::string &name, const z3::expr &assumptions, const z3::expr &claim)
{
	outcome o = prove(c, name, assumptions, claim, query_limits);
	if (emit_dir.empty())
		return o;
	const char *answer = o.v == verdict::proved ? "unsat" : o.v == verdict::counterexample ? "sat" : "unknown";
	z3::solver s(c);
	s.add(assumptions);
	s.add(!claim);
	// to_smt2() writes no set-logic and ends with (check-sat).
	std::string text = "(set-logic QF_BV)\n" + s.to_smt2(answer);
	if (text.find("(check-sat)") == std::string::npos)
		text += "(check-sat)\n";
	std::string file = std::string(answer) + "." + file_name(name) + ".smt2";
	std::ofstream f(emit_dir + "/" + file);
	f << text;
	if (!f)
		throw std::runtime_error("cannot write " + emit_dir + "/" + file);
	std::lock_guard<std::mutex> hold(emitted_lock);
	emitted.push_back(std::string(answer) + " " + file);
	return o;
}

// Logical shift right, with the bvlshr meaning for n >= 64.
uint64_t shr(uint64_t a, uint64_t n) { return n < 64 ? a >> n : 0; }
z3::expr shr(const z3::expr &a, const z3::expr &n) { return z3::lshr(a, n); }

template <class W> typename W::boolean ule(const typename W::word &a, const typename W::word &b)
{
	return W::not_(W::ult(b, a));
}

template <class W> typename W::boolean implies(const typename W::boolean &a, const typename W::boolean &b)
{
	return W::or_(W::not_(a), b);
}

template <class W> struct input {
	typename W::word pfn, count, max_order, shift; // shift: pfn bits per section
	typename W::word pageblock_order;
	typename W::word pfn0, count0; // the whole run, for the loop invariant (tiling)
};

// pfn is a multiple of 2^order.
template <class W> typename W::boolean aligned(const typename W::word &pfn, const typename W::word &order)
{
	return W::is_zero(pfn & (W::shl(W::lit(1), order) - W::lit(1)));
}

template <class W> typename W::boolean alignment(const input<W> &in, const chunk_step<W> &s)
{
	return aligned<W>(in.pfn, s.order);
}

template <class W> typename W::boolean fit(const input<W> &in, const chunk_step<W> &s)
{
	return ule<W>(W::shl(W::lit(1), s.order), in.count);
}

template <class W> typename W::boolean cap(const input<W> &in, const chunk_step<W> &s)
{
	return ule<W>(s.order, in.max_order);
}

template <class W> typename W::boolean section(const input<W> &in, const chunk_step<W> &s)
{
	auto last = in.pfn + W::shl(W::lit(1), s.order) - W::lit(1);
	return W::eq(shr(in.pfn, in.shift), shr(last, in.shift));
}

template <class W> typename W::boolean maximality(const input<W> &in, const chunk_step<W> &s)
{
	auto up = s.order + W::lit(1);
	return W::or_(W::not_(aligned<W>(in.pfn, up)),
		      W::or_(W::ult(in.count, W::shl(W::lit(1), up)), W::ult(in.max_order, up)));
}

// count - size < count (unsigned) holds iff 0 < size <= count, so the count
// strictly decreases and does not wrap below 0; the rest of the run is
// exactly [next_pfn, next_pfn + next_count).
template <class W> typename W::boolean progress(const input<W> &in, const chunk_step<W> &s)
{
	return W::and_(W::ult(s.next_count, in.count), W::eq(s.next_pfn + s.next_count, in.pfn + in.count));
}

// A chunk of order >= pageblock_order covers whole aligned pageblocks (so
// every pageblock of it has one migratetype decision).
template <class W> typename W::boolean pageblock(const input<W> &in, const chunk_step<W> &s)
{
	return W::or_(W::ult(s.order, in.pageblock_order),
		      W::and_(aligned<W>(in.pfn, in.pageblock_order),
			      aligned<W>(W::shl(W::lit(1), s.order), in.pageblock_order)));
}

// __find_buddy_pfn() and the merged block: for an order-aligned pfn and
// order < MAX_PAGE_ORDER, buddy = pfn ^ 2^order is order-aligned and in pfn's
// section, and the merged block at pfn & buddy is (order + 1)-aligned and
// within one section.  The order is the step's (any_aligned_order: free).
template <class W> typename W::boolean buddy(const input<W> &in, const chunk_step<W> &s)
{
	auto size = W::shl(W::lit(1), s.order);
	auto buddy_pfn = in.pfn ^ size;
	auto merged = in.pfn & buddy_pfn;
	auto up = s.order + W::lit(1);
	auto merged_last = merged + W::shl(W::lit(1), up) - W::lit(1);
	auto premise = W::and_(W::ult(s.order, in.max_order), aligned<W>(in.pfn, s.order));
	auto claim = W::and_(W::and_(aligned<W>(buddy_pfn, s.order), W::eq(shr(buddy_pfn, in.shift), shr(in.pfn, in.shift))),
			     W::and_(aligned<W>(merged, up), W::eq(shr(merged, in.shift), shr(merged_last, in.shift))));
	return W::or_(W::not_(premise), claim);
}

// The step's order is the real routine's order (for routines that must be
// equivalent to it).
template <class W> typename W::boolean same_order(const input<W> &in, const chunk_step<W> &s)
{
	return W::eq(s.order, chunk_order<W>(in.pfn, in.count, in.max_order));
}

// Exact tiling, inductively over the loop of free_prepared_contig_range()
// starting at [pfn0, pfn0 + count0): the invariant "the chunks so far cover
// [pfn0, pfn) exactly and [pfn, pfn + count) is the rest" (covered = pfn -
// pfn0 without wrap, covered + count == count0) holds initially; one chunk
// [pfn, next_pfn) (non-empty, exactly 2^order pages, adjacent to the covered
// prefix, so neither a gap nor an overlap) keeps it; at count == 0 the
// covered prefix is the whole run.
template <class W>
typename W::boolean tiled(const input<W> &in, const typename W::word &pfn, const typename W::word &count)
{
	auto end = in.pfn0 + in.count0;
	return W::and_(W::and_(ule<W>(in.pfn0, pfn), ule<W>(pfn, end)), W::eq(pfn + count, end));
}

template <class W> typename W::boolean tiling(const input<W> &in, const chunk_step<W> &s)
{
	auto init = tiled<W>(in, in.pfn0, in.count0);
	auto exit = implies<W>(tiled<W>(in, in.pfn, W::lit(0)), W::eq(in.pfn, in.pfn0 + in.count0));
	auto chunk = W::and_(W::ult(in.pfn, s.next_pfn), W::eq(s.next_pfn, in.pfn + W::shl(W::lit(1), s.order)));
	auto step = implies<W>(tiled<W>(in, in.pfn, in.count), W::and_(chunk, tiled<W>(in, s.next_pfn, s.next_count)));
	return implies<W>(ule<W>(in.pfn0, ~in.count0), W::and_(init, W::and_(exit, step)));
}

// The ranking function of the chunk loop.  With a = min(MAX_PAGE_ORDER,
// ilog2(count) + 1), a state is "settled" when ctz(pfn) >= a (pfn 0: ctz 64):
// from there every chunk is MAX_PAGE_ORDER while count >= 2^MAX, then the
// top bit of count (at most a more), so rank = (count >> MAX) + a.
// Otherwise the chunks climb: each raises ctz(pfn), at most MAX - ctz(pfn)
// of them before settling, so rank = (count >> MAX) + MAX + (MAX - ctz(pfn)).
// rank(pfn, 0) = 0.
template <class W>
typename W::word rank(const typename W::word &pfn, const typename W::word &count, const typename W::word &max_order)
{
	auto a = umin<W>(max_order, W::ilog2(count) + W::lit(1));
	auto tz = W::ctz(pfn);
	auto climb = max_order + max_order - tz;
	return W::select(W::is_zero(count), W::lit(0), shr(count, max_order) + W::select(ule<W>(a, tz), a, climb));
}

// Iteration bound: every chunk strictly lowers rank, and rank(pfn, count)
// <= 2 * MAX_PAGE_ORDER + (count >> MAX_PAGE_ORDER) (no wrap), so the loop
// makes at most that many chunks, within 2 * (MAX + 1) + (count >> MAX).
template <class W> typename W::boolean bound(const input<W> &in, const chunk_step<W> &s)
{
	auto r = rank<W>(in.pfn, in.count, in.max_order);
	auto big = shr(in.count, in.max_order);
	auto start = W::and_(ule<W>(big, r), ule<W>(r - big, in.max_order + in.max_order));
	return W::and_(start, W::ult(rank<W>(s.next_pfn, s.next_count, in.max_order), r));
}

struct obligation {
	const char *name;
	const char *statement;
	z3::expr (*z3)(const input<z3_word> &, const chunk_step<z3_word> &);
	bool (*u64)(const input<u64_word> &, const chunk_step<u64_word> &);
};

#define BC_OBLIGATION(fn, statement) obligation{#fn, statement, fn<z3_word>, fn<u64_word>}

const obligation obl_alignment = BC_OBLIGATION(alignment, "pfn mod 2^order == 0");
const obligation obl_fit = BC_OBLIGATION(fit, "2^order <= count");
const obligation obl_cap = BC_OBLIGATION(cap, "order <= MAX_PAGE_ORDER");
const obligation obl_section =
	BC_OBLIGATION(section, "pfn >> shift == (pfn + 2^order - 1) >> shift (first and last page in one section)");
const obligation obl_maximality = BC_OBLIGATION(
	maximality, "order + 1 breaks alignment, fit or the cap (the chunk is the largest allowed)");
const obligation obl_progress =
	BC_OBLIGATION(progress, "next_count < count (no wrap) and next_pfn + next_count == pfn + count");
const obligation obl_pageblock = BC_OBLIGATION(
	pageblock, "order >= pageblock_order implies pfn and 2^order are multiples of 2^pageblock_order");
const obligation obl_buddy = BC_OBLIGATION(
	buddy, "order < MAX, pfn aligned: pfn ^ 2^order aligned, same section; pfn & buddy (order+1)-aligned, one section");
const obligation obl_tiling = BC_OBLIGATION(
	tiling, "inductive: chunks so far tile [pfn0, pfn), the next is [pfn, pfn + 2^order), at count 0 pfn == pfn0 + count0");
const obligation obl_bound = BC_OBLIGATION(
	bound, "rank(pfn, count) <= 2*MAX + (count >> MAX) and strictly drops per chunk: <= 2*(MAX+1) + (count >> MAX) chunks");
const obligation obl_same_order =
	BC_OBLIGATION(same_order, "with ctz(0) = 64 the pfn-0 guard changes no order");

using z3_step_fn = chunk_step<z3_word> (*)(const z3::expr &, const z3::expr &, const z3::expr &);
using u64_step_fn = chunk_step<u64_word> (*)(const uint64_t &, const uint64_t &, const uint64_t &);

struct routine {
	const char *name;
	z3_step_fn z3;
	u64_step_fn u64;
	bool ub_ctz = false;     // ctz(0) is the free constant "ctz0"
	bool free_order = false; // order is the free constant "order"
};

chunk_step<z3_word> ub_ctz_z3(const z3::expr &pfn, const z3::expr &count, const z3::expr &max_order)
{
	auto s = unguarded_ctz_chunk<ub_ctz_z3_word>(pfn, count, max_order);
	return {s.order, s.next_pfn, s.next_count};
}

chunk_step<u64_word> ub_ctz_u64(const uint64_t &pfn, const uint64_t &count, const uint64_t &max_order)
{
	auto s = unguarded_ctz_chunk<ub_ctz_u64_word>(pfn, count, max_order);
	return {s.order, s.next_pfn, s.next_count};
}

#define BC_ROUTINE(name, fn) routine{name, fn<z3_word>, fn<u64_word>}

// Not a chunk routine: any order (the constant "order"), for obligations
// about every block the buddy allocator can hold.
thread_local uint64_t replay_order = 0;

chunk_step<z3_word> any_order_z3(const z3::expr &pfn, const z3::expr &count, const z3::expr & /*max_order*/)
{
	return step_of_order<z3_word>(z3_word::ctx().bv_const("order", 64), pfn, count);
}

chunk_step<u64_word> any_order_u64(const uint64_t &pfn, const uint64_t &count, const uint64_t & /*max_order*/)
{
	return step_of_order<u64_word>(replay_order, pfn, count);
}

const routine real = BC_ROUTINE("next_chunk", next_chunk);
const routine uncapped = BC_ROUTINE("uncapped", uncapped_chunk);
const routine ilog2_plus_one = BC_ROUTINE("ilog2+1", ilog2_plus_one_chunk);
const routine unaligned = BC_ROUTINE("unaligned", unaligned_chunk);
const routine unguarded_ctz64 = BC_ROUTINE("unguarded-ctz(0)=64", unguarded_ctz_chunk);
const routine unguarded_ub = {"unguarded-ctz(0)-undefined", ub_ctz_z3, ub_ctz_u64, true};
const routine mask_as_size = BC_ROUTINE("mask-as-size", mask_as_size_chunk);
const routine pfn_plus_order = BC_ROUTINE("pfn+=order", pfn_plus_order_chunk);
const routine exclusive_cap = BC_ROUTINE("cap-MAX-1", exclusive_cap_chunk);
const routine any_order = {"any order", any_order_z3, any_order_u64, false, true};

struct column {
	std::string name;
	bool symbolic = false; // MAX_PAGE_ORDER and shift are unknowns
	unsigned max_order = 0, shift = 0, pageblock_order = 0;
};

struct row {
	const obligation *obl;
	const routine *fn;
	bool broken_config = false; // MAX_PAGE_ORDER = shift + 1 (breaks the kernel rule)
	bool expect_proved = true;
	struct cell (*custom)(const row &, const struct column &) = nullptr; // not a chunk_step obligation
};

struct cell {
	outcome out;
	bool ok = false;
	std::string detail; // counterexample and its replay
};

uint64_t value(const z3::model &m, const z3::expr &e) { return m.eval(e, true).get_numeral_uint64(); }

cell run(const row &r, const column &col)
{
	if (r.custom)
		return r.custom(r, col);
	auto &c = z3_word::ctx();
	input<z3_word> in{c.bv_const("pfn", 64), c.bv_const("count", 64), z3_word::lit(col.max_order),
			  z3_word::lit(col.shift), z3_word::lit(col.pageblock_order), c.bv_const("pfn0", 64),
			  c.bv_const("count0", 64)};
	z3::expr assume = !z3_word::is_zero(in.count) && ule<z3_word>(in.pfn, ~in.count);
	if (col.symbolic) {
		in.max_order = c.bv_const("max_order", 64);
		in.shift = c.bv_const("shift", 64);
		in.pageblock_order = c.bv_const("pageblock_order", 64);
		assume = assume && z3::ule(in.pageblock_order, in.max_order);
		// validate(): MAX_PAGE_ORDER <= 15, 1 <= PAGE_SHIFT, SECTION_SIZE_BITS < 48.
		assume = assume && z3::ule(in.max_order, z3_word::lit(15)) && z3::ule(in.shift, z3_word::lit(46)) &&
			 z3::ule(z3_word::lit(1), in.shift);
		assume = assume && (r.broken_config ? z3::ult(in.shift, in.max_order) : z3::ule(in.max_order, in.shift));
	} else if (r.broken_config) {
		in.max_order = z3_word::lit(col.shift + 1);
	} else {
		assume = assume && ule<z3_word>(in.max_order, in.shift); // holds for every preset
	}
	auto step = r.fn->z3(in.pfn, in.count, in.max_order);
	std::string name = std::string(r.obl->name) + "/" + r.fn->name + (r.broken_config ? "/broken-config" : "") +
			   "/" + col.name;
	cell out;
	out.out = prove_and_emit(c, name, assume, r.obl->z3(in, step));
	if (out.out.v != verdict::counterexample) {
		out.ok = r.expect_proved && out.out.v == verdict::proved;
		return out;
	}
	// Replay the counterexample on the uint64_t instantiation.
	const z3::model &m = *out.out.model;
	input<u64_word> u{value(m, in.pfn), value(m, in.count), value(m, in.max_order), value(m, in.shift),
			    value(m, in.pageblock_order), value(m, in.pfn0), value(m, in.count0)};
	if (r.fn->ub_ctz)
		ub_ctz_u64_word::ctz0 = value(m, c.bv_const("ctz0", 64));
	if (r.fn->free_order)
		replay_order = value(m, c.bv_const("order", 64));
	auto us = r.fn->u64(u.pfn, u.count, u.max_order);
	bool breaks = !r.obl->u64(u, us);
	bool agree = value(m, step.order) == us.order;
	char buf[512];
	snprintf(buf, sizeof buf,
		 "pfn=0x%" PRIx64 " count=0x%" PRIx64 " MAX_PAGE_ORDER=%" PRIu64 " shift=%" PRIu64
		 " pageblock_order=%" PRIu64 "%s -> order %" PRIu64 ", chunk [0x%" PRIx64 ", 0x%" PRIx64 ") next_count=0x%" PRIx64
		 "; u64 replay: %s, z3/u64 order %s",
		 u.pfn, u.count, u.max_order, u.shift, u.pageblock_order,
		 r.fn->ub_ctz ? (" ctz(0)=" + std::to_string(ub_ctz_u64_word::ctz0)).c_str() : "", us.order, u.pfn,
		 us.next_pfn, us.next_count, breaks ? "breaks" : "HOLDS (replay failed)", agree ? "agree" : "DIFFER");
	out.detail = buf;
	if (r.obl == &obl_tiling)
		out.detail += "; run [pfn0, +count0) = [" + hex(u.pfn0) + ", +" + hex(u.count0) + ")";
	if (r.obl == &obl_bound)
		out.detail += "; rank " + std::to_string(rank<u64_word>(u.pfn, u.count, u.max_order)) + " -> " +
			      std::to_string(rank<u64_word>(us.next_pfn, us.next_count, u.max_order));
	out.ok = !r.expect_proved && breaks && agree;
	return out;
}

// a >> shift == b >> shift, with one shift (cheaper for a symbolic shift).
template <class W>
typename W::boolean same_section(const typename W::word &a, const typename W::word &b, const typename W::word &shift)
{
	return W::ult(a ^ b, W::shl(W::lit(1), shift));
}

// Run splitting (__free_contig_range_common): the open run of run_step is
// inductive over the walk of consecutive pfns.  Invariant before page pfn:
// no run is open, or the run [start, start + len) ends at pfn and its first
// and last page are in s.section.  One step keeps it for pfn + 1, and every
// flushed run is non-empty and within one section.
template <class W> typename W::boolean run_invariant(const run_state<W> &s, const typename W::word &next_pfn,
						     const typename W::word &shift)
{
	auto last = s.start + s.len - W::lit(1);
	return W::or_(W::is_zero(s.len),
		      W::and_(W::eq(s.start + s.len, next_pfn),
			      W::and_(W::eq(shr(s.start, shift), s.section), same_section<W>(s.start, last, shift))));
}

template <class W>
typename W::boolean run_split(const run_state<W> & /*s*/, const typename W::word &pfn, const typename W::word &shift,
			      const run_step_result<W> &r)
{
	auto flushed = W::or_(W::not_(r.flush),
			      W::and_(W::not_(W::is_zero(r.flush_len)),
				      same_section<W>(r.flush_start, r.flush_start + r.flush_len - W::lit(1), shift)));
	return W::and_(flushed, run_invariant<W>(r.next, pfn + W::lit(1), shift));
}

// The caller's page step: the section of pfn is pfn >> shift (pfn_to_section_nr).
template <class W>
run_step_result<W> page_step(const run_state<W> &s, const typename W::word &pfn, const typename W::word &shift,
			     const typename W::boolean &prepared)
{
	return run_step<W>(s, pfn, shr(pfn, shift), prepared);
}

// Mutant: the caller does not recompute the section per page (it passes the
// open run's), so a run never splits at a section boundary.
template <class W>
run_step_result<W> stale_section_step(const run_state<W> &s, const typename W::word &pfn, const typename W::word & /*shift*/,
				      const typename W::boolean &prepared)
{
	return run_step<W>(s, pfn, s.section, prepared);
}

template <class W>
using page_step_fn = run_step_result<W> (*)(const run_state<W> &, const typename W::word &, const typename W::word &,
					    const typename W::boolean &);

template <page_step_fn<z3_word> Z, page_step_fn<u64_word> U> cell run_split_cell(const row &r, const column &col)
{
	auto &c = z3_word::ctx();
	run_state<z3_word> s{c.bv_const("start", 64), c.bv_const("len", 64), c.bv_const("section", 64)};
	z3::expr pfn = c.bv_const("pfn", 64), prepared = c.bool_const("prepared");
	z3::expr shift = col.symbolic ? c.bv_const("shift", 64) : z3_word::lit(col.shift);
	z3::expr assume = z3::ult(pfn, z3_word::lit(~uint64_t(0))) && run_invariant<z3_word>(s, pfn, shift);
	if (col.symbolic)
		assume = assume && z3::ule(shift, z3_word::lit(46)) && z3::ule(z3_word::lit(1), shift);
	cell out;
	out.out = prove_and_emit(c, std::string("run_split/") + r.fn->name + "/" + col.name, assume,
				 run_split<z3_word>(s, pfn, shift, Z(s, pfn, shift, prepared)));
	if (out.out.v != verdict::counterexample) {
		out.ok = r.expect_proved && out.out.v == verdict::proved;
		return out;
	}
	const z3::model &m = *out.out.model;
	run_state<u64_word> us{value(m, s.start), value(m, s.len), value(m, s.section)};
	uint64_t upfn = value(m, pfn), ushift = value(m, shift);
	bool uprep = m.eval(prepared, true).is_true();
	auto ur = U(us, upfn, ushift, uprep);
	bool breaks = !run_split<u64_word>(us, upfn, ushift, ur);
	char buf[512];
	snprintf(buf, sizeof buf,
		 "run [0x%" PRIx64 ", +0x%" PRIx64 ") section %" PRIu64 ", page pfn=0x%" PRIx64 " (section %" PRIu64
		 ") %s, shift=%" PRIu64 " -> flush %d [0x%" PRIx64 ", +0x%" PRIx64 "), next run [0x%" PRIx64
		 ", +0x%" PRIx64 ") section %" PRIu64 "; u64 replay: %s",
		 us.start, us.len, us.section, upfn, shr(upfn, ushift), uprep ? "prepared" : "failed", ushift,
		 int(ur.flush), ur.flush_start, ur.flush_len, ur.next.start, ur.next.len, ur.next.section,
		 breaks ? "breaks" : "HOLDS (replay failed)");
	out.detail = buf;
	out.ok = !r.expect_proved && breaks;
	return out;
}

const obligation obl_run_split = {"run_split",
				  "run_step keeps the open run contiguous and in one section; every flushed run is "
				  "non-empty and in one section",
				  nullptr, nullptr};
const routine page_step_routine = {"run_step", nullptr, nullptr};
const routine stale_section_routine = {"stale-section", nullptr, nullptr};

std::string cell_text(const cell &c)
{
	char buf[64];
	const char *v = c.out.v == verdict::proved ? "proved" : c.out.v == verdict::counterexample ? "cex" : "UNKNOWN";
	snprintf(buf, sizeof buf, "%s%s %.0fms", c.ok ? "" : "!", v, c.out.ms);
	return buf;
}

} // namespace
} // namespace bc::proofs

int main(int argc, char **argv)
{
	using namespace bc::proofs;
	std::string only; // ",name,name,": the obligations (and their mutants) to run
	// Queries are independent: run them on every core (one Z3 context per thread).
	unsigned jobs = std::max(1u, std::thread::hardware_concurrency());
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--emit-smt2") && i + 1 < argc) {
			emit_dir = argv[++i];
		} else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
			only = std::string(",") + argv[++i] + ",";
		} else if (!strcmp(argv[i], "--jobs") && i + 1 < argc && atoi(argv[i + 1]) >= 1) {
			jobs = unsigned(atoi(argv[++i]));
		} else {
			fprintf(stderr, "usage: proofs [--emit-smt2 DIR] [--only OBLIGATION[,OBLIGATION...]] [--jobs N]\n");
			return 2;
		}
	}
	std::vector<column> cols;
	for (const auto &name : bc::preset_names()) {
		auto cfg = bc::preset(name);
		cols.push_back({name, false, cfg->max_page_order, cfg->pfn_section_shift(), cfg->pageblock_order});
	}
	cols.push_back({"any", true, 0, 0, 0});

	const std::vector<row> rows = {
		{&obl_alignment, &real},
		{&obl_fit, &real},
		{&obl_cap, &real},
		{&obl_section, &real},
		{&obl_maximality, &real},
		{&obl_progress, &real},
		{&obl_pageblock, &real},
		{&obl_tiling, &real},
		{&obl_bound, &real},
		{&obl_buddy, &any_order},
		{&obl_same_order, &unguarded_ctz64},
		{&obl_run_split, &page_step_routine, false, true, run_split_cell<page_step<z3_word>, page_step<bc::u64_word>>},
		// Mutants: each must be refuted in every column.
		{&obl_alignment, &unaligned, false, false},
		{&obl_fit, &ilog2_plus_one, false, false},
		{&obl_cap, &uncapped, false, false},
		{&obl_section, &uncapped, false, false},
		{&obl_section, &real, true, false},
		{&obl_maximality, &unguarded_ub, false, false},
		{&obl_progress, &mask_as_size, false, false},
		{&obl_pageblock, &unaligned, false, false},
		{&obl_tiling, &pfn_plus_order, false, false},
		{&obl_bound, &exclusive_cap, false, false},
		{&obl_buddy, &any_order, true, false},
		{&obl_run_split, &stale_section_routine, false, false,
		 run_split_cell<stale_section_step<z3_word>, stale_section_step<bc::u64_word>>},
	};

	const obligation *all_obligations[] = {&obl_alignment, &obl_fit,     &obl_cap,   &obl_section,
					       &obl_maximality, &obl_progress, &obl_pageblock, &obl_tiling,
					       &obl_bound,     &obl_buddy,    &obl_same_order, &obl_run_split};
	if (!only.empty()) {
		std::string known = ",";
		for (const auto *o : all_obligations)
			known += std::string(o->name) + ",";
		for (size_t a = 1, b; (b = only.find(',', a)) != std::string::npos; a = b + 1)
			if (b == a || known.find("," + only.substr(a, b - a) + ",") == std::string::npos) {
				fprintf(stderr, "proofs: --only: unknown obligation '%s' (known: %s)\n",
					only.substr(a, b - a).c_str(), known.substr(1, known.size() - 2).c_str());
				return 2;
			}
	}
	auto selected = [&](const obligation *o) { return only.empty() || only.find(std::string(",") + o->name + ",") != std::string::npos; };
	try {
		printf("Obligations (for all 64-bit pfn, count; count >= 1, pfn + count < 2^64, "
		       "MAX_PAGE_ORDER <= SECTION_SIZE_BITS - PAGE_SHIFT):\n");
		for (const auto *o : all_obligations)
			if (selected(o))
				printf("  %-11s %s\n", o->name, o->statement);
		printf("\n%-48s", "obligation / routine");
		for (const auto &c : cols)
			printf(" %-13s", c.name.c_str());
		printf("\n");
		std::vector<std::string> details;
		bool all_ok = true;
		double total = 0, slowest_proof = 0, slowest_mutant = 0;
		uint64_t max_rlimit = 0;
		unsigned obligations = 0, mutants = 0, proved = 0, refuted = 0, failed = 0;
		auto t0 = std::chrono::steady_clock::now();
		// Solve every cell first, on `jobs` threads, then print in order.
		std::vector<std::pair<size_t, size_t>> tasks; // (row, column)
		for (size_t ri = 0; ri < rows.size(); ri++)
			if (selected(rows[ri].obl))
				for (size_t ci = 0; ci < cols.size(); ci++)
					tasks.emplace_back(ri, ci);
		std::vector<cell> results(tasks.size());
		std::vector<std::string> errors(jobs);
		std::atomic<size_t> next{0};
		auto worker = [&](unsigned id) {
			try {
				for (size_t k; (k = next++) < tasks.size();) {
					results[k] = run(rows[tasks[k].first], cols[tasks[k].second]);
					// The model belongs to this thread's context, which
					// ends with the thread: the replay has read it.
					results[k].out.model.reset();
				}
			} catch (const z3::exception &e) {
				errors[id] = std::string("z3: ") + e.msg();
				next = tasks.size();
			} catch (const std::exception &e) {
				errors[id] = e.what();
				next = tasks.size();
			}
		};
		std::vector<std::thread> threads;
		for (unsigned id = 0; id < jobs; id++)
			threads.emplace_back(worker, id);
		for (auto &t : threads)
			t.join();
		for (const auto &e : errors)
			if (!e.empty())
				throw std::runtime_error(e);
		size_t k = 0;
		for (const auto &r : rows) {
			if (!selected(r.obl))
				continue;
			std::string label = std::string(r.obl->name) + " / " + r.fn->name +
					    (r.broken_config ? ", MAX=shift+1" : "") +
					    (r.expect_proved ? "" : " [mutant]");
			printf("%-48s", label.c_str());
			(r.expect_proved ? obligations : mutants)++;
			for (const auto &col : cols) {
				const cell &c = results[k++];
				total += c.out.ms;
				all_ok = all_ok && c.ok;
				failed += !c.ok;
				(r.expect_proved ? proved : refuted) += c.ok;
				double &slowest = r.expect_proved ? slowest_proof : slowest_mutant;
				slowest = std::max(slowest, c.out.ms);
				max_rlimit = std::max(max_rlimit, c.out.rlimit_used);
				printf(" %-13s", cell_text(c).c_str());
				fflush(stdout);
				if (!c.detail.empty())
					details.push_back(label + " @ " + col.name + ": " + c.detail);
				else if (!c.ok)
					details.push_back(label + " @ " + col.name + ": " + verdict_name(c.out.v) + " " +
							  c.out.reason);
			}
			printf("\n");
		}
		printf("\nCounterexamples (replayed on bc::u64_word):\n");
		for (const auto &d : details)
			printf("  %s\n", d.c_str());
		printf("\nsolver time %.0f ms on %u thread(s); %s\n", total, jobs,
		       all_ok ? "every obligation proved, every mutant refuted"
			      : "FAILED (cells marked !: not proved, not refuted, or not replayed)");
		double wall = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
		// One machine-readable line (buddycheck check reads it).
		printf("RESULT verdict=%s obligations=%u mutants=%u configurations=%zu proved=%u refuted=%u failed=%u "
		       "solver_ms=%.0f wall_ms=%.0f slowest_proof_ms=%.0f slowest_mutant_ms=%.0f max_rlimit=%llu rlimit=%llu timeout_ms=%u\n",
		       all_ok ? "pass" : "fail", obligations, mutants, cols.size(), proved, refuted, failed, total, wall,
		       slowest_proof, slowest_mutant, (unsigned long long)max_rlimit, (unsigned long long)query_limits.rlimit,
		       query_limits.timeout_ms);
		if (!emit_dir.empty()) {
			std::ofstream f(emit_dir + "/MANIFEST");
			for (const auto &e : emitted)
				f << e << "\n";
			printf("wrote %zu SMT-LIB2 files and MANIFEST to %s\n", emitted.size(), emit_dir.c_str());
			if (!f)
				throw std::runtime_error("cannot write " + emit_dir + "/MANIFEST");
		}
		return all_ok ? 0 : 1;
	} catch (const std::runtime_error &e) {
		fprintf(stderr, "proofs: %s\n", e.what());
		return 2;
	} catch (const z3::exception &e) {
		fprintf(stderr, "proofs: z3: %s\n", e.msg());
		return 2;
	}
}
