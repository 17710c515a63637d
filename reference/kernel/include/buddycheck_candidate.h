/*
 * The entry points a candidate file may define.  The generated wrapper
 * fills this table with the candidate's functions (static or not) and NULL
 * for the ones it leaves to the reference.
 */
#ifndef BUDDYCHECK_CANDIDATE_H
#define BUDDYCHECK_CANDIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "buddycheck/page.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_candidate_entry_points {
	const char *name; /* the candidate file */
	void (*free_prepared_contig_range)(struct page *page, unsigned long nr_pages);
	void (*__free_contig_range_common)(unsigned long pfn, unsigned long nr_pages, bool is_frozen);
	void (*__free_contig_range)(unsigned long pfn, unsigned long nr_pages);
	void (*__free_contig_frozen_range)(unsigned long pfn, unsigned long nr_pages);
	void (*free_contig_range)(unsigned long pfn, unsigned long nr_pages);
	void (*free_contig_frozen_range)(unsigned long pfn, unsigned long nr_pages);
	void (*free_pages_bulk)(struct page **page_array, unsigned long nr_pages);
	unsigned long (*num_pages_contiguous)(struct page **pages, size_t nr_pages);
};

/* Defined by the generated wrapper of each candidate. */
extern const struct bc_candidate_entry_points bc_candidate;

#ifdef __cplusplus
}
#include "buddycheck/free_family.hpp"
namespace bc {
// The candidate's family: its entry points, the reference's for the rest.
free_family candidate_family();
} // namespace bc
#endif

#endif
