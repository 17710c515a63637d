// The symbolic executor of proofs/ir (internal to ir_loop.cpp and
// ir_run_split.cpp): LLVM values as Z3 terms, one block at a time under its
// path condition; undefined behaviour recorded, never assumed away.
#pragma once

#include "ir_loop.hpp"

#include <llvm/ADT/PostOrderIterator.h>
#include <llvm/Analysis/LoopInfo.h>
#include <llvm/IR/Constants.h>
#include <llvm/IR/DebugInfoMetadata.h>
#include <llvm/IR/Dominators.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/Operator.h>
#include <llvm/IR/IntrinsicInst.h>
#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>
#include <llvm/Support/raw_ostream.h>

#include <map>
#include <optional>
#include <set>
#include <unordered_map>

namespace bc::ir::detail {

struct unsupported {
	std::string why;
};

inline std::string where_of(const llvm::Instruction &i)
{
	// The candidate's own line: the outermost call site when the
	// instruction comes from an inlined shim helper (__ffs, min_t).
	if (const llvm::DILocation *d = i.getDebugLoc().get()) {
		while (d->getInlinedAt())
			d = d->getInlinedAt();
		return d->getFilename().str() + ":" + std::to_string(d->getLine());
	}
	std::string s;
	llvm::raw_string_ostream o(s);
	i.print(o);
	return "`" + s.substr(s.find_first_not_of(' ')) + "`";
}

// The string a constant global pointer argument points at (bc_kernel_warn's "what").
inline std::string const_string(const llvm::Value *v)
{
	const llvm::Value *s = v->stripPointerCasts();
	if (const auto *ce = llvm::dyn_cast<llvm::ConstantExpr>(v))
		s = ce->getOperand(0)->stripPointerCasts();
	if (const auto *g = llvm::dyn_cast<llvm::GlobalVariable>(s))
		if (g->hasInitializer())
			if (const auto *cd = llvm::dyn_cast<llvm::ConstantDataSequential>(g->getInitializer()))
				if (cd->isString())
					return cd->getAsCString().str();
	return "";
}

inline z3::expr ctz(z3::context &c, const z3::expr &x, unsigned w)
{
	z3::expr r = c.bv_val(w, w);
	for (int i = int(w) - 1; i >= 0; i--)
		r = z3::ite(x.extract(unsigned(i), unsigned(i)) == c.bv_val(1, 1), c.bv_val(unsigned(i), w), r);
	return r;
}

inline z3::expr clz(z3::context &c, const z3::expr &x, unsigned w)
{
	z3::expr r = c.bv_val(w, w);
	for (unsigned i = 0; i < w; i++)
		r = z3::ite(x.extract(i, i) == c.bv_val(1, 1), c.bv_val(w - 1 - i, w), r);
	return r;
}

class executor {
  public:
	executor(z3::context &c, const config_terms &cfg, const llvm::DataLayout &dl) : c_(c), cfg_(cfg), dl_(dl) {}

	z3::context &c_;
	const config_terms &cfg_;
	const llvm::DataLayout &dl_;
	std::unordered_map<const llvm::Value *, z3::expr> val;
	std::unordered_map<const llvm::BasicBlock *, z3::expr> pc;
	std::vector<chunk_call> chunks;
	std::vector<undefined> ub;

	// The run-splitting mode (ir_run_split.cpp): null pointers (NULLV, a
	// value no pfn of a run has), the struct page fields a per-page loop
	// reads (each an uninterpreted function of the pfn), the page's
	// put_page_testzero() and free_pages_prepare() answers (uninterpreted
	// per pfn: anything the kernel could answer), and the calls recorded.
	bool split_mode = false;
	struct call_event {
		z3::expr when;
		std::string fn; // free_prepared_contig_range, free_pages_prepare, put_page_testzero
		z3::expr page, len;
		std::string where;
	};
	std::vector<call_event> calls;
	struct field_read {
		std::string field;
		z3::expr pfn, value;
	};
	std::vector<field_read> reads;
	std::unordered_map<const llvm::Value *, std::pair<z3::expr, std::string>> field_addr; // GEP -> (pfn, field)
	z3::expr nullv() { return c_.bv_val(~uint64_t(0), 64); }
	z3::expr uf(const std::string &name, const z3::expr &pfn, const z3::sort &range)
	{
		return c_.function(name.c_str(), c_.bv_sort(64), range)(pfn);
	}

	static unsigned width(const llvm::Type *t)
	{
		if (t->isPointerTy())
			return 64;
		if (t->isIntegerTy())
			return t->getIntegerBitWidth();
		throw unsupported{"a value of a type that is not an integer or a pointer"};
	}

	z3::expr bv(const z3::expr &e) { return e.is_bool() ? z3::ite(e, c_.bv_val(1, 1), c_.bv_val(0, 1)) : e; }
	z3::expr boolean(const z3::expr &e) { return e.is_bool() ? e : e == c_.bv_val(1, 1); }

	z3::expr get(const llvm::Value *v)
	{
		if (auto it = val.find(v); it != val.end())
			return it->second;
		if (const auto *ci = llvm::dyn_cast<llvm::ConstantInt>(v)) {
			if (ci->getBitWidth() == 1)
				return c_.bool_val(ci->isOne());
			if (ci->getBitWidth() > 64)
				throw unsupported{"an integer wider than 64 bits"};
			return c_.bv_val(uint64_t(ci->getZExtValue()), ci->getBitWidth());
		}
		if (llvm::isa<llvm::UndefValue>(v))
			throw unsupported{"an undefined or poison value in the loop"};
		if (llvm::isa<llvm::ConstantPointerNull>(v)) {
			if (split_mode)
				return nullv();
			throw unsupported{"a null pointer in the loop"};
		}
		std::string s;
		llvm::raw_string_ostream o(s);
		v->printAsOperand(o);
		throw unsupported{"a value it does not model: " + s};
	}

	void set(const llvm::Value *v, const z3::expr &e)
	{
		val.erase(v);
		val.emplace(v, e);
	}

	void undefined_if(const z3::expr &pcond, const z3::expr &cond, const std::string &what)
	{
		ub.push_back({pcond && cond, what});
	}

	// One instruction on the path PCOND.
	void step(const llvm::Instruction &i, const z3::expr &pcond)
	{
		const std::string at = where_of(i);
		if (const auto *bo = llvm::dyn_cast<llvm::BinaryOperator>(&i)) {
			const z3::expr a = bv(get(bo->getOperand(0))), b = bv(get(bo->getOperand(1)));
			const unsigned w = width(bo->getType());
			const bool nuw = llvm::isa<llvm::OverflowingBinaryOperator>(bo) && bo->hasNoUnsignedWrap();
			const bool nsw = llvm::isa<llvm::OverflowingBinaryOperator>(bo) && bo->hasNoSignedWrap();
			const bool exact = llvm::isa<llvm::PossiblyExactOperator>(bo) && bo->isExact();
			z3::expr r = a;
			switch (bo->getOpcode()) {
			case llvm::Instruction::Add:
				r = a + b;
				if (nuw)
					undefined_if(pcond, !z3::bvadd_no_overflow(a, b, false),
						     at + ": unsigned add overflows (nuw)");
				if (nsw)
					undefined_if(pcond, !(z3::bvadd_no_overflow(a, b, true) && z3::bvadd_no_underflow(a, b)),
						     at + ": signed add overflows");
				break;
			case llvm::Instruction::Sub:
				r = a - b;
				if (nuw)
					undefined_if(pcond, !z3::bvsub_no_underflow(a, b, false),
						     at + ": unsigned sub wraps (nuw)");
				if (nsw)
					undefined_if(pcond, !(z3::bvsub_no_overflow(a, b) && z3::bvsub_no_underflow(a, b, true)),
						     at + ": signed sub overflows");
				break;
			case llvm::Instruction::Mul:
				r = a * b;
				if (nuw)
					undefined_if(pcond, !z3::bvmul_no_overflow(a, b, false),
						     at + ": unsigned mul overflows (nuw)");
				if (nsw)
					undefined_if(pcond, !(z3::bvmul_no_overflow(a, b, true) && z3::bvmul_no_underflow(a, b)),
						     at + ": signed mul overflows");
				break;
			case llvm::Instruction::Shl:
			case llvm::Instruction::LShr:
			case llvm::Instruction::AShr: {
				undefined_if(pcond, z3::uge(b, c_.bv_val(w, w)), at + ": shift by >= " + std::to_string(w));
				const auto op = bo->getOpcode();
				r = op == llvm::Instruction::Shl    ? z3::shl(a, b)
				    : op == llvm::Instruction::LShr ? z3::lshr(a, b)
								    : z3::ashr(a, b);
				if (op == llvm::Instruction::Shl && nuw)
					undefined_if(pcond, z3::lshr(r, b) != a, at + ": shl shifts out set bits (nuw)");
				if (op == llvm::Instruction::Shl && nsw)
					undefined_if(pcond, z3::ashr(r, b) != a, at + ": shl overflows (nsw)");
				if (op != llvm::Instruction::Shl && exact)
					undefined_if(pcond, z3::shl(r, b) != a, at + ": exact shift drops set bits");
				break;
			}
			case llvm::Instruction::And:
				r = a & b;
				break;
			case llvm::Instruction::Or:
				r = a | b;
				break;
			case llvm::Instruction::Xor:
				r = a ^ b;
				break;
			case llvm::Instruction::UDiv:
			case llvm::Instruction::URem:
				undefined_if(pcond, b == c_.bv_val(0, w), at + ": division by zero");
				r = bo->getOpcode() == llvm::Instruction::UDiv ? z3::udiv(a, b) : z3::urem(a, b);
				break;
			default:
				throw unsupported{at + ": the operation " + std::string(bo->getOpcodeName())};
			}
			set(&i, w == 1 ? boolean(r) : r);
			return;
		}
		if (const auto *cmp = llvm::dyn_cast<llvm::ICmpInst>(&i)) {
			const z3::expr a = bv(get(cmp->getOperand(0))), b = bv(get(cmp->getOperand(1)));
			z3::expr r = a == b;
			switch (cmp->getPredicate()) {
			case llvm::CmpInst::ICMP_EQ:
				r = a == b;
				break;
			case llvm::CmpInst::ICMP_NE:
				r = a != b;
				break;
			case llvm::CmpInst::ICMP_UGT:
				r = z3::ugt(a, b);
				break;
			case llvm::CmpInst::ICMP_UGE:
				r = z3::uge(a, b);
				break;
			case llvm::CmpInst::ICMP_ULT:
				r = z3::ult(a, b);
				break;
			case llvm::CmpInst::ICMP_ULE:
				r = z3::ule(a, b);
				break;
			case llvm::CmpInst::ICMP_SGT:
				r = a > b;
				break;
			case llvm::CmpInst::ICMP_SGE:
				r = a >= b;
				break;
			case llvm::CmpInst::ICMP_SLT:
				r = a < b;
				break;
			case llvm::CmpInst::ICMP_SLE:
				r = a <= b;
				break;
			default:
				throw unsupported{at + ": a comparison it does not model"};
			}
			set(&i, r);
			return;
		}
		if (const auto *sel = llvm::dyn_cast<llvm::SelectInst>(&i)) {
			const z3::expr t = get(sel->getTrueValue()), f = get(sel->getFalseValue());
			set(&i, z3::ite(boolean(get(sel->getCondition())), t.is_bool() ? t : bv(t), f.is_bool() ? f : bv(f)));
			return;
		}
		if (const auto *cast = llvm::dyn_cast<llvm::CastInst>(&i)) {
			const z3::expr a = bv(get(cast->getOperand(0)));
			const unsigned from = width(cast->getSrcTy()), to = width(cast->getDestTy());
			switch (cast->getOpcode()) {
			case llvm::Instruction::ZExt:
				set(&i, z3::zext(a, to - from));
				return;
			case llvm::Instruction::SExt:
				set(&i, z3::sext(a, to - from));
				return;
			case llvm::Instruction::Trunc:
				set(&i, to == 1 ? boolean(a.extract(0, 0)) : a.extract(to - 1, 0));
				return;
			case llvm::Instruction::BitCast:
				if (cast->getSrcTy()->isPointerTy() && cast->getDestTy()->isPointerTy()) {
					set(&i, a);
					return;
				}
				break;
			default:
				break;
			}
			throw unsupported{at + ": the cast " + std::string(cast->getOpcodeName())};
		}
		if (llvm::isa<llvm::FreezeInst>(&i)) {
			set(&i, get(i.getOperand(0)));
			return;
		}
		if (const auto *gep = llvm::dyn_cast<llvm::GetElementPtrInst>(&i)) {
			// A struct page pointer moved by whole struct pages is that
			// many pfns (the memmap is contiguous where the chunk lies).
			if (gep->getNumIndices() != 1) {
				// A field of a struct page: (its pfn, the field's index path).
				const auto *st0 = llvm::dyn_cast<llvm::StructType>(gep->getSourceElementType());
				const auto *first = llvm::dyn_cast<llvm::ConstantInt>(gep->getOperand(1));
				if (split_mode && st0 && st0->hasName() && st0->getName() == "struct.page" && first &&
				    first->isZero()) {
					// The field by its byte offset in struct page (matched
					// with offsetof() of the model's own struct page).
					llvm::APInt off(64, 0);
					if (!gep->accumulateConstantOffset(dl_, off))
						throw unsupported{at + ": a struct page field at a variable index"};
					const std::string key = "@" + std::to_string(off.getZExtValue());
					field_addr.erase(&i);
					field_addr.emplace(&i, std::make_pair(get(gep->getPointerOperand()), key));
					return;
				}
				throw unsupported{at + ": the address of a field (a getelementptr with " +
						  std::to_string(gep->getNumIndices()) + " indices)"};
			}
			const z3::expr base = get(gep->getPointerOperand());
			const z3::expr idx = bv(get(gep->getOperand(1)));
			const unsigned iw = idx.get_sort().bv_size();
			const z3::expr k = iw < 64 ? z3::sext(idx, 64 - iw) : idx;
			llvm::Type *et = gep->getSourceElementType();
			const auto *st = llvm::dyn_cast<llvm::StructType>(et);
			if (st && st->hasName() && st->getName() == "struct.page") {
				set(&i, base + k);
				return;
			}
			if (et->isIntegerTy(8)) {
				const uint64_t size =
					dl_.getTypeAllocSize(llvm::StructType::getTypeByName(gep->getContext(), "struct.page"));
				if (!size)
					throw unsupported{at + ": a byte offset of a pointer that is not a struct page"};
				undefined_if(pcond, z3::urem(k, c_.bv_val(size, 64)) != c_.bv_val(0, 64),
					     at + ": a struct page pointer moved by part of a struct page");
				set(&i, base + z3::udiv(k, c_.bv_val(size, 64)));
				return;
			}
			throw unsupported{at + ": pointer arithmetic on something else than struct page"};
		}
		if (const auto *call = llvm::dyn_cast<llvm::CallInst>(&i)) {
			const llvm::Function *f = call->getCalledFunction();
			if (!f)
				throw unsupported{at + ": an indirect call"};
			const std::string n = f->getName().str();
			auto arg = [&](unsigned k) { return get(call->getArgOperand(k)); };
			if (n.rfind("llvm.dbg.", 0) == 0 || n.rfind("llvm.lifetime.", 0) == 0 || n == "llvm.assume" ||
			    n == "llvm.experimental.noalias.scope.decl" || n == "bc_cond_resched")
				return;
			if (n.rfind("llvm.cttz.", 0) == 0 || n.rfind("llvm.ctlz.", 0) == 0) {
				const z3::expr x = bv(arg(0));
				const unsigned w = width(call->getType());
				const auto *poison = llvm::dyn_cast<llvm::ConstantInt>(call->getArgOperand(1));
				if (!poison || poison->isOne())
					undefined_if(pcond, x == c_.bv_val(0, w),
						     at + ": " + n.substr(5, 4) + "(0) is undefined");
				set(&i, n.rfind("llvm.cttz.", 0) == 0 ? ctz(c_, x, w) : clz(c_, x, w));
				return;
			}
			if (n.rfind("llvm.umin.", 0) == 0 || n.rfind("llvm.umax.", 0) == 0 || n.rfind("llvm.smin.", 0) == 0 ||
			    n.rfind("llvm.smax.", 0) == 0) {
				const z3::expr a = bv(arg(0)), b = bv(arg(1));
				const std::string k = n.substr(5, 4);
				set(&i, k == "umin"   ? z3::ite(z3::ult(a, b), a, b)
					: k == "umax" ? z3::ite(z3::ugt(a, b), a, b)
					: k == "smin" ? z3::ite(a < b, a, b)
						      : z3::ite(a > b, a, b));
				return;
			}
			if (n == "bc_max_page_order") {
				set(&i, cfg_.max_order);
				return;
			}
			if (n == "bc_pageblock_order") {
				set(&i, cfg_.pageblock);
				return;
			}
			if (n == "bc_page_shift") {
				set(&i, cfg_.page_shift);
				return;
			}
			if (n == "bc_pages_per_section") {
				set(&i, z3::shl(c_.bv_val(1, 64), z3::zext(cfg_.shift, 32)));
				return;
			}
			if (n == "bc_page_to_pfn_at" || n == "bc_page_to_pfn" || n == "bc_pfn_to_page_at" ||
			    n == "bc_pfn_to_page") {
				set(&i, bv(arg(0)));
				return;
			}
			if (n == "bc___free_frozen_pages_at" || n == "__free_frozen_pages") {
				chunks.push_back({pcond, bv(arg(0)),
						  z3::zext(bv(arg(1)), 64 - width(call->getArgOperand(1)->getType())), at});
				return;
			}
			if (n == "bc___ffs" || n == "bc___fls") {
				const z3::expr x = bv(arg(0));
				undefined_if(pcond, x == c_.bv_val(0, 64), at + ": " + n.substr(3) + "(0) is undefined");
				set(&i, n == "bc___ffs" ? ctz(c_, x, 64) : c_.bv_val(63, 64) - clz(c_, x, 64));
				return;
			}
			if (split_mode && (n == "bc_put_page_testzero_at" || n == "bc_put_page_testzero")) {
				const z3::expr p = bv(arg(0));
				const z3::expr r = uf("refcount_drops_to_zero", p, c_.bool_sort());
				calls.push_back({pcond, "put_page_testzero", p, c_.bv_val(0, 64), at});
				set(&i, z3::ite(r, c_.bv_val(1, width(call->getType())), c_.bv_val(0, width(call->getType()))));
				return;
			}
			if (split_mode && (n == "bc_free_pages_prepare_at" || n == "free_pages_prepare")) {
				const z3::expr p = bv(arg(0));
				undefined_if(pcond, bv(arg(1)) != c_.bv_val(0, width(call->getArgOperand(1)->getType())),
					     at + ": free_pages_prepare() of an order above 0");
				calls.push_back({pcond, "free_pages_prepare", p, c_.bv_val(0, 64), at});
				const z3::expr r = uf("prepare_succeeds", p, c_.bool_sort());
				set(&i, call->getType()->isIntegerTy(1) ? r
									: z3::ite(r, c_.bv_val(1, width(call->getType())),
										  c_.bv_val(0, width(call->getType()))));
				return;
			}
			if (split_mode && n == "free_prepared_contig_range") {
				calls.push_back({pcond, n, bv(arg(0)), bv(arg(1)), at});
				return;
			}
			if (n == "bc_kernel_warn") {
				const std::string what = const_string(call->getArgOperand(2));
				const std::string cond = const_string(call->getArgOperand(3));
				undefined_if(
					pcond, c_.bool_val(true),
					at + ": " + (what.empty() ? "a WARN or BUG" : what) +
						(cond.empty() ? "" : "(" + cond + ")") +
						(what == "undefined" || what.find("BUG") != std::string::npos ? "" : " fires"));
				return;
			}
			throw unsupported{at + ": a call of " + n};
		}
		if (const auto *ld = llvm::dyn_cast<llvm::LoadInst>(&i); ld && split_mode) {
			auto it = field_addr.find(ld->getPointerOperand());
			if (it == field_addr.end() || !ld->getType()->isIntegerTy())
				throw unsupported{at + ": a load that is not of a struct page field"};
			const z3::expr v = uf("page_field" + it->second.second + "_" + std::to_string(width(ld->getType())),
					      it->second.first, c_.bv_sort(width(ld->getType())));
			reads.push_back({it->second.second, it->second.first, v});
			set(&i, v);
			return;
		}
		if (llvm::isa<llvm::LoadInst>(&i) || llvm::isa<llvm::StoreInst>(&i))
			throw unsupported{at + ": the loop reads or writes memory (" + std::string(i.getOpcodeName()) + ")"};
		throw unsupported{at + ": the instruction " + std::string(i.getOpcodeName())};
	}

	// The condition of the edge FROM -> TO (true when unconditional).
	z3::expr edge(const llvm::BasicBlock *from, const llvm::BasicBlock *to)
	{
		const llvm::Instruction *t = from->getTerminator();
		if (const auto *br = llvm::dyn_cast<llvm::BranchInst>(t)) {
			if (!br->isConditional())
				return c_.bool_val(true);
			const z3::expr cnd = boolean(get(br->getCondition()));
			z3::expr e = c_.bool_val(false);
			if (br->getSuccessor(0) == to)
				e = e || cnd;
			if (br->getSuccessor(1) == to)
				e = e || !cnd;
			return e.simplify();
		}
		throw unsupported{where_of(*t) + ": a " + std::string(t->getOpcodeName()) + " terminator"};
	}

	// Phis of B (not a header): an ite over the incoming edges.
	void phis(const llvm::BasicBlock *b)
	{
		for (const llvm::PHINode &p : b->phis()) {
			std::optional<z3::expr> r;
			for (unsigned k = 0; k < p.getNumIncomingValues(); k++) {
				const llvm::BasicBlock *from = p.getIncomingBlock(k);
				auto it = pc.find(from);
				if (it == pc.end())
					continue;
				const z3::expr v = get(p.getIncomingValue(k));
				const z3::expr vv = v.is_bool() ? v : bv(v);
				r = r ? z3::ite(it->second && edge(from, b), vv, *r) : vv;
			}
			if (!r)
				throw unsupported{where_of(p) + ": a phi with no incoming path"};
			set(&p, *r);
		}
	}
};

} // namespace bc::ir::detail
