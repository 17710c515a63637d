// trace_parser_fuzzer: bc::parse_trace on arbitrary bytes.  A parse error is
// a fine answer; a crash, a leak or a hang is not.  A trace that parses must
// survive a round trip: config_to_trace() + op_to_line() of what was parsed,
// parsed again, gives the same configuration and the same operations.
//
// BUDDYCHECK_PARSER_MUTANT=1 builds the negative control: the reprinted
// alloc_contig lines lose their `frozen` flag.
#include "buddycheck/format.hpp"
#include "buddycheck/trace.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#ifndef BUDDYCHECK_PARSER_MUTANT
#define BUDDYCHECK_PARSER_MUTANT 0
#endif

#define BC_NO_COVERAGE __attribute__((no_sanitize("coverage")))

namespace {

using bc::hex;

std::string line_of(const bc::op &o)
{
	std::string s = bc::op_to_line(o);
#if BUDDYCHECK_PARSER_MUTANT == 1
	const std::string frozen = " frozen";
	if (o.kind == bc::op_kind::alloc_contig && s.size() > frozen.size() &&
	    s.compare(s.size() - frozen.size(), frozen.size(), frozen) == 0)
		s.resize(s.size() - frozen.size());
#endif
	return s;
}

[[noreturn]] BC_NO_COVERAGE void fail(const std::string &what, const std::string &input, const std::string &reprinted)
{
	std::fprintf(stderr, "\n==== buddycheck trace_parser_fuzzer: round trip changed the trace: %s ====\n",
		     what.c_str());
	std::fputs("---- input ----\n", stderr);
	std::fwrite(input.data(), 1, input.size(), stderr);
	std::fputs("\n---- reprinted ----\n", stderr);
	std::fwrite(reprinted.data(), 1, reprinted.size(), stderr);
	std::fputs("----\n", stderr);
	std::abort();
}

// The first field in which two configurations differ, or "".
BC_NO_COVERAGE std::string config_difference(const bc::config &a, const bc::config &b)
{
#define BC_FIELD(f)                                                                                                   \
	if (!(a.f == b.f))                                                                                            \
		return "config." #f;
	BC_FIELD(preset)
	BC_FIELD(page_shift)
	BC_FIELD(max_page_order)
	BC_FIELD(pageblock_order)
	BC_FIELD(section_size_bits)
	BC_FIELD(thp_order)
	BC_FIELD(memmap)
	BC_FIELD(nr_sections)
	BC_FIELD(holes)
	BC_FIELD(nr_cpus)
	BC_FIELD(pcp_high)
	BC_FIELD(pcp_batch)
	BC_FIELD(page_checks)
	BC_FIELD(alloc)
	BC_FIELD(zones.size())
	BC_FIELD(cma.size())
	BC_FIELD(unmovable.size())
#undef BC_FIELD
	for (size_t i = 0; i < a.zones.size(); i++)
		if (a.zones[i].name != b.zones[i].name || a.zones[i].start_pfn != b.zones[i].start_pfn ||
		    a.zones[i].end_pfn != b.zones[i].end_pfn)
			return "config.zones[" + std::to_string(i) + "] (" + a.zones[i].name + ":" +
			       hex(a.zones[i].start_pfn) + "-" + hex(a.zones[i].end_pfn) + " vs " + b.zones[i].name + ":" +
			       hex(b.zones[i].start_pfn) + "-" + hex(b.zones[i].end_pfn) + ")";
	for (size_t i = 0; i < a.cma.size(); i++)
		if (a.cma[i].start != b.cma[i].start || a.cma[i].end != b.cma[i].end)
			return "config.cma[" + std::to_string(i) + "]";
	for (size_t i = 0; i < a.unmovable.size(); i++)
		if (a.unmovable[i].start != b.unmovable[i].start || a.unmovable[i].end != b.unmovable[i].end)
			return "config.unmovable[" + std::to_string(i) + "]";
	return "";
}

// The first field in which two operations differ, or "".  Every field but
// the line number and the text as written: what op_to_line prints, and
// what it leaves at its default because the line did not set it.
BC_NO_COVERAGE std::string op_difference(const bc::op &a, const bc::op &b)
{
#define BC_FIELD(f)                                                                                                   \
	if (!(a.f == b.f))                                                                                            \
		return #f;
	BC_FIELD(kind)
	BC_FIELD(handle)
	BC_FIELD(by_handle)
	BC_FIELD(pfn)
	BC_FIELD(count)
	BC_FIELD(order)
	BC_FIELD(mt)
	BC_FIELD(zone)
	BC_FIELD(zone_name)
	BC_FIELD(compound)
	BC_FIELD(frozen)
	BC_FIELD(huge)
	BC_FIELD(cpu)
	BC_FIELD(all)
	BC_FIELD(pfns)
	BC_FIELD(orders)
	BC_FIELD(arr)
	BC_FIELD(seed)
	BC_FIELD(bad)
#undef BC_FIELD
	return "";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const std::string input(reinterpret_cast<const char *>(data), size);
	bc::trace t;
	if (bc::parse_trace(input, "<fuzz input>", t))
		return 0; // refused with an error: fine for arbitrary bytes

	std::string again = "buddycheck-trace 1\n" + bc::config_to_trace(t.cfg);
	for (const bc::op &o : t.ops)
		again += line_of(o) + "\n";
	// parse_trace refuses lines over 100000 characters, and reprinting can
	// lengthen a line (decimal pfns come back in 0x-hex; holes from several
	// config lines come back on one): such a trace has no round trip to
	// check.  Inputs under max_len (8192) never get there.
	for (size_t b = 0, e; b < again.size(); b = e + 1) {
		e = again.find('\n', b);
		if (e - b > 100000)
			return 0;
	}
	bc::trace u;
	if (auto e = bc::parse_trace(again, "<reprinted>", u))
		fail("the reprinted trace does not parse: " + e->str(), input, again);
	std::string d = config_difference(t.cfg, u.cfg);
	if (!d.empty())
		fail(d + " differs", input, again);
	if (t.ops.size() != u.ops.size())
		fail(std::to_string(t.ops.size()) + " operations became " + std::to_string(u.ops.size()), input, again);
	for (size_t i = 0; i < t.ops.size(); i++) {
		d = op_difference(t.ops[i], u.ops[i]);
		if (!d.empty())
			fail("operation " + std::to_string(i + 1) + " ('" + t.ops[i].text + "' on input line " +
				     std::to_string(t.ops[i].line) + ", reprinted '" + u.ops[i].text + "'): field " + d +
				     " differs",
			     input, again);
	}
	return 0;
}
