// The free family of a candidate: its own entry points where its file
// defines them (the generated wrapper's table), the reference's elsewhere.
#include "buddycheck/free_family.hpp"
#include "buddycheck_candidate.h"

#include <type_traits>

extern "C" void bc_zone_locks_released(const char *fn); // shim.cpp

namespace bc {

namespace {

// Each of the candidate's entry points through a trampoline that checks,
// when it returns, that it released every zone->lock it took.
template <auto member, const char *name, typename R, typename... A> R checked(A... a)
{
	if constexpr (std::is_void_v<R>) {
		(bc_candidate.*member)(a...);
		bc_zone_locks_released(name);
	} else {
		R r = (bc_candidate.*member)(a...);
		bc_zone_locks_released(name);
		return r;
	}
}

template <auto member, const char *name, typename R, typename... A> constexpr auto trampoline(R (*)(A...))
{
	return &checked<member, name, R, A...>;
}

constexpr char n_fpcr[] = "free_prepared_contig_range", n_common[] = "__free_contig_range_common",
	       n_inner[] = "__free_contig_range", n_frozen_inner[] = "__free_contig_frozen_range", n_fcr[] = "free_contig_range",
	       n_fcfr[] = "free_contig_frozen_range", n_bulk[] = "free_pages_bulk", n_npc[] = "num_pages_contiguous";

#define BC_TRAMPOLINE(field, name) trampoline<&bc_candidate_entry_points::field, name>(bc_candidate.field)

} // namespace

free_family candidate_family()
{
	free_family f = reference_family();
	const bc_candidate_entry_points &c = bc_candidate;
	f.name = c.name ? c.name : "candidate";
	if (c.free_prepared_contig_range)
		f.free_prepared_contig_range = BC_TRAMPOLINE(free_prepared_contig_range, n_fpcr);
	if (c.__free_contig_range_common)
		f.free_contig_range_common = BC_TRAMPOLINE(__free_contig_range_common, n_common);
	if (c.__free_contig_range)
		f.free_contig_range_inner = BC_TRAMPOLINE(__free_contig_range, n_inner);
	if (c.__free_contig_frozen_range)
		f.free_contig_frozen_range_inner = BC_TRAMPOLINE(__free_contig_frozen_range, n_frozen_inner);
	if (c.free_contig_range)
		f.free_contig_range = BC_TRAMPOLINE(free_contig_range, n_fcr);
	if (c.free_contig_frozen_range)
		f.free_contig_frozen_range = BC_TRAMPOLINE(free_contig_frozen_range, n_fcfr);
	if (c.free_pages_bulk)
		f.free_pages_bulk = BC_TRAMPOLINE(free_pages_bulk, n_bulk);
	if (c.num_pages_contiguous)
		f.num_pages_contiguous = BC_TRAMPOLINE(num_pages_contiguous, n_npc);
	return f;
}

} // namespace bc
