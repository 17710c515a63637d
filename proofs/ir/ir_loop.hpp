// A candidate's chunk loop, from its compiled LLVM IR, as Z3 formulas
// (Alive2's split: this file only builds formulas; candidate_proofs.cpp
// names the queries and asks the solver).
//
// The function (free_prepared_contig_range, compiled by clang -O1 with the
// shim's headers) must have one loop whose header variables start as the
// arguments page and nr_pages and as page_to_pfn(page).  One iteration, from
// symbolic header values, is executed over every path of the loop body at
// once: each value a bit-vector term, each block a path condition, each phi
// an ite over its incoming edges.  A struct page pointer is its pfn (pointer
// arithmetic on struct page is pfn arithmetic: the memmap is contiguous
// within a section, and under flat/vmemmap across sections); calls into the
// model are their contracts (page_to_pfn of a pointer is that pfn,
// __free_frozen_pages records a chunk, bc_max_page_order() is the column's
// MAX_PAGE_ORDER).  Undefined behaviour is recorded with its path condition
// (poison flags, shifts by >= the width, division by zero, cttz/ctlz of 0
// with the zero-is-poison flag, the shim's __ffs(0) report), never assumed
// away.  Anything else (a load, an unknown call, a second loop) is a reason
// the loop cannot be translated: "not proved: REASON".
#pragma once

#include <z3++.h>

#include <string>
#include <vector>

namespace bc::ir {

// The column's configuration as terms (constants or free variables).
struct config_terms {
	z3::expr max_order;  // MAX_PAGE_ORDER, 32 bits (bc_max_page_order())
	z3::expr shift;      // SECTION_SIZE_BITS - PAGE_SHIFT, 32 bits
	z3::expr pageblock;  // pageblock_order, 32 bits
	z3::expr page_shift; // PAGE_SHIFT, 32 bits
};

struct chunk_call {
	z3::expr when;  // the path condition of the call
	z3::expr pfn;   // page_to_pfn of its page, 64 bits
	z3::expr order; // its order, 64 bits (zero-extended)
	std::string where;
};

struct undefined {
	z3::expr when;
	std::string what; // "mm/page_alloc.c:37: shl by >= 64"
};

// One iteration of the loop from header values (pos, cnt, pfnv): pos the
// page pointer's pfn, cnt nr_pages, pfnv the pfn variable (pos when the
// loop has none).
struct iteration {
	std::vector<chunk_call> chunks;
	std::vector<undefined> ub;
	z3::expr cont; // takes the back edge
	z3::expr exit; // leaves the loop
	z3::expr next_pos, next_cnt, next_pfnv;
};

struct loop_model {
	bool ok = false;
	std::string reason; // why not, when !ok
	std::string function;
	bool has_pfn_var = false;
	// Before the loop, from (pfn0, n0): the condition to reach the loop,
	// and what the path there may do that is undefined.
	z3::expr enters;
	std::vector<undefined> entry_ub;
	iteration step;
	z3::expr pos, cnt, pfnv; // the header's free variables
	z3::expr pfn0, n0;       // the function's run: page_to_pfn(page), nr_pages
};

// Translates FUNCTION of the IR file PATH (.ll or .bc) in context C with
// the column's configuration.
loop_model translate(z3::context &c, const std::string &path, const std::string &function, const config_terms &cfg);

// __free_contig_range_common(pfn, nr_pages, is_frozen)'s per-page loop
// (ir_run_split.cpp): state (start: the open run's page or NULLV, its
// section, the page index i), one iteration over all paths, and what runs
// after the loop.  The struct page fields it reads are uninterpreted
// functions of the pfn (`reads`; candidate_proofs.cpp states what the model
// guarantees of them), the kernel's answers for the page too.
struct split_call {
	z3::expr when;
	std::string fn; // free_prepared_contig_range, free_pages_prepare, put_page_testzero
	z3::expr page, len;
	std::string where;
};
struct split_read {
	std::string field; // "@<byte offset in struct page>"
	z3::expr pfn, value;
};
struct split_model {
	bool ok = false;
	std::string reason;
	z3::expr pfn0, n0, frozen; // the arguments (frozen: bool)
	z3::expr start, sec, i;    // the loop's state
	z3::expr enters;           // from the arguments, the loop is reached
	std::vector<undefined> entry_ub;
	std::vector<split_call> entry_calls;
	// One iteration, and the region after the loop reached from it.
	std::vector<undefined> ub;
	std::vector<split_call> calls, after_calls;
	std::vector<split_read> reads;
	z3::expr cont, exit;
	z3::expr next_start, next_sec, next_i;
	z3::expr nullv;
};
split_model translate_run_split(z3::context &c, const std::string &path, const config_terms &cfg);

} // namespace bc::ir
