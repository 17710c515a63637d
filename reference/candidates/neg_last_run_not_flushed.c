// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family where
 * __free_contig_range_common() flushes a run only when a page closes it (a
 * page that stays in use or fails to prepare, or a section change) and
 * forgets the final flush after the loop.
 *
 * Defect: the last run of every range is prepared but never freed: its pages
 * are lost to the allocator (neither allocated nor free).  Every range has a
 * last run unless it ends on a page that is kept, so nothing here depends on
 * the memory model.
 * Expected: a counterexample under all three models (pfn_single_state: the
 * pages of the last run are in no state, neither allocated nor free; the
 * oracle freed them), found by the first golden trace that frees a range
 * (alloc_contig_excess_returned: the excess of alloc_contig_range()).
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

		if ((!is_frozen && !put_page_testzero(page)) ||
		    !free_pages_prepare(page, 0)) {
			/* still in use, or not to be returned: close the run */
			if (start) {
				free_prepared_contig_range(start, page_to_pfn(page) - page_to_pfn(start));
				start = NULL;
			}
			continue;
		}

		if (start && memdesc_section(page->flags) != start_sec) {
			free_prepared_contig_range(start, pfn + i - page_to_pfn(start));
			start = NULL;
		}
		if (!start) {
			start = page;
			start_sec = memdesc_section(page->flags);
		}
	}
}
