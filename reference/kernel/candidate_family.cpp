// The free family of a candidate: its own entry points where its file
// defines them (the generated wrapper's table), the reference's elsewhere.
#include "buddycheck/free_family.hpp"
#include "buddycheck_candidate.h"

namespace bc {

free_family candidate_family()
{
	free_family f = reference_family();
	const bc_candidate_entry_points &c = bc_candidate;
	f.name = c.name ? c.name : "candidate";
	if (c.free_prepared_contig_range)
		f.free_prepared_contig_range = c.free_prepared_contig_range;
	if (c.__free_contig_range_common)
		f.free_contig_range_common = c.__free_contig_range_common;
	if (c.__free_contig_range)
		f.free_contig_range_inner = c.__free_contig_range;
	if (c.__free_contig_frozen_range)
		f.free_contig_frozen_range_inner = c.__free_contig_frozen_range;
	if (c.free_contig_range)
		f.free_contig_range = c.free_contig_range;
	if (c.free_contig_frozen_range)
		f.free_contig_frozen_range = c.free_contig_frozen_range;
	if (c.free_pages_bulk)
		f.free_pages_bulk = c.free_pages_bulk;
	if (c.num_pages_contiguous)
		f.num_pages_contiguous = c.num_pages_contiguous;
	return f;
}

} // namespace bc
