// The operations of a trace: one table (op_table) of each operation's name,
// syntax, doc line, parser and printer, read by parse_trace() (one line at
// a time: parse_op()), op_to_line() and op_grammar().
#include "grammar.hpp"

#include "buddycheck/format.hpp"
#include "buddycheck/model.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <unordered_set>

namespace bc {

namespace detail {

static bool looks_like_number(const std::string &s) { return !s.empty() && isdigit((unsigned char)s[0]); }

void op_line::check_range(uint64_t pfn, uint64_t count) const
{
	const config &c = cfg;
	if (count == 0)
		throw parse_failure{"count is 0"};
	if (pfn > UINT64_MAX - count)
		throw parse_failure{"range " + hex(pfn) + " + " + std::to_string(count) + " overflows"};
	if (pfn + count > c.nr_pfns())
		throw parse_failure{"range " + hex(pfn) + "-" + hex(pfn + count - 1) + " goes beyond the last pfn " +
				    hex(c.nr_pfns() - 1)};
	// The first pfn in a hole or in no zone, as a walk over every pfn would
	// report it, in O(holes + zones) rather than O(count): holes are whole
	// sections, and validate() keeps the zones sorted and disjoint.
	const uint64_t end = pfn + count, shift = c.pfn_section_shift();
	uint64_t hole = end; // first pfn of the range in a hole
	for (uint64_t h : c.holes) {
		uint64_t first = h << shift > pfn ? h << shift : pfn;
		if (h >= pfn >> shift && first < end && first < hole)
			hole = first;
	}
	uint64_t gap = pfn; // first pfn of the range in no zone, once the loop ends
	for (const auto &z : c.zones) {
		if (z.end_pfn <= gap)
			continue;
		if (z.start_pfn > gap)
			break;
		gap = z.end_pfn;
	}
	if (hole < end && hole <= gap)
		throw parse_failure{"pfn " + hex(hole) + " is in a hole (section " + std::to_string(hole >> shift) +
				    " is not present)"};
	if (gap < end)
		throw parse_failure{"pfn " + hex(gap) + " is in no zone"};
}

void op_line::need(size_t min, size_t max, const char *usage) const
{
	if (w.size() < min || w.size() > max)
		throw parse_failure{std::string("usage: ") + usage};
}

void op_line::range_or_handle(op &o, const char *usage) const
{
	need(2, 3, usage);
	if (w.size() == 2 && !looks_like_number(w[1])) {
		o.handle = handle_arg(w[1]);
		o.by_handle = true;
		return;
	}
	need(3, 3, usage);
	o.pfn = number(w[1], "pfn");
	o.count = number(w[2], "count");
	check_range(o.pfn, o.count);
}

void op_line::array_order_arg(op &o, const std::string &a) const
{
	if (a == "sorted")
		o.arr = array_order::sorted;
	else if (a == "reversed")
		o.arr = array_order::reversed;
	else if (a.rfind("shuffle=", 0) == 0) {
		o.arr = array_order::shuffled;
		o.seed = number(a.substr(8), "shuffle seed");
	} else
		throw parse_failure{"unknown array order '" + a + "' (sorted, reversed or shuffle=SEED)"};
}

void op_line::single_pfn(op &o, const std::string &s) const
{
	o.pfn = number(s, "pfn");
	check_range(o.pfn, 1);
}

} // namespace detail

namespace {

using namespace detail;

// The grammar of an operation line: one row per op_kind, in its order.  The
// parser finds a row by name, the printer by kind, op_grammar() lists them.
struct op_desc {
	const char *name;   // the words that start the line ("expect free": two)
	op_kind kind;
	const char *syntax; // the whole line's syntax, for usage messages and docs
	const char *doc;
	void (*parse)(const op_line &p, op &o, const op_desc &d); // operands into o, or parse_failure
	void (*print)(const op &o, std::string &s);        // operands, each after a space
};

std::string usage(const char *syntax) { return std::string("usage: ") + syntax; }

void parse_alloc(const op_line &p, op &o, const op_desc &d)
{
	const auto &w = p.w;
	if (w.size() < 3)
		throw parse_failure{usage(d.syntax)};
	o.handle = handle_arg(w[1]);
	bool have_order = false;
	for (size_t i = 2; i < w.size(); i++) {
		const std::string &a = w[i];
		if (a.rfind("order=", 0) == 0) {
			o.order = small_number(a.substr(6), "order", p.cfg.max_page_order);
			have_order = true;
		} else if (a.rfind("mt=", 0) == 0) {
			std::string m = a.substr(3);
			if (m == "unmovable")
				o.mt = MIGRATE_UNMOVABLE;
			else if (m == "movable")
				o.mt = MIGRATE_MOVABLE;
			else if (m == "reclaimable")
				o.mt = MIGRATE_RECLAIMABLE;
			else
				throw parse_failure{"unknown migratetype '" + m + "' (unmovable, movable, reclaimable)"};
		} else if (a.rfind("zone=", 0) == 0) {
			std::string z = a.substr(5);
			o.zone = -1;
			for (size_t zi = 0; zi < p.cfg.zones.size(); zi++)
				if (p.cfg.zones[zi].name == z)
					o.zone = int(zi);
			if (o.zone < 0)
				throw parse_failure{"unknown zone '" + z + "'"};
			o.zone_name = z;
		} else if (a == "comp") {
			o.compound = true;
		} else if (a == "frozen") {
			o.frozen = true;
		} else {
			throw parse_failure{"unknown alloc argument '" + a + "'"};
		}
	}
	if (!have_order)
		throw parse_failure{"alloc needs order=K"};
}

void print_alloc(const op &o, std::string &s)
{
	static const char *mts[] = {"unmovable", "movable", "reclaimable"};
	s += " " + o.handle + " order=" + std::to_string(o.order);
	if (o.mt != MIGRATE_MOVABLE && o.mt < 3)
		s += std::string(" mt=") + mts[o.mt];
	if (o.zone >= 0)
		s += " zone=" + o.zone_name;
	if (o.compound)
		s += " comp";
	if (o.frozen)
		s += " frozen";
}

// NAME H
void parse_handle(const op_line &p, op &o, const op_desc &d)
{
	p.need(2, 2, d.syntax);
	o.handle = handle_arg(p.w[1]);
	o.by_handle = true;
}

void print_handle(const op &o, std::string &s) { s += " " + o.handle; }

// NAME PFN
void parse_pfn(const op_line &p, op &o, const op_desc &d)
{
	p.need(2, 2, d.syntax);
	p.single_pfn(o, p.w[1]);
}

void print_pfn(const op &o, std::string &s) { s += " " + hex(o.pfn); }

void parse_make_bad(const op_line &p, op &o, const op_desc &d)
{
	const auto &w = p.w;
	p.need(3, 3, d.syntax);
	p.single_pfn(o, w[1]);
	const auto &kinds = Model::bad_kinds();
	size_t i = 0;
	while (i < kinds.size() && kinds[i] != w[2])
		i++;
	if (i == kinds.size()) {
		std::string all;
		for (const auto &b : kinds)
			all += " " + b;
		throw parse_failure{"unknown bad-page kind '" + w[2] + "' (one of:" + all + ")"};
	}
	o.bad = bad_page_kind(i);
}

void print_make_bad(const op &o, std::string &s) { s += " " + hex(o.pfn) + " " + Model::bad_kinds()[size_t(o.bad)]; }

// NAME PFN COUNT | NAME H
void parse_range(const op_line &p, op &o, const op_desc &d) { p.range_or_handle(o, d.syntax); }

void print_range(const op &o, std::string &s)
{
	s += " ";
	s += o.by_handle ? o.handle : hex(o.pfn) + " " + std::to_string(o.count);
}

void print_array_order(const op &o, std::string &s)
{
	switch (o.arr) {
	case array_order::sorted:
		s += " sorted";
		break;
	case array_order::reversed:
		s += " reversed";
		break;
	case array_order::shuffled:
		s += " shuffle=" + std::to_string(o.seed);
		break;
	default:
		break;
	}
}

void parse_bulk(const op_line &p, op &o, const op_desc &d)
{
	const auto &w = p.w;
	if (w.size() < 2)
		throw parse_failure{usage(d.syntax)};
	if (!looks_like_number(w[1])) {
		p.need(2, 3, std::strstr(d.syntax, "| ") + 2); // the handle form
		o.handle = handle_arg(w[1]);
		o.by_handle = true;
		if (w.size() == 3)
			p.array_order_arg(o, w[2]);
		return;
	}
	// Pairwise for a short array (no allocation), a set for the
	// thousands an array can hold.
	std::unordered_set<uint64_t> seen;
	const bool pairwise = w.size() <= 64;
	for (size_t i = 1; i < w.size(); i++) {
		uint64_t pfn = number(w[i], "pfn");
		p.check_range(pfn, 1);
		const bool twice = pairwise ? std::find(o.pfns.begin(), o.pfns.end(), pfn) != o.pfns.end()
					    : !seen.insert(pfn).second;
		if (twice)
			throw parse_failure{"pfn " + hex(pfn) + " appears twice in the array"};
		o.pfns.push_back(pfn);
	}
}

void print_bulk(const op &o, std::string &s)
{
	if (o.by_handle) {
		s += " " + o.handle;
		print_array_order(o, s);
		return;
	}
	for (uint64_t pfn : o.pfns)
		s += " " + hex(pfn);
}

void parse_alloc_contig(const op_line &p, op &o, const op_desc &d)
{
	const auto &w = p.w;
	p.need(4, 5, d.syntax);
	o.handle = handle_arg(w[1]);
	o.pfn = number(w[2], "start pfn");
	o.count = number(w[3], "count");
	p.check_range(o.pfn, o.count);
	if (w.size() == 5) {
		if (w[4] != "frozen")
			throw parse_failure{"unknown alloc_contig argument '" + w[4] + "'"};
		o.frozen = true;
	}
}

void print_alloc_contig(const op &o, std::string &s)
{
	s += " " + o.handle + " " + hex(o.pfn) + " " + std::to_string(o.count) + (o.frozen ? " frozen" : "");
}

void parse_vmalloc(const op_line &p, op &o, const op_desc &d)
{
	const auto &w = p.w;
	p.need(3, 5, d.syntax);
	o.handle = handle_arg(w[1]);
	o.count = number(w[2], "page count");
	if (o.count == 0)
		throw parse_failure{"count is 0"};
	if (o.count > p.cfg.nr_pfns())
		throw parse_failure{"vmalloc of " + std::to_string(o.count) + " pages exceeds the " +
				    std::to_string(p.cfg.nr_pfns()) + " pages of the configuration"};
	for (size_t i = 3; i < w.size(); i++) {
		bool &flag = w[i] == "huge" ? o.huge : o.interleave;
		if ((w[i] != "huge" && w[i] != "interleave") || flag)
			throw parse_failure{"unknown or repeated vmalloc argument '" + w[i] + "' (huge, interleave)"};
		flag = true;
	}
}

void print_vmalloc(const op &o, std::string &s)
{
	s += " " + o.handle + " " + std::to_string(o.count) + (o.huge ? " huge" : "") + (o.interleave ? " interleave" : "");
}

void parse_vfree(const op_line &p, op &o, const op_desc &d)
{
	p.need(2, 3, d.syntax);
	o.handle = handle_arg(p.w[1]);
	o.by_handle = true;
	if (p.w.size() == 3)
		p.array_order_arg(o, p.w[2]);
}

void print_vfree(const op &o, std::string &s)
{
	s += " " + o.handle;
	print_array_order(o, s);
}

void parse_drain(const op_line &p, op &o, const op_desc &d)
{
	p.need(1, 2, d.syntax);
	o.all = p.w.size() == 1 || p.w[1] == "all";
	if (!o.all)
		o.cpu = small_number(p.w[1], "cpu", p.cfg.nr_cpus - 1);
}

void print_drain(const op &o, std::string &s)
{
	if (!o.all)
		s += " " + std::to_string(o.cpu);
}

void parse_cpu(const op_line &p, op &o, const op_desc &d)
{
	p.need(2, 2, d.syntax);
	o.cpu = small_number(p.w[1], "cpu", p.cfg.nr_cpus - 1);
}

void print_cpu(const op &o, std::string &s) { s += " " + std::to_string(o.cpu); }

void parse_check(const op_line &p, op &, const op_desc &d) { p.need(1, 1, d.syntax); }

// expect warn | expect fail
void parse_expect_bare(const op_line &p, op &, const op_desc &) { p.need(2, 2, "expect warn | expect fail | expect bug"); }

void print_bare(const op &, std::string &) {}

void parse_chunks(const op_line &p, op &o, const op_desc &d)
{
	p.need(3, 3, d.syntax);
	const std::string &list = p.w[2];
	for (size_t at = 0; at <= list.size();) { // as getline(',') splits it
		size_t comma = list.find(',', at);
		if (comma == std::string::npos)
			comma = list.size();
		if (comma == list.size() && at == list.size())
			break;
		o.orders.push_back(small_number(list.substr(at, comma - at), "order", 63));
		at = comma + 1;
	}
}

void print_chunks(const op &o, std::string &s)
{
	s += " ";
	for (size_t i = 0; i < o.orders.size(); i++)
		s += (i ? "," : "") + std::to_string(o.orders[i]);
}

void parse_expect_free(const op_line &p, op &o, const op_desc &d)
{
	p.need(4, 4, d.syntax);
	p.single_pfn(o, p.w[2]);
	o.order = small_number(p.w[3], "order", p.cfg.max_page_order);
}

void print_expect_free(const op &o, std::string &s) { s += " " + hex(o.pfn) + " " + std::to_string(o.order); }

// expect leaked|allocated PFN
void parse_expect_pfn(const op_line &p, op &o, const op_desc &)
{
	p.need(3, 3, "expect leaked|allocated PFN");
	p.single_pfn(o, p.w[2]);
}

using K = op_kind;
constexpr op_desc op_table[] = {
	{"alloc", K::alloc, "alloc H order=K [mt=movable|unmovable|reclaimable] [zone=NAME] [comp] [frozen]",
	 "alloc_pages(); a failed allocation leaves no handle", parse_alloc, print_alloc},
	{"split", K::split, "split H", "split_page(): every page refcount 1", parse_handle, print_handle},
	{"free_pages", K::free_pages, "free_pages H", "__free_pages(page, order)", parse_handle, print_handle},
	{"free_frozen", K::free_frozen, "free_frozen H", "free_frozen_pages(page, order)", parse_handle, print_handle},
	{"free_page", K::free_page, "free_page PFN", "__free_page()", parse_pfn, print_pfn},
	{"get", K::get, "get PFN", "one more reference", parse_pfn, print_pfn},
	{"free_contig_range", K::free_contig_range, "free_contig_range PFN COUNT | free_contig_range H", "the refcounted wrapper",
	 parse_range, print_range},
	{"__free_contig_range", K::free_contig_range_inner, "__free_contig_range PFN COUNT | __free_contig_range H",
	 "__free_contig_range_common(..., false)", parse_range, print_range},
	{"__free_contig_frozen_range", K::free_contig_frozen_inner,
	 "__free_contig_frozen_range PFN COUNT | __free_contig_frozen_range H", "__free_contig_range_common(..., true)",
	 parse_range, print_range},
	{"free_contig_frozen_range", K::free_contig_frozen_range,
	 "free_contig_frozen_range PFN COUNT | free_contig_frozen_range H",
	 "the frozen wrapper (frees a compound head as one block)", parse_range, print_range},
	{"free_pages_bulk", K::free_pages_bulk, "free_pages_bulk PFN [PFN...] | free_pages_bulk H [sorted|reversed|shuffle=SEED]",
	 "free_pages_bulk() of that page array", parse_bulk, print_bulk},
	{"alloc_contig", K::alloc_contig, "alloc_contig H START COUNT [frozen]",
	 "alloc_contig_range(): excess returned through __free_contig_frozen_range()", parse_alloc_contig, print_alloc_contig},
	{"cma_release", K::cma_release, "cma_release H", "free_contig_frozen_range() of a frozen contig area", parse_handle,
	 print_handle},
	{"vmalloc", K::vmalloc, "vmalloc H NR_PAGES [huge] [interleave]",
	 "vmalloc (large orders first, split; interleave: chunks alternate NUMA nodes)", parse_vmalloc, print_vmalloc},
	{"vfree", K::vfree, "vfree H [sorted|reversed|shuffle=SEED]", "vfree (NR_VMALLOC, then free_pages_bulk)", parse_vfree,
	 print_vfree},
	{"poison", K::poison, "poison PFN", "set HWPoison", parse_pfn, print_pfn},
	{"make_bad", K::make_bad, "make_bad PFN KIND", "make a bad page (KIND: Model::bad_kinds())", parse_make_bad,
	 print_make_bad},
	{"drain", K::drain, "drain [CPU|all]", "drain pcp lists", parse_drain, print_drain},
	{"cpu", K::cpu, "cpu N", "run the next operations on CPU N", parse_cpu, print_cpu},
	{"check", K::check, "check", "drain, full invariants, canonical form, differential check", parse_check, print_bare},
	{"expect chunks", K::expect_chunks, "expect chunks O,O,...",
	 "the batched engine's __free_frozen_pages() orders in the previous operation", parse_chunks, print_chunks},
	{"expect free", K::expect_free, "expect free PFN ORDER", "PFN is in a free block of ORDER, on both engines",
	 parse_expect_free, print_expect_free},
	{"expect leaked", K::expect_leaked, "expect leaked PFN", "PFN is leaked, on both engines", parse_expect_pfn, print_pfn},
	{"expect allocated", K::expect_allocated, "expect allocated PFN", "PFN is allocated, on both engines", parse_expect_pfn,
	 print_pfn},
	{"expect warn", K::expect_warn, "expect warn", "the previous operation fired a WARN", parse_expect_bare, print_bare},
	{"expect fail", K::expect_fail, "expect fail", "the previous allocation failed", parse_expect_bare, print_bare},
	{"expect bug", K::expect_bug, "expect bug",
	 "the previous free is a caller error the kernel BUGs on: both engines hit the same BUG after the same WARNs; the last line",
	 parse_expect_bare, print_bare},
};

constexpr bool table_in_kind_order()
{
	for (size_t i = 0; i < std::size(op_table); i++)
		if (size_t(op_table[i].kind) != i)
			return false;
	return size_t(op_kind::expect_bug) + 1 == std::size(op_table);
}
static_assert(table_in_kind_order(), "op_table has one row per op_kind, in op_kind's order");

constexpr bool is_expectation(const op_desc &d) { return d.kind >= op_kind::expect_chunks; }

} // namespace

void detail::parse_op(const op_line &l, op &o)
{
	const auto &w = l.w;
	const std::string &k = w[0];
	const bool expect = k == "expect";
	if (expect && w.size() < 2) {
		std::string all;
		for (const op_desc &d : op_table)
			if (is_expectation(d))
				all += (all.empty() ? "" : " | ") + std::string(d.syntax);
		throw parse_failure{usage(all.c_str())};
	}
	for (const op_desc &d : op_table) {
		if (is_expectation(d) != expect)
			continue;
		if (expect ? w[1] != std::strchr(d.name, ' ') + 1 : k != d.name)
			continue;
		o.kind = d.kind;
		d.parse(l, o, d);
		return;
	}
	if (expect)
		throw parse_failure{"unknown expectation '" + w[1] + "'"};
	throw parse_failure{"unknown operation '" + k + "'"};
}


std::string op_to_line(const op &o)
{
	if (size_t(o.kind) >= std::size(op_table))
		return "?";
	const op_desc &d = op_table[size_t(o.kind)];
	std::string s = d.name;
	d.print(o, s);
	return s;
}

std::string op_grammar()
{
	std::string s;
	for (const op_desc &d : op_table)
		s += std::string(d.syntax) + "\n\t" + d.doc + "\n";
	return s;
}

} // namespace bc
