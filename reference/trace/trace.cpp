#include "buddycheck/trace.hpp"

#include "buddycheck/files.hpp"
#include "buddycheck/format.hpp"
#include "buddycheck/model.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <unordered_set>

namespace bc {

namespace {

struct parse_failure {
	std::string message;
};

// Strict unsigned number: decimal or 0x-hex, no sign, no trailing junk, no overflow.
uint64_t number(const std::string &s, const char *what)
{
	if (s.empty())
		throw parse_failure{std::string("missing ") + what};
	uint64_t v = 0;
	size_t i = 0;
	unsigned base = 10;
	if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	for (; i < s.size(); i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = unsigned(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = unsigned(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = unsigned(c - 'A' + 10);
		else
			throw parse_failure{std::string("bad ") + what + " '" + s + "' (expected a decimal or 0x-hex number)"};
		if (v > (UINT64_MAX - d) / base)
			throw parse_failure{std::string(what) + " '" + s + "' does not fit in 64 bits"};
		v = v * base + d;
	}
	return v;
}

unsigned small_number(const std::string &s, const char *what, unsigned max)
{
	uint64_t v = number(s, what);
	if (v > max)
		throw parse_failure{std::string(what) + " " + s + " is out of range (0.." + std::to_string(max) + ")"};
	return unsigned(v);
}

pfn_range range_arg(const std::string &s, const char *what)
{
	auto dash = s.find('-');
	if (dash == std::string::npos)
		throw parse_failure{std::string("bad ") + what + " '" + s + "' (expected START-END)"};
	return {number(s.substr(0, dash), what), number(s.substr(dash + 1), what)};
}

bool valid_handle(const std::string &h)
{
	if (h.empty() || !(isalpha((unsigned char)h[0]) || h[0] == '_'))
		return false;
	for (char c : h)
		if (!(isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-'))
			return false;
	return true;
}

std::string handle_arg(const std::string &s)
{
	if (!valid_handle(s))
		throw parse_failure{"bad handle name '" + s + "' (letters, digits, '_', '.', '-'; starting with a letter)"};
	return s;
}

bool looks_like_number(const std::string &s) { return !s.empty() && isdigit((unsigned char)s[0]); }

// The whitespace-separated words of a line, into a reused vector (the
// fuzzers parse text traces on every input: no stream per line).
void split_words(const std::string &line, std::vector<std::string> &w)
{
	size_t n = 0, i = 0;
	while (true) {
		while (i < line.size() && std::isspace((unsigned char)line[i]))
			i++;
		if (i == line.size())
			break;
		size_t j = i;
		while (j < line.size() && !std::isspace((unsigned char)line[j]))
			j++;
		if (n == w.size())
			w.emplace_back();
		w[n++].assign(line, i, j - i);
		i = j;
	}
	w.resize(n);
}

struct parser {
	trace &t;
	std::vector<std::string> &w; // the current line's words (reused across parses)
	std::string &line;           // the current line without its comment (likewise)
	parse_limits lim;
	size_t n_ops = 0;            // t.ops[0, n_ops) are this parse's
	size_t n_replayed = 0;       // of which operations (not expectations)
	bool zones_explicit = false;
	bool config_done = false;
	int last_config_line = 0;

	void config_kv(const std::string &key, const std::string &val)
	{
		config &c = t.cfg;
		if (key == "preset") {
			const config *p = preset_ref(val);
			if (!p)
				throw parse_failure{"unknown preset '" + val + "' (known: x86_64 arm64-4k arm64-16k arm64-64k small small-64k tiny)"};
			auto keep_model = c.memmap;
			c = *p;
			c.memmap = keep_model;
			zones_explicit = false;
		} else if (key == "memmap") {
			auto m = memmap_from_name(val);
			if (!m)
				throw parse_failure{"unknown memmap '" + val + "' (flat, vmemmap or sparse)"};
			c.memmap = *m;
		} else if (key == "sections") {
			c.nr_sections = number(val, "sections");
		} else if (key == "hole" || key == "holes") {
			std::stringstream ss(val);
			std::string part;
			while (std::getline(ss, part, ','))
				c.holes.push_back(number(part, "hole section"));
		} else if (key == "zone") {
			auto colon = val.find(':');
			if (colon == std::string::npos || colon == 0)
				throw parse_failure{"bad zone '" + val + "' (expected NAME:START-END)"};
			if (!zones_explicit)
				c.zones.clear();
			zones_explicit = true;
			auto r = range_arg(val.substr(colon + 1), "zone range");
			c.zones.push_back({val.substr(0, colon), r.start, r.end});
		} else if (key == "cpus") {
			c.nr_cpus = small_number(val, "cpus", 1000);
		} else if (key == "pcp_high") {
			c.pcp_high = small_number(val, "pcp_high", 1u << 20);
		} else if (key == "pcp_batch") {
			c.pcp_batch = small_number(val, "pcp_batch", 1u << 20);
		} else if (key == "page_checks") {
			if (val != "on" && val != "off")
				throw parse_failure{"page_checks takes on or off"};
			c.page_checks = val == "on";
		} else if (key == "cma") {
			c.cma.push_back(range_arg(val, "cma range"));
		} else if (key == "unmovable") {
			c.unmovable.push_back(range_arg(val, "unmovable range"));
		} else if (key == "alloc") {
			if (val == "canonical")
				c.alloc = alloc_policy::canonical;
			else if (val == "kernel")
				c.alloc = alloc_policy::kernel;
			else
				throw parse_failure{"alloc takes canonical or kernel"};
		} else if (key == "thp") {
			c.thp_order = val == "none" ? -1 : int(small_number(val, "thp", 63));
		} else if (key == "page_shift") {
			c.page_shift = small_number(val, "page_shift", 63);
		} else if (key == "max_order") {
			c.max_page_order = small_number(val, "max_order", 63);
		} else if (key == "pageblock_order") {
			c.pageblock_order = small_number(val, "pageblock_order", 63);
		} else if (key == "section_bits") {
			c.section_size_bits = small_number(val, "section_bits", 63);
		} else {
			throw parse_failure{"unknown config key '" + key + "'"};
		}
	}

	void finish_config()
	{
		if (config_done)
			return;
		config_done = true;
		// default_zones() shifts by SECTION_SIZE_BITS - PAGE_SHIFT: undefined
		// when negative, and validate() refuses that before it looks at zones.
		if (!zones_explicit && t.cfg.section_size_bits > t.cfg.page_shift)
			default_zones(t.cfg);
		if (auto e = validate(t.cfg))
			throw parse_failure{"configuration refused: " + *e};
	}

	// Static validity of [pfn, pfn + count): in range, present, in zones.
	void check_range(uint64_t pfn, uint64_t count)
	{
		const config &c = t.cfg;
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

	// The current line (w) has MIN..MAX words, else its usage.
	void need(size_t min, size_t max, const char *usage)
	{
		if (w.size() < min || w.size() > max)
			throw parse_failure{std::string("usage: ") + usage};
	}

	// PFN COUNT | H
	void range_or_handle(op &o, const char *usage)
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

	void array_order_arg(op &o, const std::string &a)
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

	void single_pfn(op &o, const std::string &s)
	{
		o.pfn = number(s, "pfn");
		check_range(o.pfn, 1);
	}

	void parse_op(op &o)
	{
		const std::string &k = w[0];
		if (k == "alloc") {
			o.kind = op_kind::alloc;
			if (w.size() < 3)
				throw parse_failure{"usage: alloc H order=K [mt=movable|unmovable|reclaimable] [zone=NAME] [comp] [frozen]"};
			o.handle = handle_arg(w[1]);
			bool have_order = false;
			for (size_t i = 2; i < w.size(); i++) {
				const std::string &a = w[i];
				if (a.rfind("order=", 0) == 0) {
					o.order = small_number(a.substr(6), "order", t.cfg.max_page_order);
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
					for (size_t zi = 0; zi < t.cfg.zones.size(); zi++)
						if (t.cfg.zones[zi].name == z)
							o.zone = int(zi);
					if (o.zone < 0)
						throw parse_failure{"unknown zone '" + z + "'"};
					o.kind_arg = z;
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
		} else if (k == "split" || k == "free_pages" || k == "free_frozen" || k == "cma_release") {
			need(2, 2, (k + " H").c_str());
			o.kind = k == "split" ? op_kind::split
				 : k == "free_pages" ? op_kind::free_pages
				 : k == "free_frozen" ? op_kind::free_frozen
						      : op_kind::cma_release;
			o.handle = handle_arg(w[1]);
			o.by_handle = true;
		} else if (k == "free_page" || k == "get" || k == "poison") {
			need(2, 2, (k + " PFN").c_str());
			o.kind = k == "free_page" ? op_kind::free_page : k == "get" ? op_kind::get : op_kind::poison;
			single_pfn(o, w[1]);
		} else if (k == "make_bad") {
			need(3, 3, "make_bad PFN KIND");
			o.kind = op_kind::make_bad;
			single_pfn(o, w[1]);
			o.kind_arg = w[2];
			bool known = false;
			for (const auto &b : Model::bad_kinds())
				known |= b == w[2];
			if (!known) {
				std::string all;
				for (const auto &b : Model::bad_kinds())
					all += " " + b;
				throw parse_failure{"unknown bad-page kind '" + w[2] + "' (one of:" + all + ")"};
			}
		} else if (k == "free_contig_range") {
			o.kind = op_kind::free_contig_range;
			range_or_handle(o, "free_contig_range PFN COUNT | free_contig_range H");
		} else if (k == "__free_contig_range") {
			o.kind = op_kind::free_contig_range_inner;
			range_or_handle(o, "__free_contig_range PFN COUNT | __free_contig_range H");
		} else if (k == "__free_contig_frozen_range") {
			o.kind = op_kind::free_contig_frozen_inner;
			range_or_handle(o, "__free_contig_frozen_range PFN COUNT | __free_contig_frozen_range H");
		} else if (k == "free_contig_frozen_range") {
			o.kind = op_kind::free_contig_frozen_range;
			range_or_handle(o, "free_contig_frozen_range PFN COUNT | free_contig_frozen_range H");
		} else if (k == "free_pages_bulk") {
			o.kind = op_kind::free_pages_bulk;
			if (w.size() < 2)
				throw parse_failure{"usage: free_pages_bulk PFN [PFN...] | free_pages_bulk H [sorted|reversed|shuffle=SEED]"};
			if (!looks_like_number(w[1])) {
				need(2, 3, "free_pages_bulk H [sorted|reversed|shuffle=SEED]");
				o.handle = handle_arg(w[1]);
				o.by_handle = true;
				if (w.size() == 3)
					array_order_arg(o, w[2]);
			} else {
				// Pairwise for a short array (no allocation), a set for the
				// thousands an array can hold.
				std::unordered_set<uint64_t> seen;
				const bool pairwise = w.size() <= 64;
				for (size_t i = 1; i < w.size(); i++) {
					uint64_t p = number(w[i], "pfn");
					check_range(p, 1);
					const bool twice = pairwise ? std::find(o.pfns.begin(), o.pfns.end(), p) != o.pfns.end()
								    : !seen.insert(p).second;
					if (twice)
						throw parse_failure{"pfn " + hex(p) + " appears twice in the array"};
					o.pfns.push_back(p);
				}
			}
		} else if (k == "alloc_contig") {
			need(4, 5, "alloc_contig H START COUNT [frozen]");
			o.kind = op_kind::alloc_contig;
			o.handle = handle_arg(w[1]);
			o.pfn = number(w[2], "start pfn");
			o.count = number(w[3], "count");
			check_range(o.pfn, o.count);
			if (w.size() == 5) {
				if (w[4] != "frozen")
					throw parse_failure{"unknown alloc_contig argument '" + w[4] + "'"};
				o.frozen = true;
			}
		} else if (k == "vmalloc") {
			need(3, 4, "vmalloc H NR_PAGES [huge]");
			o.kind = op_kind::vmalloc;
			o.handle = handle_arg(w[1]);
			o.count = number(w[2], "page count");
			if (o.count == 0)
				throw parse_failure{"count is 0"};
			if (o.count > t.cfg.nr_pfns())
				throw parse_failure{"vmalloc of " + std::to_string(o.count) + " pages exceeds the " +
						    std::to_string(t.cfg.nr_pfns()) + " pages of the configuration"};
			if (w.size() == 4) {
				if (w[3] != "huge")
					throw parse_failure{"unknown vmalloc argument '" + w[3] + "'"};
				o.huge = true;
			}
		} else if (k == "vfree") {
			need(2, 3, "vfree H [sorted|reversed|shuffle=SEED]");
			o.kind = op_kind::vfree;
			o.handle = handle_arg(w[1]);
			o.by_handle = true;
			if (w.size() == 3)
				array_order_arg(o, w[2]);
		} else if (k == "drain") {
			need(1, 2, "drain [CPU|all]");
			o.kind = op_kind::drain;
			o.all = w.size() == 1 || w[1] == "all";
			if (!o.all)
				o.count = small_number(w[1], "cpu", t.cfg.nr_cpus - 1);
		} else if (k == "cpu") {
			need(2, 2, "cpu N");
			o.kind = op_kind::cpu;
			o.count = small_number(w[1], "cpu", t.cfg.nr_cpus - 1);
		} else if (k == "check") {
			need(1, 1, "check");
			o.kind = op_kind::check;
		} else if (k == "expect") {
			if (w.size() < 2)
				throw parse_failure{"usage: expect chunks O,O,... | expect free PFN ORDER | expect leaked PFN | expect allocated PFN | expect warn | expect fail"};
			const std::string &what = w[1];
			if (what == "chunks") {
				need(3, 3, "expect chunks O,O,...");
				o.kind = op_kind::expect_chunks;
				const std::string &list = w[2];
				for (size_t at = 0; at <= list.size();) { // as getline(',') splits it
					size_t comma = list.find(',', at);
					if (comma == std::string::npos)
						comma = list.size();
					if (comma == list.size() && at == list.size())
						break;
					o.pfns.push_back(small_number(list.substr(at, comma - at), "order", 63));
					at = comma + 1;
				}
			} else if (what == "free") {
				need(4, 4, "expect free PFN ORDER");
				o.kind = op_kind::expect_free;
				single_pfn(o, w[2]);
				o.order = small_number(w[3], "order", t.cfg.max_page_order);
			} else if (what == "leaked" || what == "allocated") {
				need(3, 3, "expect leaked|allocated PFN");
				o.kind = what == "leaked" ? op_kind::expect_leaked : op_kind::expect_allocated;
				single_pfn(o, w[2]);
			} else if (what == "warn" || what == "fail") {
				need(2, 2, "expect warn | expect fail");
				o.kind = what == "warn" ? op_kind::expect_warn : op_kind::expect_fail;
			} else {
				throw parse_failure{"unknown expectation '" + what + "'"};
			}
		} else {
			throw parse_failure{"unknown operation '" + k + "'"};
		}
	}

	// An op slot of t.ops, reused with its memory.
	op &next_op()
	{
		if (n_ops == t.ops.size())
			t.ops.emplace_back();
		op &o = t.ops[n_ops++];
		clear_op(o);
		return o;
	}

	// false: the operation limit is reached, this line is not taken.
	bool parse_line(std::string_view raw, int lineno)
	{
		if (raw.rfind("# expect:", 0) == 0) {
			std::stringstream ms{std::string(raw.substr(9))};
			std::string kv;
			while (ms >> kv) {
				auto eq = kv.find('=');
				if (eq == std::string::npos || eq == 0)
					throw parse_failure{"bad '# expect:' item '" + kv + "' (expected KEY=VALUE)"};
				t.meta.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
			}
			return true;
		}
		line.assign(raw.substr(0, raw.find('#')));
		split_words(line, w);
		if (w.empty())
			return true;
		for (unsigned char ch : line)
			if (ch < 0x20 && ch != '\t' && ch != '\r')
				throw parse_failure{"control character in line"};
		if (w[0] == "buddycheck-trace") {
			if (w.size() != 2 || w[1] != "1")
				throw parse_failure{"unsupported trace version (this buddycheck reads 'buddycheck-trace 1')"};
			return true;
		}
		if (w[0] == "config") {
			if (config_done)
				throw parse_failure{"config line after the first operation"};
			last_config_line = lineno;
			for (size_t i = 1; i < w.size(); i++) {
				auto eq = w[i].find('=');
				if (eq == std::string::npos || eq == 0)
					throw parse_failure{"bad config item '" + w[i] + "' (expected KEY=VALUE)"};
				config_kv(w[i].substr(0, eq), w[i].substr(eq + 1));
			}
			return true;
		}
		finish_config();
		op &o = next_op();
		o.line = lineno;
		if (lim.op_text) {
			size_t b = line.find_first_not_of(" \t"), e = line.find_last_not_of(" \t\r");
			o.text.assign(line, b, e - b + 1);
		}
		parse_op(o);
		if (o.kind < op_kind::expect_chunks && n_replayed++ == lim.max_ops) {
			n_ops--; // one past the limit: not taken
			return false;
		}
		return true;
	}
};

} // namespace

std::optional<trace_error> parse_trace(std::string_view text, const std::string &file, trace &out, parse_limits *limits)
{
	out.file = file;
	out.cfg = *preset_ref("small");
	out.meta.clear();
	// Scratch reused across calls, and t.ops' slots with their memory: a
	// fuzzer parses a text trace on every input.
	static thread_local std::vector<std::string> words;
	static thread_local std::string line;
	parser p{out, words, line, limits ? *limits : parse_limits{}};
	int lineno = 0;
	std::optional<trace_error> err;
	try {
		for (size_t at = 0; at < text.size();) {
			size_t nl = text.find('\n', at);
			if (nl == std::string_view::npos)
				nl = text.size();
			const std::string_view raw = text.substr(at, nl - at);
			at = nl + 1;
			lineno++;
			if (raw.size() > 100000)
				throw parse_failure{"line longer than 100000 characters"};
			if (!p.parse_line(raw, lineno)) {
				if (limits)
					limits->stopped_at = lineno;
				break;
			}
		}
		lineno = p.last_config_line ? p.last_config_line : lineno;
		p.finish_config();
	} catch (const parse_failure &f) {
		err = trace_error{file, lineno, f.message};
	}
	out.ops.resize(p.n_ops);
	return err;
}

void clear_op(op &o)
{
	// Field by field: a fuzzer clears an op per decoded operation, and a
	// whole-struct assignment costs more than the operation's replay.
	static_assert(sizeof(op) == 3 * sizeof(std::string) + sizeof(std::vector<uint64_t>) + 64,
		      "a field was added to bc::op: reset it in clear_op()");
	o.kind = op_kind{};
	o.line = 0;
	o.text.clear();
	o.handle.clear();
	o.by_handle = false;
	o.pfn = o.count = 0;
	o.order = 0;
	o.mt = MIGRATE_MOVABLE;
	o.zone = -1;
	o.compound = o.frozen = o.huge = o.all = false;
	o.pfns.clear();
	o.arr = array_order::as_allocated;
	o.seed = 0;
	o.kind_arg.clear();
}

std::optional<trace_error> load_trace(const std::string &path, trace &out)
{
	std::string text;
	if (auto err = read_file(path, text))
		return trace_error{path, 0, *err};
	return parse_trace(text, path, out);
}

std::string config_to_trace(const config &c)
{
	std::ostringstream o;
	o << "config preset=" << c.preset << " memmap=" << memmap_name(c.memmap) << "\n";
	o << "config page_shift=" << c.page_shift << " max_order=" << c.max_page_order
	  << " pageblock_order=" << c.pageblock_order << " section_bits=" << c.section_size_bits
	  << " thp=" << (c.thp_order < 0 ? std::string("none") : std::to_string(c.thp_order)) << "\n";
	o << "config sections=" << c.nr_sections << " cpus=" << c.nr_cpus << " pcp_high=" << c.pcp_high
	  << " pcp_batch=" << c.pcp_batch << " page_checks=" << (c.page_checks ? "on" : "off")
	  << " alloc=" << (c.alloc == alloc_policy::canonical ? "canonical" : "kernel") << "\n";
	if (!c.holes.empty()) {
		o << "config holes=";
		for (size_t i = 0; i < c.holes.size(); i++)
			o << (i ? "," : "") << c.holes[i];
		o << "\n";
	}
	o << "config";
	for (const auto &z : c.zones)
		o << " zone=" << z.name << ":" << hex(z.start_pfn) << "-" << hex(z.end_pfn);
	o << "\n";
	for (const auto &r : c.cma)
		o << "config cma=" << hex(r.start) << "-" << hex(r.end) << "\n";
	for (const auto &r : c.unmovable)
		o << "config unmovable=" << hex(r.start) << "-" << hex(r.end) << "\n";
	return o.str();
}

static std::string range_text(const op &o)
{
	return o.by_handle ? o.handle : hex(o.pfn) + " " + std::to_string(o.count);
}

static std::string array_text(const op &o)
{
	switch (o.arr) {
	case array_order::sorted:
		return " sorted";
	case array_order::reversed:
		return " reversed";
	case array_order::shuffled:
		return " shuffle=" + std::to_string(o.seed);
	default:
		return "";
	}
}

std::string op_to_line(const op &o)
{
	static const char *mts[] = {"unmovable", "movable", "reclaimable"};
	switch (o.kind) {
	case op_kind::alloc: {
		std::string s = "alloc " + o.handle + " order=" + std::to_string(o.order);
		if (o.mt != MIGRATE_MOVABLE && o.mt < 3)
			s += std::string(" mt=") + mts[o.mt];
		if (o.zone >= 0)
			s += " zone=" + o.kind_arg; // zone name kept in kind_arg by generators
		if (o.compound)
			s += " comp";
		if (o.frozen)
			s += " frozen";
		return s;
	}
	case op_kind::split:
		return "split " + o.handle;
	case op_kind::free_pages:
		return "free_pages " + o.handle;
	case op_kind::free_frozen:
		return "free_frozen " + o.handle;
	case op_kind::free_page:
		return "free_page " + hex(o.pfn);
	case op_kind::get:
		return "get " + hex(o.pfn);
	case op_kind::free_contig_range:
		return "free_contig_range " + range_text(o);
	case op_kind::free_contig_range_inner:
		return "__free_contig_range " + range_text(o);
	case op_kind::free_contig_frozen_inner:
		return "__free_contig_frozen_range " + range_text(o);
	case op_kind::free_contig_frozen_range:
		return "free_contig_frozen_range " + range_text(o);
	case op_kind::free_pages_bulk: {
		if (o.by_handle)
			return "free_pages_bulk " + o.handle + array_text(o);
		std::string s = "free_pages_bulk";
		for (uint64_t p : o.pfns)
			s += " " + hex(p);
		return s;
	}
	case op_kind::alloc_contig:
		return "alloc_contig " + o.handle + " " + hex(o.pfn) + " " + std::to_string(o.count) + (o.frozen ? " frozen" : "");
	case op_kind::cma_release:
		return "cma_release " + o.handle;
	case op_kind::vmalloc:
		return "vmalloc " + o.handle + " " + std::to_string(o.count) + (o.huge ? " huge" : "");
	case op_kind::vfree:
		return "vfree " + o.handle + array_text(o);
	case op_kind::poison:
		return "poison " + hex(o.pfn);
	case op_kind::make_bad:
		return "make_bad " + hex(o.pfn) + " " + o.kind_arg;
	case op_kind::drain:
		return o.all ? std::string("drain") : "drain " + std::to_string(o.count);
	case op_kind::cpu:
		return "cpu " + std::to_string(o.count);
	case op_kind::check:
		return "check";
	case op_kind::expect_chunks: {
		std::string s = "expect chunks ";
		for (size_t i = 0; i < o.pfns.size(); i++)
			s += (i ? "," : "") + std::to_string(o.pfns[i]);
		return s;
	}
	case op_kind::expect_free:
		return "expect free " + hex(o.pfn) + " " + std::to_string(o.order);
	case op_kind::expect_leaked:
		return "expect leaked " + hex(o.pfn);
	case op_kind::expect_allocated:
		return "expect allocated " + hex(o.pfn);
	case op_kind::expect_warn:
		return "expect warn";
	case op_kind::expect_fail:
		return "expect fail";
	}
	return "?";
}

std::string trace::meta_value(const std::string &key, const std::string &def) const
{
	for (const auto &kv : meta)
		if (kv.first == key)
			return kv.second;
	return def;
}

} // namespace bc
