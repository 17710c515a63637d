// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate: the old per-page free family, before "mm: Free
 * contiguous order-0 pages efficiently": every order-0 page is freed on its
 * own, free_frozen_pages(page, 0) on the frozen path and __free_page() on
 * the refcounted path; free_pages_bulk() is vfree()'s old loop of
 * __free_page() calls.  There is no free_prepared_contig_range().
 *
 * Defect: none, it is correct.  But every page is a __free_frozen_pages()
 * call of order 0, so any range of more than one page that could go as a
 * larger aligned chunk costs more calls than the minimal decomposition.
 * That holds under every memory model: correct but not batched.
 *
 * buddycheck-expect: flat=not-batched vmemmap=not-batched sparse=not-batched sparse-hotplug=not-batched fuzz=clean properties=pass proofs=not-proved
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
	for (; nr_pages--; pfn++) {
		struct page *page = pfn_to_page(pfn);

		VM_WARN_ON_ONCE(PageHead(page));
		VM_WARN_ON_ONCE(PageTail(page));

		if (is_frozen)
			free_frozen_pages(page, 0);
		else
			__free_page(page);
	}
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
 * One __free_page() per entry, as vfree() used to do.
 */
void free_pages_bulk(struct page **page_array, unsigned long nr_pages)
{
	unsigned long i;

	for (i = 0; i < nr_pages; i++) {
		__free_page(page_array[i]);
		cond_resched();
	}
}
