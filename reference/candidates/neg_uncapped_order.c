// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family with the chunk
 * order of free_prepared_contig_range() bounded only by the alignment of the
 * pfn and the size of the run: min(__ffs(pfn), ilog2(nr_pages)), without the
 * MAX_PAGE_ORDER cap.  pfn 0 is still special-cased (aligned to every
 * order: BITS_PER_LONG), so __ffs(0) is never computed.
 *
 * Defect: an aligned run of more than MAX_ORDER_NR_PAGES pages goes to
 * __free_frozen_pages() as one block of an order above MAX_PAGE_ORDER, which
 * the buddy allocator cannot hold.  A run can be that long whenever a section
 * holds more than one MAX_PAGE_ORDER block (preset small: 128-page sections,
 * MAX_PAGE_ORDER 5), which is true under every memory model: under flat and
 * vmemmap runs are not even split at sections.
 * Expected: a counterexample (chunk_order_cap) under all three models, found
 * by the max_order_cap golden trace (a 128-page range at 0x100 becomes one
 * order-7 call) and by generated aligned contig ranges on preset small.
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

	while (nr_pages) {
		unsigned int order;

		/* pfn 0 is aligned to every order; __ffs(0) is undefined */
		order = pfn ? __ffs(pfn) : BITS_PER_LONG;
		order = min_t(unsigned int, order, ilog2(nr_pages));

		__free_frozen_pages(page, order, FPI_PREPARED);
		page += 1UL << order;
		pfn += 1UL << order;
		nr_pages -= 1UL << order;
	}
}
