#include "buddycheck/generate.hpp"

#include "buddycheck/replay.hpp"
#include "buddycheck/splitmix.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace bc {

uint64_t rng_chooser::next() { return splitmix64(state); }

uint64_t byte_chooser::below(uint64_t n)
{
	if (n <= 1)
		return 0;
	const size_t width = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : 4;
	uint64_t v = 0;
	for (size_t i = 0; i < width; i++) {
		if (pos >= size) {
			dry = true;
			return v % n;
		}
		v |= uint64_t(data[pos++]) << (8 * i);
	}
	return v % n;
}

namespace {

// Live pages a trace may free one by one.
bool granular(const handle_view &h) { return h.kind != handle_info::pages || h.split || h.order == 0; }

// A live pfn of h, starting the search at a chosen index.
uint64_t live_pfn(const lockstep &ls, const handle_view &h, chooser &ch)
{
	const auto &pfns = *h.pfns;
	size_t i = ch.below(pfns.size());
	for (size_t k = 0; k < pfns.size(); k++) {
		size_t j = (i + k) % pfns.size();
		if (ls.owner(pfns[j]) == h.index)
			return pfns[j];
	}
	return pfns[0]; // unreachable: a live handle holds a page
}

// A run of consecutive live pfns of h (whose pfns ascend), around a chosen page.
std::pair<uint64_t, uint64_t> live_run(const lockstep &ls, const handle_view &h, chooser &ch)
{
	const uint64_t start = live_pfn(ls, h, ch);
	uint64_t first = start, last = start;
	auto held = [&](uint64_t p) { return p < ls.oracle_model().nr_pfns() && ls.owner(p) == h.index; };
	while (held(last + 1) && !ch.chance(3))
		last++;
	while (first > 0 && held(first - 1) && ch.chance(60))
		first--;
	return {first, last - first + 1};
}

} // namespace

void handle_name(std::string &out, uint64_t n)
{
	out = 'h';
	out += std::to_string(n);
}

op &op_buffer::add()
{
	if (n_ == max_ops) { // a chooser's bug: references handed out would dangle
		std::fprintf(stderr, "buddycheck: more than %zu operations chosen in one step\n", max_ops);
		std::abort();
	}
	if (n_ == ops_.size())
		ops_.emplace_back();
	op &o = ops_[n_++];
	clear_op(o);
	return o;
}

void choose_ops(const lockstep &ls, const config &c, chooser &ch, uint64_t &next_handle, op_buffer &out, bool with_text)
{
	const Model &m = ls.oracle_model();
	const uint64_t nr_pfns = c.nr_pfns();
	const uint64_t live = ls.live_pages();
	const size_t nr_handles = ls.handle_count();
	if (ch.chance(3)) {
		op &d = out.add();
		d.kind = ch.chance(50) ? op_kind::drain : op_kind::cpu;
		d.all = ch.chance(50);
		d.cpu = unsigned(ch.below(c.nr_cpus));
		if (with_text)
			d.text = op_to_line(d);
	}
	// Free more when memory gets tight, so that histories keep going.
	const unsigned alloc_weight = live * 2 > nr_pfns ? 10 : live * 4 > nr_pfns ? 30 : 50;
	op &o = out.add();
	if (nr_handles == 0 || ch.below(100) < alloc_weight) {
		handle_name(o.handle, next_handle++);
		const unsigned kind = unsigned(ch.below(10));
		if (kind < 6) {
			o.kind = op_kind::alloc;
			const unsigned maxo = c.max_page_order;
			o.order = ch.chance(60) ? unsigned(ch.below(std::min(3u, maxo + 1))) : unsigned(ch.below(maxo + 1));
			o.mt = unsigned(ch.below(3));
			o.compound = o.order > 0 && ch.chance(10);
			o.frozen = ch.chance(10);
		} else if (kind < 8) {
			o.kind = op_kind::alloc_contig;
			const zone_config &z = c.zones[ch.below(c.zones.size())];
			const uint64_t span = z.end_pfn - z.start_pfn;
			o.count = 1 + ch.below(std::min<uint64_t>(span, c.max_order_nr_pages() * 3));
			o.pfn = z.start_pfn + ch.below(span - std::min(span, o.count) + 1);
			if (ch.chance(30)) // aligned starts reach the largest chunks
				o.pfn &= ~((uint64_t(1) << ch.below(c.max_page_order + 3)) - 1);
			o.frozen = ch.chance(50);
			bool ok = o.pfn >= z.start_pfn && o.pfn + o.count <= z.end_pfn;
			for (uint64_t p = o.pfn; ok && p < o.pfn + o.count; p++)
				ok = m.pfn_valid(p);
			if (!ok) { // fall back to an allocation that is always valid
				o.kind = op_kind::alloc;
				o.order = 0;
				o.frozen = false;
			}
		} else {
			o.kind = op_kind::vmalloc;
			o.count = 1 + ch.below(c.max_order_nr_pages() * 2);
			o.huge = ch.chance(10);
			if (c.nr_nodes() > 1) // only then: one-node histories stay as they were
				o.interleave = ch.chance(50);
		}
	} else {
		const handle_view h = ls.handle_at(ch.below(nr_handles));
		const unsigned what = unsigned(ch.below(100));
		o.handle = *h.name;
		o.by_handle = true;
		auto single = [&](op_kind k) {
			o.kind = k;
			o.by_handle = false;
			o.pfn = live_pfn(ls, h, ch);
		};
		auto bad = [&]() {
			single(op_kind::make_bad);
			o.bad = bad_page_kind(ch.below(Model::bad_kinds().size()));
		};
		if (h.kind == handle_info::vmalloc) {
			if (what < 8) {
				single(op_kind::poison);
			} else {
				o.kind = op_kind::vfree;
				o.arr = ch.chance(30) ? array_order::shuffled : ch.chance(20) ? array_order::reversed : array_order::as_allocated;
				o.seed = ch.below(1000);
			}
		} else if (h.kind == handle_info::pages && !granular(h)) {
			if (!h.split && !h.compound && !h.frozen && what < 40)
				o.kind = op_kind::split;
			else if (h.compound && h.frozen && what < 50)
				o.kind = op_kind::free_contig_frozen_range;
			else if (what < 56)
				bad();
			else
				o.kind = h.frozen ? op_kind::free_frozen : op_kind::free_pages;
		} else if (h.kind == handle_info::pages && h.order == 0) {
			o.kind = h.frozen ? op_kind::free_frozen : op_kind::free_pages;
			if (what < 8)
				single(op_kind::poison);
		} else if (!h.frozen) { // refcounted, order-0 granular
			if (what < 6) {
				single(op_kind::poison);
			} else if (what < 10) {
				bad();
			} else if (what < 14) {
				single(op_kind::get);
			} else if (what < 24) {
				single(op_kind::free_page);
			} else if (what < 40) {
				o.kind = op_kind::free_pages_bulk;
				o.by_handle = false;
				static thread_local std::vector<uint64_t> pfns; // no allocation per operation
				pfns.clear();
				for (uint64_t p : *h.pfns)
					if (ls.owner(p) == h.index)
						pfns.push_back(p);
				for (size_t i = pfns.size(); i > 1; i--)
					std::swap(pfns[i - 1], pfns[ch.below(i)]);
				pfns.resize(std::min<size_t>(pfns.size(), 1 + ch.below(24)));
				if (ch.chance(50))
					std::sort(pfns.begin(), pfns.end());
				o.pfns.assign(pfns.begin(), pfns.end());
			} else {
				auto run = live_run(ls, h, ch);
				o.by_handle = false;
				o.pfn = run.first;
				o.count = run.second;
				o.kind = ch.chance(50) ? op_kind::free_contig_range : op_kind::free_contig_range_inner;
			}
		} else { // frozen and granular: a frozen contig area
			if (what < 6) {
				single(op_kind::poison);
			} else if (h.whole && what < 40) {
				o.kind = op_kind::cma_release;
			} else {
				auto run = live_run(ls, h, ch);
				o.by_handle = false;
				o.pfn = run.first;
				o.count = run.second;
				o.kind = ch.chance(50) ? op_kind::free_contig_frozen_inner : op_kind::free_contig_frozen_range;
			}
		}
	}
	if (with_text)
		o.text = op_to_line(o);
}

std::string generate_trace(const config &c, const generate_options &g)
{
	std::ostringstream out;
	out << "# generated by buddycheck generate: " << g.ops << " operations, seed " << g.seed << "\n";
	out << "# expect: expect=pass\nbuddycheck-trace 1\n" << config_to_trace(c);
	replay_options ro;
	ro.render_map = false;
	ro.full_check_max_pfns = 0; // the generator only needs validity, not full checks
	lockstep ls(c, ro, "<generate>");
	rng_chooser ch(g.seed);
	uint64_t next_handle = 0;
	size_t written = 0;
	op_buffer ops;
	while (written < g.ops && !ls.ended()) {
		ops.clear();
		if (g.check_every && written && written % g.check_every == 0) {
			op &o = ops.add();
			o.kind = op_kind::check;
			o.text = "check";
		} else {
			choose_ops(ls, c, ch, next_handle, ops);
		}
		for (op &o : ops) {
			o.line = int(written + 1);
			if (!ls.step(o))
				break;
			out << o.text << "\n";
			written++;
		}
	}
	if (ls.ended()) {
		const replay_result &res = ls.result();
		out << "# generation stopped early: "
		    << (res.v == verdict::bad_input ? res.error : res.invariant + ": " + res.message) << "\n";
	}
	return out.str();
}

} // namespace bc
