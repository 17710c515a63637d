// LLVM IR to Z3 for a candidate's chunk loop (ir_loop.hpp).
#include "ir_exec.hpp"

#include <llvm/ADT/PostOrderIterator.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>

namespace bc::ir {

using namespace detail;

loop_model translate(z3::context &c, const std::string &path, const std::string &function, const config_terms &cfg)
{
	loop_model m{false,
		     "",
		     function,
		     false,
		     c.bool_val(false),
		     {},
		     {{}, {}, c.bool_val(false), c.bool_val(false), c.bv_val(0, 64), c.bv_val(0, 64), c.bv_val(0, 64)},
		     c.bv_const("pos", 64),
		     c.bv_const("cnt", 64),
		     c.bv_const("pfnv", 64),
		     c.bv_const("pfn0", 64),
		     c.bv_const("n0", 64)};
	llvm::LLVMContext lc;
	llvm::SMDiagnostic err;
	std::unique_ptr<llvm::Module> mod = llvm::parseIRFile(path, err, lc);
	if (!mod) {
		m.reason = "cannot read the compiled candidate: " + err.getMessage().str();
		return m;
	}
	llvm::Function *f = mod->getFunction(function);
	if (!f || f->isDeclaration()) {
		m.reason = "the candidate does not define " + function;
		return m;
	}
	if (f->arg_size() != 2) {
		m.reason = function + " does not take (page, nr_pages)";
		return m;
	}
	llvm::DominatorTree dt(*f);
	llvm::LoopInfo li(dt);
	std::vector<llvm::Loop *> loops(li.begin(), li.end());
	if (loops.size() != 1 || !loops.front()->getSubLoops().empty()) {
		m.reason = function + " has " + std::to_string(loops.size()) +
			   " loops (the chunk loop must be its only one, not nested)";
		return m;
	}
	llvm::Loop *loop = loops.front();
	const llvm::BasicBlock *header = loop->getHeader();
	const llvm::Argument *page = f->getArg(0), *nr = f->getArg(1);
	try {
		// Before the loop: the function's blocks outside it, from the entry
		// to the edges into the header.
		executor pre(c, cfg, mod->getDataLayout());
		pre.set(page, m.pfn0);
		pre.set(nr, m.n0);
		llvm::ReversePostOrderTraversal<llvm::Function *> rpo(f);
		std::vector<llvm::BasicBlock *> order(rpo.begin(), rpo.end());
		for (llvm::BasicBlock *b : order) {
			if (loop->contains(b))
				continue;
			z3::expr p = c.bool_val(b == &f->getEntryBlock());
			for (const llvm::BasicBlock *from : llvm::predecessors(b))
				if (!loop->contains(from) && pre.pc.count(from))
					p = p || (pre.pc.at(from) && pre.edge(from, b));
			bool after_loop = false;
			for (const llvm::BasicBlock *from : llvm::predecessors(b))
				after_loop |= loop->contains(from);
			if (after_loop) {
				// After the loop: nothing but a return.
				for (const llvm::Instruction &i : *b)
					if (!llvm::isa<llvm::ReturnInst>(&i) && !llvm::isa<llvm::PHINode>(&i) &&
					    !llvm::isa<llvm::DbgInfoIntrinsic>(&i))
						throw unsupported{where_of(i) + ": code after the loop (" +
								  std::string(i.getOpcodeName()) + ")"};
				continue;
			}
			pre.pc.emplace(b, p.simplify());
			pre.phis(b);
			for (const llvm::Instruction &i : *b)
				if (!llvm::isa<llvm::PHINode>(&i) && !i.isTerminator())
					pre.step(i, pre.pc.at(b));
		}
		if (!pre.chunks.empty())
			throw unsupported{pre.chunks.front().where + ": frees a chunk outside its loop"};
		m.entry_ub = pre.ub;
		// The header's variables: page, nr_pages, page_to_pfn(page).
		executor it(c, cfg, mod->getDataLayout());
		bool have_pos = false, have_cnt = false;
		for (const llvm::PHINode &p : header->phis()) {
			const llvm::Value *v = nullptr;
			for (unsigned k = 0; k < p.getNumIncomingValues(); k++)
				if (!loop->contains(p.getIncomingBlock(k))) {
					if (v && v != p.getIncomingValue(k))
						throw unsupported{where_of(p) + ": a loop variable entered with two values"};
					v = p.getIncomingValue(k);
				}
			const auto *call = llvm::dyn_cast_or_null<llvm::CallInst>(v);
			const bool is_pfn = call && call->getCalledFunction() &&
					    (call->getCalledFunction()->getName() == "bc_page_to_pfn_at" ||
					     call->getCalledFunction()->getName() == "bc_page_to_pfn") &&
					    call->getArgOperand(0) == page;
			if (v == page && !have_pos) {
				it.set(&p, m.pos);
				have_pos = true;
			} else if (v == nr && !have_cnt) {
				it.set(&p, m.cnt);
				have_cnt = true;
			} else if (is_pfn && !m.has_pfn_var) {
				it.set(&p, m.pfnv);
				m.has_pfn_var = true;
			} else {
				std::string s;
				llvm::raw_string_ostream o(s);
				p.printAsOperand(o);
				throw unsupported{
					"the loop variable " + s +
					" does not start as page, nr_pages or page_to_pfn(page), so buddycheck cannot relate it "
					"to the run"};
			}
		}
		if (!have_pos || !have_cnt)
			throw unsupported{"the loop does not carry both the page pointer and nr_pages"};
		// Reaching the loop: the edges into the header.
		z3::expr enters = c.bool_val(false);
		for (const llvm::BasicBlock *from : llvm::predecessors(header))
			if (!loop->contains(from) && pre.pc.count(from))
				enters = enters || (pre.pc.at(from) && pre.edge(from, header));
		m.enters = enters.simplify();
		// One iteration: the loop's blocks in reverse post-order, header first.
		z3::expr cont = c.bool_val(false), exit = c.bool_val(false);
		std::optional<z3::expr> next_pos, next_cnt, next_pfnv;
		for (llvm::BasicBlock *b : order) {
			if (!loop->contains(b))
				continue;
			z3::expr p = c.bool_val(b == header);
			if (b != header)
				for (const llvm::BasicBlock *from : llvm::predecessors(b))
					if (loop->contains(from) && it.pc.count(from))
						p = p || (it.pc.at(from) && it.edge(from, b));
			it.pc.emplace(b, p.simplify());
			if (b != header)
				it.phis(b);
			for (const llvm::Instruction &i : *b)
				if (!llvm::isa<llvm::PHINode>(&i) && !i.isTerminator())
					it.step(i, it.pc.at(b));
			for (const llvm::BasicBlock *to : llvm::successors(b)) {
				const z3::expr e = it.pc.at(b) && it.edge(b, to);
				if (to == header) {
					cont = cont || e;
					for (const llvm::PHINode &ph : header->phis()) {
						const z3::expr v = it.bv(it.get(ph.getIncomingValueForBlock(b)));
						const z3::expr &var = it.get(&ph);
						std::optional<z3::expr> &slot = z3::eq(var, m.pos)   ? next_pos
										: z3::eq(var, m.cnt) ? next_cnt
												     : next_pfnv;
						slot = slot ? z3::ite(e, v, *slot) : v;
					}
				} else if (!loop->contains(to)) {
					exit = exit || e;
				}
			}
			if (llvm::isa<llvm::ReturnInst>(b->getTerminator()))
				exit = exit || it.pc.at(b);
		}
		m.step.chunks = it.chunks;
		m.step.ub = it.ub;
		m.step.cont = cont.simplify();
		m.step.exit = exit.simplify();
		m.step.next_pos = next_pos ? *next_pos : m.pos;
		m.step.next_cnt = next_cnt ? *next_cnt : m.cnt;
		m.step.next_pfnv = next_pfnv ? *next_pfnv : m.step.next_pos;
		if (!m.has_pfn_var)
			m.pfnv = m.pos;
		m.ok = true;
	} catch (const unsupported &u) {
		m.reason = u.why;
	} catch (const z3::exception &e) {
		m.reason = std::string("a term Z3 refused: ") + e.msg();
	}
	return m;
}

} // namespace bc::ir
