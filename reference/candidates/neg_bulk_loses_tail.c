// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family where the loop
 * of free_pages_bulk() runs `while (nr_pages > 1)`, written as if
 * num_pages_contiguous() needed a pair of entries to compare.
 *
 * Defect: when the array ends with a lone page (the last run is one entry:
 * an unsorted or reversed vm->pages[], or a last page that is not contiguous
 * with the one before), that page is never freed: vfree() leaks it, after
 * having already taken it out of NR_VMALLOC.  Nothing here depends on the
 * memory model.
 * Expected: a counterexample under all three models (the differential check
 * against the per-page oracle, or a page left in no state), found by the
 * mixed_history_small and vfree_unsorted_array golden traces (a reversed
 * array) and by generated vfree and free_pages_bulk operations.
 *
 * It defines only free_pages_bulk(); buddycheck fills the other entry points
 * with the reference's own, so the defect is the only difference.
 *
 * buddycheck-expect: flat=counterexample vmemmap=counterexample sparse=counterexample sparse-hotplug=counterexample fuzz=found properties=falsified proofs=reference
 */
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/mmzone.h>
#include <linux/page-flags.h>
#include <linux/page_ref.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/bug.h>
#include <linux/export.h>
#include <linux/sched.h>
#include "internal.h"

/**
 * free_pages_bulk - Free an array of order-0 pages
 * @page_array: Array of pages to free
 * @nr_pages: The number of pages in the array
 *
 * Contiguous runs go to __free_contig_range() in one call; an unsorted
 * array is still freed, in more pieces.
 */
void free_pages_bulk(struct page **page_array, unsigned long nr_pages)
{
	while (nr_pages > 1) {
		unsigned long nr = num_pages_contiguous(page_array, nr_pages);

		__free_contig_range(page_to_pfn(*page_array), nr);
		page_array += nr;
		nr_pages -= nr;
		cond_resched();
	}
}
