// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family where the
 * chunk loop of free_prepared_contig_range() is a do/while that decrements
 * the remaining count in its test (`while (nr_pages--)`), the body taking
 * only the other pages of the chunk, (1 << order) - 1.
 *
 * Defect: the test reads the count before its decrement, one page more than
 * remain, so it never sees 0.  After the last chunk of the run the count is
 * 0: the next order is bounded by ilog2(0), which is -1 (no bound), so the
 * next chunk starts at the first pfn past the run with the order of that
 * pfn's alignment, and the unsigned count wraps to nearly ULONG_MAX.  The
 * loop keeps freeing chunks past the end of the run and never returns by
 * itself: buddycheck stops it at its first finding (chunk_in_range, or
 * chunk_prepared, chunk_in_zone or struct_page_pointer where the run ends
 * at a failed page, a zone end or a section's memmap end).  Every run
 * reaches it, whatever the memory model.
 * Expected: a counterexample under all three models, at the first range
 * freed (the excess of alloc_contig_range() in alloc_contig_excess_returned).
 *
 * It defines only free_prepared_contig_range(); buddycheck fills the other entry points
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

/*
 * Free a run of prepared order-0 pages in the largest naturally aligned
 * chunks.  The caller guarantees the run lies in one memory section, so
 * walking struct pages with page += 1 << order stays in one memmap.
 */
static void free_prepared_contig_range(struct page *page,
				       unsigned long nr_pages)
{
	unsigned long pfn = page_to_pfn(page);

	do {
		unsigned int order;

		/* pfn 0 is aligned to every order; __ffs(0) is undefined */
		order = pfn ? min_t(unsigned int, __ffs(pfn), MAX_PAGE_ORDER)
			    : MAX_PAGE_ORDER;
		order = min_t(unsigned int, order, ilog2(nr_pages));

		__free_frozen_pages(page, order, FPI_PREPARED);
		page += 1UL << order;
		pfn += 1UL << order;
		/* the loop test takes the chunk's last page */
		nr_pages -= (1UL << order) - 1;
	} while (nr_pages--);
}
