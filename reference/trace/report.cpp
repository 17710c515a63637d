// The reports of a replay: the pfn map of a model and the result as
// `buddycheck replay` prints it.
#include "buddycheck/report.hpp"

#include "buddycheck/format.hpp"

#include <algorithm>
#include <cstdio>
#include <sstream>

namespace bc {

// ------------------------------------------------------------ pfn map

std::string render_pfn_map(const Model &m, uint64_t start, uint64_t end, const std::vector<uint64_t> &marks)
{
	std::ostringstream o;
	const uint64_t pps = m.cfg().pages_per_section();
	const unsigned width = 64;
	end = std::min(end, m.nr_pfns());
	for (uint64_t row = start; row < end; row += width) {
		std::string line, under;
		bool marked = false;
		for (uint64_t pfn = row; pfn < std::min(row + width, end); pfn++) {
			if (pfn % pps == 0) {
				line += '|';
				under += ' ';
			}
			char c = '?';
			if (!m.pfn_valid(pfn)) {
				c = '~';
			} else {
				uint64_t head;
				unsigned order, covers;
				bool free = m.free_block_of(pfn, &head, &order, &covers);
				uint8_t l = m.ledger(pfn);
				unsigned states = covers + unsigned(__builtin_popcount(l));
				const page *p = m.pfn_to_page(pfn);
				if (states > 1)
					c = '!';
				else if (free && m.pfn_to_page(head)->bc_where == BC_ON_PCP)
					c = pfn == head ? 'p' : '=';
				else if (free)
					c = pfn == head ? "0123456789abcdef"[order & 15] : '-';
				else if (p->flags.f & (1UL << PG_hwpoison))
					c = 'H';
				else if (l & LEDGER_LEAKED)
					c = 'L';
				else if (l & LEDGER_ALLOCATED)
					c = p->_refcount ? 'A' : 'a';
				else if (l & LEDGER_RESERVED)
					c = 'r';
				else
					c = '.';
			}
			line += c;
			bool mk = std::find(marks.begin(), marks.end(), pfn) != marks.end();
			under += mk ? '^' : ' ';
			marked |= mk;
		}
		char label[32];
		std::snprintf(label, sizeof label, "%#10llx ", (unsigned long long)row);
		o << label << line << "\n";
		if (marked) {
			while (!under.empty() && under.back() == ' ')
				under.pop_back();
			o << std::string(11, ' ') << under << "\n";
		}
	}
	o << "legend: 0-f head of a free buddy block of that order, '-' rest of it; p/= pcp block;\n"
	     "        A allocated, a allocated frozen, H HWPoison, L leaked (prepare failed),\n"
	     "        r reserved, ~ hole, . in no state, ! in more than one state, | section start\n";
	return o.str();
}

std::string render_pfn_map_around(const Model &m, uint64_t pfn, const std::vector<uint64_t> &marks)
{
	const uint64_t window = 256;
	uint64_t start = pfn >= window / 2 ? ((pfn - window / 2) & ~uint64_t(63)) : 0;
	uint64_t end = std::min(m.nr_pfns(), start + window);
	if (end - start < window && end == m.nr_pfns())
		start = end > window ? (end - window) & ~uint64_t(63) : 0;
	return render_pfn_map(m, start, end, marks);
}

std::string format_result(const trace &t, const replay_result &r, const replay_options &opt)
{
	std::ostringstream o;
	if (r.v == verdict::bad_input)
		return r.error + "\n";
	if (r.v == verdict::pass) {
		o << "PASS " << t.file << ": " << r.ops_run << " operations; oracle and " << opt.batched->name
		  << " agree (" << describe(t.cfg) << ")\n";
		auto calls = [](const cost_counters &c) {
			uint64_t n = 0;
			for (auto x : c.free_frozen_pages_by_order)
				n += x;
			return n;
		};
		o << "  __free_frozen_pages calls: oracle " << calls(r.oracle_cost) << ", " << opt.batched->name << " "
		  << calls(r.batched_cost) << "; zone lock: " << r.oracle_cost.zone_lock << " vs " << r.batched_cost.zone_lock
		  << "; pcp inserts: " << r.oracle_cost.pcp_insert << " vs " << r.batched_cost.pcp_insert << "\n";
		return o.str();
	}
	o << "COUNTEREXAMPLE " << t.file;
	if (r.line)
		o << ":" << r.line << ": " << r.op_text << "\n";
	else
		o << ": at the final check (after draining every pcp list)\n";
	o << "  engine:    " << r.engine << "\n";
	o << "  violated:  " << r.invariant << "\n";
	o << "  " << r.message << "\n";
	if (!r.source.empty())
		o << "  source:    " << r.source << " (the candidate's call that broke it)\n";
	o << "  config:    " << describe(t.cfg) << "\n";
	if (!r.pfn_map.empty())
		o << "pfn map (" << r.engine << " engine" << (r.pfn != no_pfn ? ", ^ marks pfn " + hex(r.pfn) : std::string()) << "):\n"
		  << r.pfn_map;
	return o.str();
}

} // namespace bc
