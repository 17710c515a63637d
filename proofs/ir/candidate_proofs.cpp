// candidate-proofs: the chunk-loop obligations of proofs/README.md proved
// on a candidate's own compiled code (ir_loop.hpp translates its loop).
//
//   candidate-proofs [--function NAME] [--only OBL,...] FILE.ll
//
// FILE.ll is the candidate compiled by clang -O1 -g with the shim's headers
// (buddycheck compiles it; proofs/README.md, "Candidates").  For every
// column (the presets and `any`) and obligation: proved, or a counterexample
// as concrete values (the run pfn0/n0, the loop's state, the configuration,
// the chunk), or "not proved: REASON" when the loop cannot be translated.
// Obligations, over one iteration from any state of the loop's inductive
// invariant Inv (pfn0 <= pos <= pfn0 + n0, pos + cnt == pfn0 + n0, pfn == pos),
// for all 64-bit pfn0, n0 >= 1 with pfn0 + n0 not wrapping and the run in
// one section (the routine's contract with its caller):
//   entry      the loop is reached, nothing undefined before it
//   defined    no undefined behaviour, BUG or WARN on any path
//   one_chunk  exactly one __free_frozen_pages() per iteration
//   alignment, fit, cap, section   of that chunk (as for bc::next_chunk)
//   tiling     the chunk starts at pos; the next state is Inv with pos
//              advanced by the chunk; the loop leaves only when the chunk
//              was the rest of the run (so the chunks tile it, in order)
//   progress   nr_pages drops every iteration (termination: at most n0)
//   zero_exit  a loop that tests nr_pages before its body leaves at 0 pages
//              without freeing (vacuous when it never gets there)
//   maximality each chunk is the largest the alignment, count and cap allow
//              (not a failure: "correct but not batched")
// Last line: RESULT verdict=proved|refuted|not_proved refuted=OBL,...
// not_maximal=COLUMNS reason=... ; exit 0 proved, 1 refuted, 2 not proved.
#include "../proof.hpp"
#include "ir_loop.hpp"

#include "buddycheck/config.hpp"
#include "buddycheck/page.h"

#include <cstddef>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <cctype>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

using namespace bc;

namespace {

struct col_out {
	std::map<std::string, std::string> cells; // obligation -> cell
	std::vector<std::string> details;
	std::map<std::string, std::string> replays;
	std::set<std::string> refuted;
	bool not_maximal = false;
	std::string reason;
};

struct column {
	std::string name;
	bool symbolic = false;
	unsigned max_order = 0, shift = 0, pageblock = 0, page_shift = 12;
};

std::string hexs(uint64_t v)
{
	char b[32];
	std::snprintf(b, sizeof b, "0x%llx", (unsigned long long)v);
	return b;
}

uint64_t value(const z3::model &m, const z3::expr &e) { return m.eval(e, true).get_numeral_uint64(); }

// --emit-smt2 DIR: every query also as a standalone QF_BV file
// "<z3 answer>.<query>.smt2" and a line of DIR/MANIFEST, for cvc5
// (proofs/cvc5_check.sh), as the reference's proofs do.
std::string emit_dir;
std::vector<std::string> emitted;
std::mutex emitted_lock;

// The run splitting's queries have uninterpreted functions (QF_UFBV).
thread_local const char *query_logic = "QF_BV";

proofs::outcome prove_and_emit(z3::context &c, const std::string &name, const z3::expr &assume, const z3::expr &claim,
			       const proofs::limits &lim)
{
	proofs::outcome o = proofs::prove(c, name, assume, claim, lim, query_logic);
	if (emit_dir.empty())
		return o;
	const char *answer = o.v == proofs::verdict::proved           ? "unsat"
			     : o.v == proofs::verdict::counterexample ? "sat"
								      : "unknown";
	z3::solver s(c);
	s.add(assume);
	s.add(!claim);
	std::string text = std::string("(set-logic ") + query_logic + ")\n" + s.to_smt2(answer);
	if (text.find("(check-sat)") == std::string::npos)
		text += "(check-sat)\n";
	std::string file = std::string(answer) + ".";
	for (char ch : name)
		file += std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' ? ch : '.';
	file += ".smt2";
	std::ofstream(emit_dir + "/" + file) << text;
	std::lock_guard<std::mutex> hold(emitted_lock);
	emitted.push_back(std::string(answer) + " " + file);
	return o;
}

// A counterexample buddycheck can run: a first call of the loop (pos ==
// pfn0, so the state is the start of a run, reachable by definition) whose
// run lies in one present section and one zone of a configuration the model
// builds (the column's preset; for `any`, the configuration the solver chose,
// with as many sections as the model's size allows).  For zero_exit, the
// call whose first chunk leaves 0 pages and loops on.  "REPLAY
// obligation=O column=C pfn=P count=N config=<trace config line>", or "".
std::string replay_query(z3::context &c, const column &col, const ir::loop_model &m, const ir::config_terms &cfg,
			 const std::string &obl, const z3::expr &assume, const z3::expr &claim, const z3::expr &continues_at_zero,
			 const z3::model &first)
{
	config conf;
	std::string line;
	if (!col.symbolic) {
		conf = *preset(col.name);
		line = "config preset=" + col.name;
	} else {
		conf = *preset("small");
		conf.max_page_order = unsigned(value(first, cfg.max_order));
		conf.page_shift = unsigned(value(first, cfg.page_shift));
		conf.pageblock_order = unsigned(value(first, cfg.pageblock));
		const unsigned shift = unsigned(value(first, cfg.shift));
		if (shift > 20)
			return "";
		conf.section_size_bits = shift + conf.page_shift;
		conf.nr_sections = std::max<uint64_t>(1, std::min<uint64_t>(4, max_model_pfns >> shift));
		conf.holes.clear();
		default_zones(conf);
		if (validate(conf))
			return "";
		line = "config preset=small page_shift=" + std::to_string(conf.page_shift) +
		       " max_order=" + std::to_string(conf.max_page_order) +
		       " pageblock_order=" + std::to_string(conf.pageblock_order) +
		       " section_bits=" + std::to_string(conf.section_size_bits) +
		       " sections=" + std::to_string(conf.nr_sections);
	}
	const unsigned shift = conf.pfn_section_shift();
	const z3::expr one = c.bv_val(1, 64);
	z3::expr in_zone = c.bool_val(false);
	for (const auto &z : conf.zones)
		in_zone =
			in_zone || (z3::ule(c.bv_val(z.start_pfn, 64), m.pos) && z3::ule(m.pos + m.cnt, c.bv_val(z.end_pfn, 64)));
	z3::expr present = c.bool_val(true);
	for (uint64_t h : conf.holes)
		present = present && z3::lshr(m.pos, c.bv_val(shift, 64)) != c.bv_val(h, 64);
	const z3::expr runnable = m.pos == m.pfn0 && m.cnt == m.n0 && m.cnt != c.bv_val(0, 64) && in_zone && present &&
				  z3::lshr(m.pos, c.bv_val(shift, 64)) == z3::lshr(m.pos + m.cnt - one, c.bv_val(shift, 64));
	z3::expr pin = c.bool_val(true);
	if (col.symbolic)
		pin = cfg.max_order == c.bv_val(conf.max_page_order, 32) && cfg.shift == c.bv_val(shift, 32) &&
		      cfg.pageblock == c.bv_val(conf.pageblock_order, 32) && cfg.page_shift == c.bv_val(conf.page_shift, 32);
	const z3::expr bad = obl == "zero_exit" ? continues_at_zero : assume && !claim;
	const proofs::outcome o =
		proofs::prove(c, "replay/" + obl + "/" + col.name, runnable && pin, !bad, {100000000u, 300000u});
	if (o.v != proofs::verdict::counterexample || !o.model)
		return "";
	return "REPLAY obligation=" + obl + " column=" + col.name + " pfn=" + hexs(value(*o.model, m.pos)) +
	       " count=" + std::to_string(value(*o.model, m.cnt)) + " config=" + line;
}

// Every column on every core (each its own Z3 and LLVM context), the
// symbolic one (the last, and the slowest) first so that it is not left
// running alone at the end; the results in column order, the same however
// the threads ran.
std::vector<col_out> run_columns(const std::vector<column> &cols,
				 const std::function<void(const column &, col_out &)> &run_column)
{
	std::vector<col_out> outs(cols.size());
	std::atomic<size_t> next = 0;
	auto worker = [&] {
		for (size_t n; (n = next++) < cols.size();) {
			const size_t k = (n + cols.size() - 1) % cols.size();
			run_column(cols[k], outs[k]);
		}
	};
	const unsigned n = std::max(1u, std::min<unsigned>(unsigned(cols.size()), std::thread::hardware_concurrency()));
	std::vector<std::thread> pool;
	for (unsigned t = 0; t < n; t++)
		pool.emplace_back(worker);
	for (auto &t : pool)
		t.join();
	return outs;
}

void write_manifest()
{
	if (emit_dir.empty())
		return;
	std::sort(emitted.begin(), emitted.end());
	std::ofstream man(emit_dir + "/MANIFEST");
	for (const auto &e : emitted)
		man << e << "\n";
}

// The table (obligation x column), each counterexample, and one REPLAY line
// per refuted obligation.
void print_report(const std::vector<std::string> &names, const std::function<bool(const std::string &)> &selected,
		  const std::vector<column> &cols, std::map<std::string, std::map<std::string, std::string>> &table,
		  const std::vector<std::string> &details, const std::set<std::string> &refuted,
		  const std::map<std::string, std::string> &replays, int width)
{
	std::printf("%-*s", width, "obligation");
	for (const auto &col : cols)
		std::printf(" %-20s", col.name.c_str());
	std::printf("\n");
	for (const auto &n : names) {
		if (!selected(n))
			continue;
		std::printf("%-*s", width, n.c_str());
		for (const auto &col : cols)
			std::printf(" %-20s", table[n][col.name].c_str());
		std::printf("\n");
	}
	for (const auto &d : details)
		std::printf("  %s\n", d.c_str());
	for (const auto &x : refuted)
		if (x.find('(') == std::string::npos) {
			auto it = replays.find(x);
			std::printf("%s\n", it != replays.end() ? it->second.c_str()
								: ("REPLAY obligation=" + x +
								   " none: no counterexample fits a model buddycheck can run")
									  .c_str());
		}
}

// --function __free_contig_range_common: the run splitting (README,
// "Candidates").  Per column, over one iteration of the per-page loop from
// any state of its invariant: no run open, or the open run is [start, p)
// (p = pfn0 + i, the page about to be looked at), inside one section, with
// start_sec its section.  What the model guarantees of the struct page
// fields the loop reads is stated for each read: the section number in
// page->flags is the pfn's (classic SPARSEMEM), no page is compound.
int run_split_main(const std::string &file, const std::vector<column> &cols, const std::string &only)
{
	const std::vector<std::string> names = {"split_entry",   "split_defined", "split_calls", "split_flush",    "split_cases",
						"split_section", "split_step",    "split_end",   "split_inductive"};
	auto selected = [&](const std::string &n) { return only.empty() || only.find("," + n + ",") != std::string::npos; };
	const proofs::limits lim{100000000u, 300000u};
	std::map<std::string, std::map<std::string, std::string>> table;
	std::set<std::string> refuted;
	std::vector<std::string> details;
	std::map<std::string, std::string> split_replays;
	std::string reason;
	auto run_column = [&](const column &col, col_out &out) {
		query_logic = "QF_UFBV";
		z3::context c;
		ir::config_terms cfg{col.symbolic ? c.bv_const("max_order", 32) : c.bv_val(col.max_order, 32),
				     col.symbolic ? c.bv_const("shift", 32) : c.bv_val(col.shift, 32),
				     col.symbolic ? c.bv_const("pageblock", 32) : c.bv_val(col.pageblock, 32),
				     col.symbolic ? c.bv_const("page_shift", 32) : c.bv_val(col.page_shift, 32)};
		const ir::split_model m = ir::translate_run_split(c, file, cfg);
		if (!m.ok) {
			out.reason = m.reason;
			return;
		}
		const z3::expr one = c.bv_val(1, 64), zero = c.bv_val(0, 64), shift = z3::zext(cfg.shift, 32);
		z3::expr config = c.bool_val(true);
		if (col.symbolic)
			config = z3::ule(cfg.max_order, c.bv_val(15, 32)) && z3::ule(c.bv_val(1, 32), cfg.shift) &&
				 z3::ule(cfg.shift, c.bv_val(46, 32)) && z3::ule(cfg.pageblock, cfg.max_order) &&
				 z3::ule(cfg.max_order, cfg.shift);
		auto sec_of = [&](const z3::expr &pfn) { return z3::lshr(pfn, shift); };
		// The model's struct page fields, at each read.
		z3::expr fields = c.bool_val(true);
		for (const auto &r : m.reads) {
			const unsigned w = r.value.get_sort().bv_size();
			// A read through the null pointer happens on no feasible path:
			// its value is unconstrained (an axiom there could contradict).
			if (r.field == "@" + std::to_string(offsetof(struct page, flags)) && w == 64)
				fields = fields &&
					 z3::implies(r.pfn != m.nullv,
						     z3::lshr(r.value, c.bv_val(BC_SECTIONS_PGSHIFT, 64)) == sec_of(r.pfn) &&
							     (r.value & c.bv_val(uint64_t(1) << PG_head, 64)) == zero);
			else if (r.field == "@" + std::to_string(offsetof(struct page, compound_head)) && w == 64)
				fields = fields && z3::implies(r.pfn != m.nullv, (r.value & one) == zero);
		}
		const z3::expr p = m.pfn0 + m.i;
		const z3::expr open = m.start != m.nullv;
		const z3::expr run = config && m.n0 != zero && z3::ule(m.pfn0, ~m.n0) && m.pfn0 + m.n0 != m.nullv;
		const z3::expr inv = run && z3::ult(m.i, m.n0) &&
				     z3::implies(open, z3::ule(m.pfn0, m.start) && z3::ult(m.start, p) &&
							       m.sec == sec_of(m.start) && sec_of(p - one) == m.sec);
		const z3::expr R = c.function("refcount_drops_to_zero", c.bv_sort(64), c.bool_sort())(p);
		const z3::expr P = c.function("prepare_succeeds", c.bv_sort(64), c.bool_sort())(p);
		const z3::expr good = (m.frozen || R) && P;
		z3::expr no_ub = c.bool_val(true);
		for (const auto &u : m.ub)
			no_ub = no_ub && !u.when;
		z3::expr calls_ok = c.bool_val(true), nprep = c.bv_val(0, 8), nref = c.bv_val(0, 8);
		z3::expr nflush = c.bv_val(0, 8), f_start = zero, f_len = zero;
		for (const auto &k : m.calls) {
			const z3::expr once = z3::ite(k.when, c.bv_val(1, 8), c.bv_val(0, 8));
			if (k.fn == "free_pages_prepare") {
				calls_ok = calls_ok && z3::implies(k.when, k.page == p && (m.frozen || R));
				nprep = nprep + once;
			} else if (k.fn == "put_page_testzero") {
				calls_ok = calls_ok && z3::implies(k.when, k.page == p && !m.frozen);
				nref = nref + once;
			} else {
				nflush = nflush + once;
				f_start = z3::ite(k.when, k.page, f_start);
				f_len = z3::ite(k.when, k.len, f_len);
			}
		}
		calls_ok = calls_ok && z3::ule(nprep, c.bv_val(1, 8)) && z3::ule(nref, c.bv_val(1, 8));
		z3::expr nfinal = c.bv_val(0, 8), a_start = zero, a_len = zero;
		for (const auto &k : m.after_calls)
			if (k.fn == "free_prepared_contig_range") {
				nfinal = nfinal + z3::ite(k.when, c.bv_val(1, 8), c.bv_val(0, 8));
				a_start = z3::ite(k.when, k.page, a_start);
				a_len = z3::ite(k.when, k.len, a_len);
			}
		bool after_other = false;
		for (const auto &k : m.after_calls)
			after_other |= k.fn != "free_prepared_contig_range";
		const z3::expr one8 = c.bv_val(1, 8), zero8 = c.bv_val(0, 8);
		const z3::expr same_sec = sec_of(p) == m.sec;
		const z3::expr base = inv && fields;
		struct query {
			std::string name;
			z3::expr assume, claim;
		};
		z3::expr entry_ok = m.enters && c.bool_val(m.entry_calls.empty());
		for (const auto &u : m.entry_ub)
			entry_ok = entry_ok && !u.when;
		const z3::expr flush_claim =
			z3::ule(nflush, one8) && z3::implies(nflush == one8, open && f_start == m.start && f_len == p - m.start);
		const z3::expr cases_claim =
			z3::implies(good && open && same_sec,
				    nflush == zero8 && m.next_start == m.start && m.next_sec == m.sec) &&
			z3::implies(good && open && !same_sec, nflush == one8 && m.next_start == p && m.next_sec == sec_of(p)) &&
			z3::implies(good && !open, nflush == zero8 && m.next_start == p && m.next_sec == sec_of(p)) &&
			z3::implies(!good && open, nflush == one8 && m.next_start == m.nullv) &&
			z3::implies(!good && !open, nflush == zero8 && m.next_start == m.nullv);
		const z3::expr step_claim = (m.cont || m.exit) &&
					    z3::implies(m.cont, m.next_i == m.i + one && z3::ult(m.i + one, m.n0)) &&
					    z3::implies(m.exit, m.i + one == m.n0);
		// Lemma chaining: a query assumes the claims of the queries it rests
		// on (each proved, or refuted, by its own query), so it asks only
		// its own question.
		std::vector<query> qs = {
			{"split_entry", run, entry_ok},
			{"split_defined", base, no_ub},
			{"split_calls", base, calls_ok},
			{"split_flush", base, flush_claim},
			{"split_cases", base, cases_claim},
			{"split_section", base && flush_claim,
			 z3::implies(nflush == one8, f_len != zero && sec_of(f_start) == sec_of(f_start + f_len - one))},
			{"split_step", base, step_claim},
			{"split_end", base && m.exit,
			 c.bool_val(!after_other) &&
				 z3::ite(m.next_start != m.nullv,
					 nfinal == one8 && a_start == m.next_start && a_len == m.pfn0 + m.n0 - m.next_start,
					 nfinal == zero8)},
			// The induction: a state the loop goes on from satisfies the
			// invariant again (so every open run stays in one section).
			{"split_inductive", base && m.cont && cases_claim && step_claim,
			 z3::ult(m.next_i, m.n0) &&
				 z3::implies(m.next_start != m.nullv, z3::ule(m.pfn0, m.next_start) &&
									      z3::ult(m.next_start, m.pfn0 + m.next_i) &&
									      m.next_sec == sec_of(m.next_start) &&
									      sec_of(m.pfn0 + m.next_i - one) == m.next_sec)},
		};
		for (auto &q : qs) {
			if (!selected(q.name))
				continue;
			const proofs::outcome o = prove_and_emit(c, q.name + "/" + col.name, q.assume, q.claim, lim);
			std::string cellv = proofs::verdict_name(o.v);
			if (o.v == proofs::verdict::counterexample && o.model) {
				const z3::model &mm = *o.model;
				std::string d = q.name + " [" + col.name + "]: pfn0=" + hexs(value(mm, m.pfn0)) +
						" n0=" + hexs(value(mm, m.n0)) + " i=" + hexs(value(mm, m.i)) +
						" start=" + hexs(value(mm, m.start)) +
						" frozen=" + (mm.eval(m.frozen, true).is_true() ? "1" : "0") +
						" good=" + (mm.eval(good, true).is_true() ? "1" : "0");
				for (const auto &u : m.ub)
					if (mm.eval(u.when, true).is_true())
						d += " undefined: " + u.what;
				out.details.push_back(d);
				out.refuted.insert(q.name);
				cellv = "REFUTED";
				// A first iteration buddycheck can run: no run open yet, the
				// run inside one present section and one zone of the preset;
				// the page's answers as a trace sets them up (HWPoison makes
				// free_pages_prepare() fail, an extra reference keeps
				// put_page_testzero() from reaching zero).
				if (!col.symbolic && !out.replays.count(q.name)) {
					const bc::config conf = *preset(col.name);
					z3::expr in_zone = c.bool_val(false);
					for (const auto &zc : conf.zones)
						in_zone = in_zone || (z3::ule(c.bv_val(zc.start_pfn, 64), m.pfn0) &&
								      z3::ule(m.pfn0 + m.n0, c.bv_val(zc.end_pfn, 64)));
					// At most 4096 pages: no more than two sections, both present.
					z3::expr present = c.bool_val(true);
					for (uint64_t h : conf.holes)
						present = present && sec_of(m.pfn0) != c.bv_val(h, 64) &&
							  sec_of(m.pfn0 + m.n0 - one) != c.bv_val(h, 64);
					const z3::expr runnable =
						in_zone && present && z3::ule(m.n0, c.bv_val(4096, 64)) &&
						z3::ule(c.bv_val(uint64_t(4096), 64), c.bv_val(conf.pages_per_section(), 64));
					// From the first iteration on: the violation after k
					// iterations the loop goes on from (k < 4), each with its
					// own page's answers (the state substituted).
					z3::expr_vector vars(c);
					vars.push_back(m.start);
					vars.push_back(m.sec);
					vars.push_back(m.i);
					z3::expr st = m.nullv, ss = zero, si = zero, path = runnable;
					for (int k = 0; k < 4 && !out.replays.count(q.name); k++) {
						z3::expr_vector now(c);
						now.push_back(st);
						now.push_back(ss);
						now.push_back(si);
						auto at = [&](const z3::expr &e) { return z3::expr(e).substitute(vars, now); };
						const proofs::outcome r = proofs::prove(
							c, "replay/" + q.name + "/" + col.name + "/" + std::to_string(k),
							path && at(q.assume), at(q.claim), lim, query_logic);
						if (r.v == proofs::verdict::counterexample && r.model) {
							const z3::model &rm = *r.model;
							const bool frozen = rm.eval(m.frozen, true).is_true();
							// The answers of each page up to the violation.
							std::string poison, extra;
							for (int j = 0; j <= k; j++) {
								const z3::expr pj = m.pfn0 + c.bv_val(uint64_t(j), 64);
								const z3::expr Pj = c.function("prepare_succeeds", c.bv_sort(64),
											       c.bool_sort())(pj);
								const z3::expr Rj = c.function("refcount_drops_to_zero",
											       c.bv_sort(64), c.bool_sort())(pj);
								if (!rm.eval(Pj, true).is_true())
									poison +=
										(poison.empty() ? "" : ",") + hexs(value(rm, pj));
								if (!frozen && !rm.eval(Rj, true).is_true())
									extra += (extra.empty() ? "" : ",") + hexs(value(rm, pj));
							}
							out.replays[q.name] = "REPLAY obligation=" + q.name +
									      " column=" + col.name +
									      " pfn=" + hexs(value(rm, m.pfn0)) +
									      " count=" + std::to_string(value(rm, m.n0)) +
									      " frozen=" + (frozen ? "1" : "0") +
									      " poison=" + (poison.empty() ? "-" : poison) +
									      " extra_ref=" + (extra.empty() ? "-" : extra) +
									      " config=config preset=" + col.name;
						}
						path = path && at(base) && at(m.cont);
						const z3::expr nst = at(m.next_start), nss = at(m.next_sec), nsi = at(m.next_i);
						st = nst;
						ss = nss;
						si = nsi;
					}
				}
			} else if (o.v == proofs::verdict::unknown) {
				out.refuted.insert(q.name + "(unknown)");
				cellv = "unknown";
			}
			out.cells[q.name] = cellv + " " + std::to_string(int(o.ms)) + "ms";
		}
	};
	const std::vector<col_out> outs = run_columns(cols, run_column);
	for (size_t k = 0; k < cols.size(); k++) {
		if (!outs[k].reason.empty() && reason.empty())
			reason = outs[k].reason;
		for (const auto &[obl, cellv] : outs[k].cells)
			table[obl][cols[k].name] = cellv;
		details.insert(details.end(), outs[k].details.begin(), outs[k].details.end());
		refuted.insert(outs[k].refuted.begin(), outs[k].refuted.end());
		for (const auto &[obl, line] : outs[k].replays)
			split_replays.emplace(obl, line);
	}
	write_manifest();
	if (!reason.empty()) {
		std::printf("%s: not proved: %s\n", file.c_str(), reason.c_str());
		std::printf("RESULT verdict=not_proved refuted= not_maximal= reason=%s\n", reason.c_str());
		return 2;
	}
	print_report(names, selected, cols, table, details, refuted, split_replays, 14);
	std::string r;
	for (const auto &x : refuted)
		r += (r.empty() ? "" : ",") + x;
	std::printf("RESULT verdict=%s refuted=%s not_maximal= reason=\n", refuted.empty() ? "proved" : "refuted", r.c_str());
	return refuted.empty() ? 0 : 1;
}

} // namespace

int main(int argc, char **argv)
{
	std::string file, function = "free_prepared_contig_range", only;
	for (int i = 1; i < argc; i++) {
		const std::string a = argv[i];
		if (a == "--function" && i + 1 < argc)
			function = argv[++i];
		else if (a == "--only" && i + 1 < argc)
			only = "," + std::string(argv[++i]) + ",";
		else if (a == "--emit-smt2" && i + 1 < argc)
			emit_dir = argv[++i];
		else if (a[0] == '-') {
			std::fprintf(stderr, "candidate-proofs: unknown option %s\n", a.c_str());
			return 2;
		} else
			file = a;
	}
	if (file.empty()) {
		std::fprintf(stderr, "usage: candidate-proofs [--function NAME] [--only OBL,...] [--emit-smt2 DIR] FILE.ll\n");
		return 2;
	}
	std::vector<column> cols;
	for (const auto &name : preset_names()) {
		const auto cfg = preset(name);
		cols.push_back(
			{name, false, cfg->max_page_order, cfg->pfn_section_shift(), cfg->pageblock_order, cfg->page_shift});
	}
	cols.push_back({"any", true});
	if (function == "__free_contig_range_common")
		return run_split_main(file, cols, only);
	const std::vector<std::string> names = {"entry",   "defined", "one_chunk", "alignment", "fit",       "cap",
						"section", "tiling",  "progress",  "zero_exit", "maximality"};
	auto selected = [&](const std::string &n) { return only.empty() || only.find("," + n + ",") != std::string::npos; };
	const proofs::limits lim{100000000u, 300000u};

	std::map<std::string, std::map<std::string, std::string>> table; // obligation -> column -> cell
	std::set<std::string> refuted, not_maximal;
	std::string reason;
	std::vector<std::string> details;
	std::map<std::string, std::string> replays; // obligation -> its REPLAY line
	auto run_column = [&](const column &col, col_out &out) {
		z3::context c;
		ir::config_terms cfg{col.symbolic ? c.bv_const("max_order", 32) : c.bv_val(col.max_order, 32),
				     col.symbolic ? c.bv_const("shift", 32) : c.bv_val(col.shift, 32),
				     col.symbolic ? c.bv_const("pageblock", 32) : c.bv_val(col.pageblock, 32),
				     col.symbolic ? c.bv_const("page_shift", 32) : c.bv_val(col.page_shift, 32)};
		const ir::loop_model m = ir::translate(c, file, function, cfg);
		if (!m.ok) {
			out.reason = m.reason;
			return;
		}
		const z3::expr one = c.bv_val(1, 64), zero = c.bv_val(0, 64);
		z3::expr config = c.bool_val(true);
		if (col.symbolic)
			config = z3::ule(cfg.max_order, c.bv_val(15, 32)) && z3::ule(c.bv_val(1, 32), cfg.shift) &&
				 z3::ule(cfg.shift, c.bv_val(46, 32)) && z3::ule(cfg.pageblock, cfg.max_order) &&
				 z3::ule(cfg.max_order, cfg.shift) && z3::ule(c.bv_val(12, 32), cfg.page_shift) &&
				 z3::ule(cfg.page_shift, c.bv_val(16, 32));
		// The routine's contract: its caller hands it a run inside one
		// section (__free_contig_range_common splits at section changes).
		const z3::expr run =
			config && m.n0 != zero && z3::ule(m.pfn0, ~m.n0) &&
			z3::lshr(m.pfn0, z3::zext(cfg.shift, 32)) == z3::lshr(m.pfn0 + m.n0 - one, z3::zext(cfg.shift, 32));
		const z3::expr inv = run && z3::ule(m.pfn0, m.pos) && z3::ule(m.pos, m.pfn0 + m.n0) &&
				     m.pos + m.cnt == m.pfn0 + m.n0 && m.pfnv == m.pos;
		const ir::iteration &s = m.step;
		z3::expr sum = c.bv_val(0, 8), ev_pfn = zero, ev_order = zero;
		for (auto it = s.chunks.rbegin(); it != s.chunks.rend(); ++it) {
			sum = sum + z3::ite(it->when, c.bv_val(1, 8), c.bv_val(0, 8));
			ev_pfn = z3::ite(it->when, it->pfn, ev_pfn);
			ev_order = z3::ite(it->when, it->order, ev_order);
		}
		z3::expr no_ub = c.bool_val(true);
		for (const auto &u : s.ub)
			no_ub = no_ub && !u.when;
		z3::expr no_entry_ub = c.bool_val(true);
		for (const auto &u : m.entry_ub)
			no_entry_ub = no_entry_ub && !u.when;
		const z3::expr size = z3::shl(one, ev_order);
		const z3::expr body = inv && m.cnt != zero; // a state the body runs from
		const z3::expr chunk = body && sum == c.bv_val(1, 8) && z3::ult(ev_order, c.bv_val(64, 64));
		const z3::expr maxo = z3::zext(cfg.max_order, 32), shift = z3::zext(cfg.shift, 32);
		const z3::expr o1 = ev_order + one, size1 = z3::shl(one, o1);
		// The loop sees 0 pages left only if an iteration continues with 0.
		const z3::expr continues_at_zero = body && s.cont && s.next_cnt == zero;
		struct query {
			std::string name;
			z3::expr assume, claim;
		};
		std::vector<query> qs = {
			{"entry", run, m.enters && no_entry_ub},
			{"defined", body, no_ub},
			{"one_chunk", body, sum == c.bv_val(1, 8)},
			{"alignment", chunk, (ev_pfn & (size - one)) == zero},
			{"fit", chunk, size != zero && z3::ule(size, m.cnt)},
			{"cap", chunk, z3::ule(ev_order, maxo)},
			{"section", chunk, z3::lshr(ev_pfn, shift) == z3::lshr(ev_pfn + size - one, shift)},
			{"tiling", chunk,
			 ev_pfn == m.pos && (s.cont || s.exit) &&
				 z3::implies(s.cont, s.next_pos == m.pos + size && s.next_cnt == m.cnt - size &&
							     s.next_pfnv == s.next_pos) &&
				 z3::implies(s.exit, size == m.cnt)},
			{"progress", body && s.cont, z3::ult(s.next_cnt, m.cnt) && s.next_pos + s.next_cnt == m.pos + m.cnt},
			{"zero_exit", inv && m.cnt == zero, sum == c.bv_val(0, 8) && s.exit && no_ub},
			{"maximality", chunk,
			 z3::uge(o1, c.bv_val(64, 64)) || (ev_pfn & (size1 - one)) != zero || z3::ugt(size1, m.cnt) ||
				 z3::ugt(o1, maxo)},
		};
		for (auto &q : qs) {
			if (!selected(q.name))
				continue;
			// zero_exit only for a loop that can get to 0 pages left.
			if (q.name == "zero_exit") {
				const proofs::outcome reach =
					proofs::prove(c, "zero_reach/" + col.name, c.bool_val(true), !continues_at_zero, lim);
				if (reach.v == proofs::verdict::proved) {
					out.cells[q.name] = "proved (never at 0)";
					continue;
				}
			}
			const proofs::outcome o = prove_and_emit(c, q.name + "/" + col.name, q.assume, q.claim, lim);
			std::string cellv = proofs::verdict_name(o.v);
			if (o.v == proofs::verdict::counterexample && o.model) {
				const z3::model &mm = *o.model;
				std::string d = q.name + " [" + col.name + "]: pfn0=" + hexs(value(mm, m.pfn0)) +
						" n0=" + hexs(value(mm, m.n0)) + " pos=" + hexs(value(mm, m.pos)) +
						" cnt=" + hexs(value(mm, m.cnt));
				if (col.symbolic)
					d += " MAX_PAGE_ORDER=" + std::to_string(value(mm, cfg.max_order)) +
					     " section_shift=" + std::to_string(value(mm, cfg.shift));
				if (!s.chunks.empty())
					d += " chunk pfn=" + hexs(value(mm, ev_pfn)) +
					     " order=" + std::to_string(value(mm, ev_order)) +
					     " chunks=" + std::to_string(value(mm, z3::zext(sum, 56)));
				for (const auto &u : (q.name == "entry" ? m.entry_ub : s.ub))
					if (mm.eval(u.when, true).is_true())
						d += " undefined: " + u.what;
				out.details.push_back(d);
				if (q.name != "maximality" && !out.replays.count(q.name))
					if (std::string line = replay_query(c, col, m, cfg, q.name, q.assume, q.claim,
									    continues_at_zero, mm);
					    !line.empty())
						out.replays[q.name] = line;
				if (q.name == "maximality") {
					out.not_maximal = true;
					cellv = "not maximal";
				} else {
					out.refuted.insert(q.name);
					cellv = "REFUTED";
				}
			} else if (o.v == proofs::verdict::unknown) {
				out.refuted.insert(q.name + "(unknown)");
				cellv = "unknown";
			}
			out.cells[q.name] = cellv + " " + std::to_string(int(o.ms)) + "ms";
		}
	};
	// The columns on every core (each its own Z3 and LLVM context), merged
	// in column order: the same output however the threads ran.
	const std::vector<col_out> outs = run_columns(cols, run_column);
	for (size_t k = 0; k < cols.size(); k++) {
		const col_out &o = outs[k];
		if (!o.reason.empty() && reason.empty())
			reason = o.reason;
		for (const auto &[obl, cellv] : o.cells)
			table[obl][cols[k].name] = cellv;
		details.insert(details.end(), o.details.begin(), o.details.end());
		for (const auto &[obl, line] : o.replays)
			replays.emplace(obl, line);
		refuted.insert(o.refuted.begin(), o.refuted.end());
		if (o.not_maximal)
			not_maximal.insert(cols[k].name);
	}
	write_manifest();
	if (!reason.empty()) {
		std::printf("%s: not proved: %s\n", file.c_str(), reason.c_str());
		std::printf("RESULT verdict=not_proved refuted= not_maximal= reason=%s\n", reason.c_str());
		return 2;
	}
	print_report(names, selected, cols, table, details, refuted, replays, 12);
	std::string r, nm;
	for (const auto &x : refuted)
		r += (r.empty() ? "" : ",") + x;
	for (const auto &x : not_maximal)
		nm += (nm.empty() ? "" : ",") + x;
	std::printf("RESULT verdict=%s refuted=%s not_maximal=%s reason=\n", refuted.empty() ? "proved" : "refuted", r.c_str(),
		    nm.c_str());
	return refuted.empty() ? 0 : 1;
}
