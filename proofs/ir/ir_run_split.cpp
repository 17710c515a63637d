// LLVM IR to Z3 for __free_contig_range_common's per-page loop (ir_loop.hpp,
// split_model): the run splitting, whose obligations candidate_proofs.cpp
// states.
#include "ir_exec.hpp"

#include <llvm/ADT/PostOrderIterator.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>

namespace bc::ir {

using namespace detail;

namespace {

std::vector<split_call> to_split(const std::vector<executor::call_event> &v, size_t from = 0)
{
	std::vector<split_call> out;
	for (size_t k = from; k < v.size(); k++)
		out.push_back({v[k].when, v[k].fn, v[k].page, v[k].len, v[k].where});
	return out;
}

} // namespace

split_model translate_run_split(z3::context &c, const std::string &path, const config_terms &cfg)
{
	split_model m{false,
		      "",
		      c.bv_const("pfn0", 64),
		      c.bv_const("n0", 64),
		      c.bool_const("is_frozen"),
		      c.bv_const("start", 64),
		      c.bv_const("start_sec", 64),
		      c.bv_const("i", 64),
		      c.bool_val(false),
		      {},
		      {},
		      {},
		      {},
		      {},
		      {},
		      c.bool_val(false),
		      c.bool_val(false),
		      c.bv_val(0, 64),
		      c.bv_val(0, 64),
		      c.bv_val(0, 64),
		      c.bv_val(~uint64_t(0), 64)};
	const std::string function = "__free_contig_range_common";
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
	if (f->arg_size() != 3 || !f->getArg(0)->getType()->isIntegerTy(64) || !f->getArg(1)->getType()->isIntegerTy(64) ||
	    !f->getArg(2)->getType()->isIntegerTy(1)) {
		m.reason = function + " does not take (pfn, nr_pages, is_frozen)";
		return m;
	}
	llvm::DominatorTree dt(*f);
	llvm::LoopInfo li(dt);
	std::vector<llvm::Loop *> loops(li.begin(), li.end());
	if (loops.size() != 1 || !loops.front()->getSubLoops().empty()) {
		m.reason = function + " has " + std::to_string(loops.size()) + " loops (the per-page loop must be its only one)";
		return m;
	}
	llvm::Loop *loop = loops.front();
	const llvm::BasicBlock *header = loop->getHeader();
	try {
		llvm::ReversePostOrderTraversal<llvm::Function *> rpo(f);
		std::vector<llvm::BasicBlock *> order(rpo.begin(), rpo.end());
		// Before the loop.
		executor pre(c, cfg, mod->getDataLayout());
		pre.split_mode = true;
		pre.set(f->getArg(0), m.pfn0);
		pre.set(f->getArg(1), m.n0);
		pre.set(f->getArg(2), m.frozen);
		std::set<const llvm::BasicBlock *> after; // blocks reached from the loop's exits
		for (llvm::BasicBlock *b : order) {
			if (loop->contains(b))
				continue;
			bool from_loop = false;
			for (const llvm::BasicBlock *from : llvm::predecessors(b))
				from_loop |= loop->contains(from) || after.count(from);
			if (from_loop) {
				after.insert(b);
				continue;
			}
			z3::expr p = c.bool_val(b == &f->getEntryBlock());
			for (const llvm::BasicBlock *from : llvm::predecessors(b))
				if (pre.pc.count(from))
					p = p || (pre.pc.at(from) && pre.edge(from, b));
			pre.pc.emplace(b, p.simplify());
			pre.phis(b);
			for (const llvm::Instruction &i : *b)
				if (!llvm::isa<llvm::PHINode>(&i) && !i.isTerminator())
					pre.step(i, pre.pc.at(b));
		}
		m.entry_ub = pre.ub;
		m.entry_calls = to_split(pre.calls);
		z3::expr enters = c.bool_val(false);
		for (const llvm::BasicBlock *from : llvm::predecessors(header))
			if (!loop->contains(from) && pre.pc.count(from))
				enters = enters || (pre.pc.at(from) && pre.edge(from, header));
		m.enters = enters.simplify();
		// The state: a pointer (the open run), the page index (+1 on every
		// back edge), the run's section.
		executor it(c, cfg, mod->getDataLayout());
		it.split_mode = true;
		it.set(f->getArg(0), m.pfn0);
		it.set(f->getArg(1), m.n0);
		it.set(f->getArg(2), m.frozen);
		const llvm::PHINode *p_start = nullptr, *p_i = nullptr, *p_sec = nullptr;
		for (const llvm::PHINode &p : header->phis()) {
			if (p.getType()->isPointerTy() && !p_start) {
				p_start = &p;
				continue;
			}
			bool counter = p.getType()->isIntegerTy(64);
			for (unsigned k = 0; counter && k < p.getNumIncomingValues(); k++)
				if (loop->contains(p.getIncomingBlock(k))) {
					const auto *add = llvm::dyn_cast<llvm::BinaryOperator>(p.getIncomingValue(k));
					const auto *one = add ? llvm::dyn_cast<llvm::ConstantInt>(add->getOperand(1)) : nullptr;
					counter = add && add->getOpcode() == llvm::Instruction::Add && add->getOperand(0) == &p &&
						  one && one->isOne();
				}
			if (counter && !p_i)
				p_i = &p;
			else if (p.getType()->isIntegerTy(64) && !p_sec)
				p_sec = &p;
			else
				throw unsupported{"a loop variable buddycheck cannot relate to the run (not the run's start, its "
						  "section or the page index)"};
		}
		if (!p_start || !p_i || !p_sec)
			throw unsupported{"the per-page loop does not carry the open run's start, its section and a page index"};
		it.set(p_start, m.start);
		it.set(p_i, m.i);
		it.set(p_sec, m.sec);
		// The loop's entry values must be: no run, section 0, index 0.
		for (const llvm::PHINode *p : {p_start, p_i, p_sec})
			for (unsigned k = 0; k < p->getNumIncomingValues(); k++)
				if (!loop->contains(p->getIncomingBlock(k))) {
					const llvm::Value *v = p->getIncomingValue(k);
					const bool ok = p == p_start ? llvm::isa<llvm::ConstantPointerNull>(v)
								     : llvm::isa<llvm::ConstantInt>(v) &&
									       llvm::cast<llvm::ConstantInt>(v)->isZero();
					if (!ok)
						throw unsupported{"the loop does not start with no open run at page index 0"};
				}
		z3::expr cont = c.bool_val(false), exit = c.bool_val(false);
		std::optional<z3::expr> ns, ni, nsec;
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
					auto next = [&](const llvm::PHINode *ph, std::optional<z3::expr> &slot) {
						const z3::expr v = it.bv(it.get(ph->getIncomingValueForBlock(b)));
						slot = slot ? z3::ite(e, v, *slot) : v;
					};
					next(p_start, ns);
					next(p_i, ni);
					next(p_sec, nsec);
				} else if (!loop->contains(to)) {
					exit = exit || e;
				}
			}
		}
		m.ub = it.ub;
		m.calls = to_split(it.calls);
		const size_t in_loop = it.calls.size(), ub_in_loop = it.ub.size();
		// After the loop, from its exits.
		for (llvm::BasicBlock *b : order) {
			if (!after.count(b))
				continue;
			z3::expr p = c.bool_val(false);
			for (const llvm::BasicBlock *from : llvm::predecessors(b))
				if (it.pc.count(from))
					p = p || (it.pc.at(from) && it.edge(from, b));
			it.pc.emplace(b, p.simplify());
			it.phis(b);
			for (const llvm::Instruction &i : *b)
				if (!llvm::isa<llvm::PHINode>(&i) && !i.isTerminator())
					it.step(i, it.pc.at(b));
		}
		m.after_calls = to_split(it.calls, in_loop);
		for (size_t k = ub_in_loop; k < it.ub.size(); k++)
			m.ub.push_back(it.ub[k]);
		for (const auto &r : it.reads)
			m.reads.push_back({r.field, r.pfn, r.value});
		m.cont = cont.simplify();
		m.exit = exit.simplify();
		m.next_start = ns ? *ns : m.start;
		m.next_i = ni ? *ni : m.i;
		m.next_sec = nsec ? *nsec : m.sec;
		m.ok = true;
	} catch (const unsupported &u) {
		m.reason = u.why;
	} catch (const z3::exception &e) {
		m.reason = std::string("a term Z3 refused: ") + e.msg();
	}
	return m;
}

} // namespace bc::ir
