// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate: the batched free family of "mm: Free contiguous
 * order-0 pages efficiently" (v6), written from the series' semantics in the
 * style of mm/page_alloc.c.
 *
 * buddycheck-expect: flat=pass vmemmap=pass sparse=pass sparse-hotplug=pass fuzz=clean properties=pass proofs=proved
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
		order = pfn ? min_t(unsigned int, __ffs(pfn), MAX_PAGE_ORDER)
			    : MAX_PAGE_ORDER;
		order = min_t(unsigned int, order, ilog2(nr_pages));

		__free_frozen_pages(page, order, FPI_PREPARED);
		page += 1UL << order;
		pfn += 1UL << order;
		nr_pages -= 1UL << order;
	}
}

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

	if (start)
		free_prepared_contig_range(start, pfn + nr_pages - page_to_pfn(start));
}

void __free_contig_range(unsigned long pfn, unsigned long nr_pages)
{
	__free_contig_range_common(pfn, nr_pages, /* is_frozen= */ false);
}
EXPORT_SYMBOL(__free_contig_range);

static void __free_contig_frozen_range(unsigned long pfn, unsigned long nr_pages)
{
	__free_contig_range_common(pfn, nr_pages, /* is_frozen= */ true);
}

void free_contig_range(unsigned long pfn, unsigned long nr_pages)
{
	if (WARN_ON_ONCE(PageHead(pfn_to_page(pfn))))
		return;

	__free_contig_range(pfn, nr_pages);
}
EXPORT_SYMBOL(free_contig_range);

void free_contig_frozen_range(unsigned long pfn, unsigned long nr_pages)
{
	struct page *first_page = pfn_to_page(pfn);
	const unsigned int order = ilog2(nr_pages);

	if (WARN_ON_ONCE(first_page != compound_head(first_page)))
		return;

	if (PageHead(first_page)) {
		WARN_ON_ONCE(order != compound_order(first_page));
		free_frozen_pages(first_page, order);
		return;
	}

	__free_contig_frozen_range(pfn, nr_pages);
}
EXPORT_SYMBOL(free_contig_frozen_range);

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
	while (nr_pages) {
		unsigned long nr = num_pages_contiguous(page_array, nr_pages);

		__free_contig_range(page_to_pfn(*page_array), nr);
		page_array += nr;
		nr_pages -= nr;
		cond_resched();
	}
}
