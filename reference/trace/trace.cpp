// Text traces: the lines of a trace file, its configuration, and the parse
// loop (each operation line's grammar: op_table in grammar.cpp).
#include "buddycheck/trace.hpp"
#include "grammar.hpp"

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

namespace bc {

namespace detail {

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

static bool valid_handle(const std::string &h)
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

} // namespace detail

namespace {

using namespace detail;

pfn_range range_arg(const std::string &s, const char *what)
{
	auto dash = s.find('-');
	if (dash == std::string::npos)
		throw parse_failure{std::string("bad ") + what + " '" + s + "' (expected START-END)"};
	return {number(s.substr(0, dash), what), number(s.substr(dash + 1), what)};
}

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
	int bug_line = 0; // the line of `expect bug`, after which nothing may follow

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
				throw parse_failure{"unknown memmap '" + val + "' (" + memmap_names_help() + ")"};
			c.memmap = *m;
		} else if (key == "sections") {
			c.nr_sections = number(val, "sections");
		} else if (key == "hole" || key == "holes") {
			std::stringstream ss(val);
			std::string part;
			while (std::getline(ss, part, ','))
				c.holes.push_back(number(part, "hole section"));
		} else if (key == "nodes") {
			// nodes=0,S1,S2...: the first section of each node
			std::stringstream ss(val);
			std::string part;
			c.node_starts.clear();
			for (bool first = true; std::getline(ss, part, ','); first = false) {
				const uint64_t s = number(part, "node start section");
				if (first && s != 0)
					throw parse_failure{
						"nodes must start with section 0 (nodes=0,S1,...: the first section of each node)"};
				if (!first)
					c.node_starts.push_back(s);
			}
		} else if (key == "hotplug") {
			c.hotplug = small_number(val, "hotplug", 1024);
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
		if (bug_line)
			throw parse_failure{"an operation after 'expect bug' at line " + std::to_string(bug_line) +
					    " (the kernel stops at a BUG: it must be the trace's last line)"};
		parse_op(op_line{t.cfg, w}, o);
		if (o.kind == op_kind::expect_bug) {
			// The operation before it is the caller error.
			op *prev = n_ops >= 2 ? &t.ops[n_ops - 2] : nullptr;
			if (!prev || prev->kind < op_kind::free_pages || prev->kind > op_kind::free_pages_bulk)
				throw parse_failure{"'expect bug' must follow a free operation (the caller error)"};
			prev->caller_error = true;
			bug_line = lineno;
		}
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
	static_assert(sizeof(op) == 3 * sizeof(std::string) + 2 * sizeof(std::vector<uint64_t>) + 56,
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
	o.zone_name.clear();
	o.compound = o.frozen = o.huge = o.interleave = false;
	o.cpu = 0;
	o.all = o.caller_error = false;
	o.pfns.clear();
	o.orders.clear();
	o.arr = array_order::as_allocated;
	o.seed = 0;
	o.bad = bad_page_kind{};
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
	if (!c.node_starts.empty() || c.hotplug) {
		o << "config";
		if (!c.node_starts.empty()) {
			o << " nodes=0";
			for (auto n : c.node_starts)
				o << "," << n;
		}
		if (c.hotplug)
			o << " hotplug=" << c.hotplug;
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

std::string trace::meta_value(const std::string &key, const std::string &def) const
{
	for (const auto &kv : meta)
		if (kv.first == key)
			return kv.second;
	return def;
}

} // namespace bc
