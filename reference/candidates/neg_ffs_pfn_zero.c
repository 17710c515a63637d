// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family with the chunk
 * order of free_prepared_contig_range() computed as
 * min(__ffs(pfn), MAX_PAGE_ORDER) with no special case for pfn 0.
 *
 * Defect: __ffs(0) is undefined in the kernel ("code should check against 0
 * first"): x86 computes it with bsf/tzcnt, whose result for 0 is undefined
 * or 64 depending on the CPU, so the first chunk at pfn 0 gets an arbitrary
 * order; the shim reports the call as a kernel_bug finding.  Any run that
 * starts at pfn 0 reaches it, and ZONE_DMA starts at pfn 0 on every preset,
 * whatever the memory model.
 * Expected: a counterexample (kernel_bug: __ffs(0)) under all three models,
 * found by the mixed_history_small and pfn_zero golden traces and by
 * generated contig ranges and page arrays that start at pfn 0.
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

		order = min_t(unsigned int, __ffs(pfn), MAX_PAGE_ORDER);
		order = min_t(unsigned int, order, ilog2(nr_pages));

		__free_frozen_pages(page, order, FPI_PREPARED);
		page += 1UL << order;
		pfn += 1UL << order;
		nr_pages -= 1UL << order;
	}
}
