#include "buddycheck/decode.hpp"

#include <sstream>

namespace bc {

config decode_config(chooser &ch, const decode_options &opt)
{
	static const char *presets[] = {"small", "small-64k", "tiny"};
	const unsigned which = unsigned(ch.below(3));            // byte 0
	config c = *preset(opt.preset.empty() ? presets[which] : opt.preset);
	c.memmap = memmap_model(ch.below(3));                     // byte 1: flat, vmemmap, sparse
	if (opt.preset.empty()) {
		// byte 2: a few sections, so that states stay small
		const uint64_t base = c.preset == "small" ? 2 : 4;
		c.nr_sections = base + ch.below(c.preset == "small" ? 3 : 5);
	} else {
		ch.below(256);
	}
	// byte 3: at most one hole, never section 0 (zone DMA starts there)
	const uint64_t hole = ch.below(256);
	if ((hole & 3) == 0 && c.nr_sections > 2)
		c.holes = {1 + (hole >> 2) % (c.nr_sections - 1)};
	// byte 4: zones.  The inner boundary is aligned to MAX_PAGE_ORDER, as
	// in the kernel; the outer edges are not (the first zone may start a
	// few pfns in, the last one end a few pfns short).
	const uint64_t block = c.max_order_nr_pages(), end = c.nr_pfns();
	const uint64_t z = ch.below(256);
	uint64_t boundary = block * (1 + (z & 7) % std::max<uint64_t>(1, end / block - 1));
	const uint64_t first = (z >> 3) & 1 ? (z >> 4) % 5 : 0;
	const uint64_t tail = (z >> 6) % 4;
	c.zones = {{"DMA", first, boundary}, {"Normal", boundary, end - tail}};
	if (boundary <= first || boundary >= end - tail)
		c.zones = {{"DMA", first, end - tail}};
	// byte 5: pcp batch and high
	const uint64_t pcp = ch.below(256);
	c.pcp_batch = 1u << (pcp & 3);
	c.pcp_high = c.pcp_batch * (1u << ((pcp >> 2) & 3));
	// byte 6: CPUs, page checks, one CMA pageblock range
	const uint64_t misc = ch.below(256);
	c.nr_cpus = 1 + (misc & 1);
	c.page_checks = (misc & 6) != 0;
	if ((misc >> 3) & 1) {
		uint64_t pb = c.pageblock_nr_pages();
		uint64_t start = ((misc >> 4) * block) % end & ~(pb - 1);
		if (start + block <= end && start >= c.zones.back().start_pfn && start + block <= c.zones.back().end_pfn)
			c.cma = {{start, start + block}};
	}
	if (validate(c)) // never: every decoded layout obeys the rules; keep the preset's own if not
		c = *preset(c.preset);
	return c;
}

const replay_result &run_input(lockstep &ls, const uint8_t *data, size_t size, const decode_options &opt)
{
	byte_chooser ch(data, size);
	const config c = decode_config(ch, opt);
	ls.reset(c);
	uint64_t next_handle = 0;
	std::vector<op> ops;
	int line = 0;
	for (size_t n = 0; n < opt.max_ops && !ch.exhausted();) {
		ops.clear();
		choose_ops(ls, c, ch, next_handle, ops);
		if (ch.exhausted())
			break; // an operation decoded from missing bytes is not in the input
		for (op &o : ops) {
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
	byte_chooser ch(data, size);
	const config c = decode_config(ch, opt);
	std::ostringstream out;
	out << "# decoded by buddycheck decode from " << size << " bytes\nbuddycheck-trace 1\n" << config_to_trace(c);
	replay_options ro;
	ro.render_map = false;
	ro.full_check_max_pfns = 0;
	lockstep ls(c, ro, "<decode>");
	uint64_t next_handle = 0;
	std::vector<op> ops;
	for (size_t n = 0; n < opt.max_ops && !ch.exhausted();) {
		ops.clear();
		choose_ops(ls, c, ch, next_handle, ops);
		if (ch.exhausted())
			break;
		for (op &o : ops) {
			n++;
			out << o.text << "\n";
			ls.step(o); // the oracle's state drives the next choices
		}
	}
	return out.str();
}

} // namespace bc
