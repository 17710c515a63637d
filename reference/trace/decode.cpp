#include "buddycheck/decode.hpp"

#include <algorithm>
#include <sstream>

namespace bc {

// The preset an input starts from, built once (a fuzzer decodes millions).
static const config &decode_base(const decode_options &opt, unsigned which)
{
	static const char *scaled[] = {"small", "small-64k", "tiny"};
	const config *c = preset_ref(opt.preset.empty() ? scaled[which] : opt.preset);
	return c ? *c : *preset_ref("small"); // an unknown forced preset: callers refuse it first
}

void decode_config(chooser &ch, const decode_options &opt, config &c)
{
	const unsigned which = unsigned(ch.below(3));            // byte 0
	c = decode_base(opt, which); // reuses c's vectors: no allocation
	// byte 1: flat, vmemmap, classic sparse (v % 3, as before the layouts
	// split, so old inputs keep their model); classic sparse is the boot
	// layout or hot-added by bit 0 of v / 3
	const uint64_t mm = ch.below(256);
	c.memmap = memmap_model(mm % 3);
	if (c.memmap == memmap_model::sparse && (mm / 3) & 1)
		c.memmap = memmap_model::sparse_hotplug;
	// byte 2: a few sections, so that states stay small (v % 2 or v % 3);
	// v / 6: two NUMA nodes (bit 0) and hot-added sections at the end of
	// each node of the boot layout (v / 12 % 3)
	const uint64_t sec = ch.below(256);
	if (opt.preset.empty()) {
		const uint64_t base = c.preset == "small" ? 2 : 4;
		c.nr_sections = base + sec % (c.preset == "small" ? 2 : 3);
	}
	const bool two_nodes = (sec / 6) & 1;
	c.hotplug = c.memmap == memmap_model::sparse ? unsigned(sec / 12 % 3) : 0;
	// byte 3: at most one hole, never section 0 (zone DMA starts there)
	const uint64_t hole = ch.below(256);
	c.holes.clear();
	if ((hole & 3) == 0 && c.nr_sections > 2)
		c.holes.push_back(1 + (hole >> 2) % (c.nr_sections - 1));
	// byte 4: zones.  The inner boundary is aligned to MAX_PAGE_ORDER, as
	// in the kernel; the outer edges are not (the first zone may start a
	// few pfns in, the last one end a few pfns short).
	const uint64_t block = c.max_order_nr_pages(), end = c.nr_pfns();
	const uint64_t z = ch.below(256);
	uint64_t boundary = block * (1 + (z & 7) % std::max<uint64_t>(1, end / block - 1));
	const uint64_t first = (z >> 3) & 1 ? (z >> 4) % 5 : 0;
	const uint64_t tail = (z >> 6) % 4;
	if (boundary <= first || boundary >= end - tail) {
		c.zones.resize(1);
		c.zones[0] = {"DMA", first, end - tail};
	} else {
		c.zones.resize(2);
		c.zones[0] = {"DMA", first, boundary};
		c.zones[1] = {"Normal", boundary, end - tail};
	}
	// Two nodes split at the middle section: node 0 keeps the zones that
	// start below the node boundary, cut there; node 1 has one zone.
	c.node_starts.clear();
	if (two_nodes && c.nr_sections >= 2) {
		const uint64_t node1 = (c.nr_sections / 2) << c.pfn_section_shift();
		c.node_starts.push_back(c.nr_sections / 2);
		while (c.zones.size() > 1 && c.zones.back().start_pfn >= node1)
			c.zones.pop_back();
		c.zones.back().end_pfn = node1;
		c.zones.push_back({"Normal1", node1, end - tail});
	}
	// byte 5: pcp batch and high; bit 4 the kernel's allocation policy
	// (pcp and free-list heads, the migratetype fallback), the batched
	// engine steered to the oracle's choices
	const uint64_t pcp = ch.below(256);
	c.pcp_batch = 1u << (pcp & 3);
	c.pcp_high = c.pcp_batch * (1u << ((pcp >> 2) & 3));
	c.alloc = (pcp >> 4) & 1 ? alloc_policy::kernel : alloc_policy::canonical;
	// byte 6: CPUs, page checks, one CMA pageblock range
	const uint64_t misc = ch.below(256);
	c.nr_cpus = 1 + (misc & 1);
	c.page_checks = (misc & 6) != 0;
	c.cma.clear();
	if ((misc >> 3) & 1) {
		uint64_t pb = c.pageblock_nr_pages();
		uint64_t start = ((misc >> 4) * block) % end & ~(pb - 1);
		if (start + block <= end && start >= c.zones.back().start_pfn && start + block <= c.zones.back().end_pfn)
			c.cma.push_back({start, start + block});
	}
	if (validate(c)) // never: every decoded layout obeys the rules; keep the preset's own if not
		c = decode_base(opt, which);
}

config decode_config(chooser &ch, const decode_options &opt)
{
	config c;
	decode_config(ch, opt, c);
	return c;
}

void choose_bulk_ops(const lockstep &ls, const config &c, chooser &ch, uint64_t &next_handle, op_buffer &out, bool with_text)
{
	// Live, refcounted, order-0 granular pages: what free_pages_bulk() takes.
	static thread_local std::vector<uint64_t> pages, pool; // no allocation per operation
	pages.clear();
	for (size_t i = 0; i < ls.handle_count(); i++) {
		const handle_view h = ls.handle_at(i);
		if (h.frozen || (h.kind == handle_info::pages && !h.split && h.order > 0))
			continue;
		for (uint64_t p : *h.pfns)
			if (ls.owner(p) == h.index && ls.oracle_model().pfn_to_page(p)->_refcount >= 1)
				pages.push_back(p);
	}
	const unsigned what = unsigned(ch.below(100));
	auto finish = [&](op &o) {
		if (with_text)
			o.text = op_to_line(o);
	};
	if (pages.size() < 4 || what < 20) {
		op &o = out.add();
		handle_name(o.handle, next_handle++);
		if (ch.chance(50)) {
			o.kind = op_kind::vmalloc;
			o.count = 1 + ch.below(c.max_order_nr_pages() * 2);
			if (c.nr_nodes() > 1)
				o.interleave = ch.chance(50);
		} else {
			o.kind = op_kind::alloc;
			o.order = unsigned(ch.below(c.max_page_order + 1));
			finish(o);
			if (o.order == 0)
				return;
			op &s = out.add(); // split fails validation if the alloc failed: checked by the caller
			s.kind = op_kind::split;
			s.handle = o.handle;
			s.order = o.order;
			finish(s);
			return;
		}
		finish(o);
	} else if (what < 26) {
		op &o = out.add();
		o.kind = ch.chance(50) ? op_kind::get : op_kind::poison;
		o.pfn = pages[ch.below(pages.size())];
		finish(o);
	} else if (what < 32 && ls.handle_count()) {
		const handle_view h = ls.handle_at(ch.below(ls.handle_count()));
		if (h.kind != handle_info::vmalloc || !h.whole)
			return;
		op &o = out.add();
		o.kind = op_kind::vfree;
		o.handle = *h.name;
		o.by_handle = true;
		o.arr = array_order(ch.below(4));
		o.seed = ch.below(1000);
		finish(o);
	} else {
		op &o = out.add();
		o.kind = op_kind::free_pages_bulk;
		std::sort(pages.begin(), pages.end());
		const size_t len = 1 + ch.below(std::min<size_t>(pages.size(), 48));
		const unsigned style = unsigned(ch.below(4));
		if (style == 0) { // a sorted stretch: contiguous runs, section and hole edges
			const size_t at = ch.below(pages.size() - len + 1);
			o.pfns.assign(pages.begin() + long(at), pages.begin() + long(at + len));
		} else { // a random subset, shuffled, reversed or interleaved
			pool.assign(pages.begin(), pages.end());
			for (size_t i = pool.size(); i > 1; i--)
				std::swap(pool[i - 1], pool[ch.below(i)]);
			pool.resize(len);
			if (style == 2)
				std::sort(pool.rbegin(), pool.rend());
			else if (style == 3)
				std::sort(pool.begin(), pool.end(), [](uint64_t a, uint64_t b) { return (a & 1) != (b & 1) ? (a & 1) < (b & 1) : a < b; });
			o.pfns.assign(pool.begin(), pool.end());
		}
		finish(o);
	}
}

static void choose(const lockstep &ls, const config &c, chooser &ch, uint64_t &next_handle, op_buffer &out,
		   const decode_options &opt, bool with_text)
{
	if (opt.target == decode_target::bulk)
		choose_bulk_ops(ls, c, ch, next_handle, out, with_text);
	else
		choose_ops(ls, c, ch, next_handle, out, with_text);
}

lockstep &lockstep_pool::get(const config &c)
{
	for (auto &e : pool_)
		if (same_memmap_shape(e.first, c))
			return *e.second;
	// Decoded inputs have about a hundred shapes (preset, memory model,
	// sections, hole), of a few hundred pages each; mutated text traces may
	// name any, of up to 8192 pages.  Past the bound the last lockstep
	// changes shape (its reset reallocates the memmap): memory stays bounded.
	constexpr size_t max_shapes = 160;
	if (pool_.size() == max_shapes) {
		pool_.back().first = c;
		return *pool_.back().second;
	}
	pool_.emplace_back(c, std::make_unique<lockstep>(c, opt_, "<fuzz input>"));
	return *pool_.back().second;
}

static const replay_result &run_decoded(lockstep &ls, const config &c, byte_chooser &ch, const decode_options &opt);

static const char trace_magic[] = "buddycheck-trace 1\n";

static bool is_text_trace(const uint8_t *data, size_t size)
{
	const size_t n = sizeof trace_magic - 1;
	return size >= n && std::equal(data, data + n, reinterpret_cast<const uint8_t *>(trace_magic));
}

// A text trace is replayed without its expectations (those of a mutated
// trace claim nothing) and for at most max_ops operations, as long as a
// decoded history at most (mutations grow texts): the parser stops there.
static parse_limits text_trace_limits(const decode_options &opt)
{
	parse_limits lim;
	lim.max_ops = opt.max_ops;
	return lim;
}

static std::string_view as_text(const uint8_t *data, size_t size) { return {reinterpret_cast<const char *>(data), size}; }

// A text trace (the seed corpora hold the golden traces this way), parsed
// as run_input() replays it; null if it does not parse or is larger than a
// fuzz-sized model: not a finding.
static const trace *parse_text_input(const uint8_t *data, size_t size, const decode_options &opt)
{
	static thread_local trace t;
	static const std::string name = "<fuzz input>";
	parse_limits lim = text_trace_limits(opt);
	lim.op_text = false; // a report re-parses the decoded text
	if (parse_trace(as_text(data, size), name, t, &lim) || t.cfg.nr_pfns() > (uint64_t(1) << 13))
		return nullptr;
	return &t;
}

// Replayed as written; one that is not a valid history is not a finding.
static const replay_result &run_text(lockstep &ls, const trace *t)
{
	static thread_local replay_result invalid;
	if (!t) {
		invalid = replay_result{};
		return invalid;
	}
	ls.reset(t->cfg);
	for (const op &o : t->ops)
		if (o.kind < op_kind::expect_chunks && !ls.step(o))
			break;
	if (!ls.ended())
		ls.finish();
	const replay_result &r = ls.result();
	if (r.v == verdict::bad_input) {
		invalid = replay_result{};
		return invalid;
	}
	return r;
}

const replay_result &run_input(lockstep &ls, const uint8_t *data, size_t size, const decode_options &opt)
{
	if (is_text_trace(data, size))
		return run_text(ls, parse_text_input(data, size, opt));
	byte_chooser ch(data, size);
	static thread_local config c;
	decode_config(ch, opt, c);
	return run_decoded(ls, c, ch, opt);
}

const replay_result &run_input(lockstep_pool &pool, const uint8_t *data, size_t size, const decode_options &opt)
{
	if (is_text_trace(data, size)) {
		// On the lockstep of the trace's own shape: one of another shape
		// would reallocate its memmap twice (for this input and the next).
		const trace *t = parse_text_input(data, size, opt);
		return run_text(t ? pool.get(t->cfg) : pool.get(*preset_ref("tiny")), t);
	}
	byte_chooser ch(data, size);
	static thread_local config c;
	decode_config(ch, opt, c);
	return run_decoded(pool.get(c), c, ch, opt);
}

static const replay_result &run_decoded(lockstep &ls, const config &c, byte_chooser &ch, const decode_options &opt)
{
	ls.reset(c);
	uint64_t next_handle = 0;
	static thread_local op_buffer ops;
	int line = 0;
	for (size_t n = 0; n < opt.max_ops && !ch.exhausted();) {
		ops.clear();
		choose(ls, c, ch, next_handle, ops, opt, false);
		if (ch.exhausted())
			break; // an operation decoded from missing bytes is not in the input
		for (op &o : ops) {
			if (o.kind == op_kind::split && ls.last_alloc_failed())
				break; // its allocation failed: nothing to split
			o.line = ++line;
			n++;
			if (!ls.step(o))
				return ls.result();
		}
	}
	return ls.finish();
}

std::string decode_trace(const uint8_t *data, size_t size, const decode_options &opt)
{
	if (is_text_trace(data, size)) { // as replayed: without its expectations
		std::istringstream in(std::string(as_text(data, size)));
		std::string line, out;
		trace t;
		parse_limits lim = text_trace_limits(opt); // as run_input() replays it
		if (parse_trace(as_text(data, size), "<fuzz input>", t, &lim))
			lim.stopped_at = 0; // not replayed at all: keep every line for the error
		int lineno = 0;
		while (std::getline(in, line)) {
			++lineno;
			if (lim.stopped_at && lineno >= lim.stopped_at)
				break;
			if (line.rfind("expect ", 0) != 0)
				out += line + "\n";
		}
		return out;
	}
	byte_chooser ch(data, size);
	const config c = decode_config(ch, opt);
	std::ostringstream out;
	out << "# decoded by buddycheck decode from " << size << " bytes\nbuddycheck-trace 1\n" << config_to_trace(c);
	replay_options ro;
	ro.render_map = false;
	ro.full_check_max_pfns = 0;
	lockstep ls(c, ro, "<decode>");
	uint64_t next_handle = 0;
	op_buffer ops;
	for (size_t n = 0; n < opt.max_ops && !ch.exhausted();) {
		ops.clear();
		choose(ls, c, ch, next_handle, ops, opt, true);
		if (ch.exhausted())
			break;
		for (op &o : ops) {
			if (o.kind == op_kind::split && ls.last_alloc_failed())
				break;
			n++;
			out << o.text << "\n";
			ls.step(o); // the oracle's state drives the next choices
		}
	}
	return out.str();
}

} // namespace bc
