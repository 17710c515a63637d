// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family where
 * __free_contig_range_common() skips a page whose free_pages_prepare()
 * failed with a plain `continue`, without closing the open run.
 *
 * Defect: the run is a pfn interval, so its length at the next flush still
 * covers the skipped page: a HWPoisoned or bad page, which the kernel must
 * never give back to the allocator, is freed inside a larger chunk.  Nothing
 * here depends on the memory model.
 * Expected: a counterexample (chunk_prepared) under all three models, found
 * by the bad_page_kinds and frozen_range_over_poisoned_page golden traces and
 * by generated histories that poison or break a page before freeing its
 * range.
 *
 * It defines only __free_contig_range_common(); buddycheck fills the other entry points
 * with the reference's own, so the defect is the only difference.
 *
 * buddycheck-expect: flat=counterexample vmemmap=counterexample sparse=counterexample sparse-hotplug=counterexample fuzz=found properties=falsified proofs=refuted
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

static void __free_contig_range_common(unsigned long pfn,
				       unsigned long nr_pages, bool is_frozen)
{
	struct page *start = NULL;
	unsigned long start_sec = 0;
	unsigned long i;

	for (i = 0; i < nr_pages; i++) {
		struct page *page = pfn_to_page(pfn + i);

		VM_WARN_ON_ONCE(PageHead(page));
		VM_WARN_ON_ONCE(PageTail(page));

		if (!is_frozen && !put_page_testzero(page)) {
			/* still in use: close the run */
			if (start) {
				free_prepared_contig_range(start, page_to_pfn(page) - page_to_pfn(start));
				start = NULL;
			}
			continue;
		}
		/* not to be returned (HWPoison, bad page): skip it */
		if (!free_pages_prepare(page, 0))
			continue;

		if (start && memdesc_section(page->flags) != start_sec) {
			free_prepared_contig_range(start, pfn + i - page_to_pfn(start));
			start = NULL;
		}
		if (!start) {
			start = page;
			start_sec = memdesc_section(page->flags);
		}
	}

	if (start)
		free_prepared_contig_range(start, pfn + nr_pages - page_to_pfn(start));
}
