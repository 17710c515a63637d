// The free family under test (reference/README.md, rows 2) as a table of
// entry points, so that the per-page oracle, the batched reference, its
// broken variants and (later) a candidate's C file run over the same model.
#pragma once

#include "buddycheck/page.h"

#include <string>
#include <vector>

namespace bc {

struct free_family {
	const char *name;
	void (*free_prepared_contig_range)(page *first, unsigned long nr_pages);
	void (*free_contig_range_common)(unsigned long pfn, unsigned long nr_pages, bool is_frozen);
	void (*free_contig_range_inner)(unsigned long pfn, unsigned long nr_pages);        // __free_contig_range
	void (*free_contig_frozen_range_inner)(unsigned long pfn, unsigned long nr_pages); // __free_contig_frozen_range
	void (*free_contig_range)(unsigned long pfn, unsigned long nr_pages);
	void (*free_contig_frozen_range)(unsigned long pfn, unsigned long nr_pages);
	void (*free_pages_bulk)(page **pages, unsigned long nr_pages);
	unsigned long (*num_pages_contiguous)(page **pages, unsigned long nr_pages);
};

// The batched reference: the free family as the 2026 series defines it.
const free_family &reference_family();
// The per-page oracle: the old code, every order-0 page freed on its own.
const free_family &oracle_family();

// Deliberately wrong variants of the batched reference (negative controls).
struct broken_variant {
	const char *name;
	const char *defect;
	const free_family *family;
};
const std::vector<broken_variant> &broken_variants();
const free_family *family_by_name(const std::string &name);

// The family the model's own callers (alloc_contig_range, vfree, the
// wrappers) dispatch to.
const free_family &active_family();
void set_active_family(const free_family *f);

} // namespace bc
