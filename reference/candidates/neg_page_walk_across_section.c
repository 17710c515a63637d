// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family with
 * __free_contig_range_common() walking the range with page++ from
 * pfn_to_page(pfn), as v3 of the series did, instead of pfn_to_page(pfn + i)
 * for every pfn.
 *
 * Defect: wherever the next section's memmap is another allocation, once
 * the walk passes the last pfn of a section, page points past the end of
 * that allocation: the next "struct page" is not the next pfn's.  Under
 * sparse-hotplug (one memmap allocation per section) that is every section
 * boundary; under sparse (the boot layout: one buffer per node, present
 * sections packed) it is the boundary before a hot-added section or past
 * the end of a node's buffer, while between adjacent sections of one buffer
 * page++ is right (a valid range crosses no hole).  The section check is
 * there but reads memdesc_section() (and PageHead()) of that stray pointer,
 * so the run is never split where it should be.
 * Under FLATMEM and SPARSEMEM_VMEMMAP the memmap is one contiguous array and
 * page++ is exactly the next pfn's page: the code is correct there.
 * Expected: a counterexample under sparse-hotplug and sparse (AddressSanitizer
 * on the read past the allocation, or struct_page_pointer when a stray
 * pointer reaches the model), found by the section_crossing_classic_sparse
 * golden trace (sparse-hotplug), two_nodes_mixed_memmap (sparse) and by
 * generated ranges that cross a section; pass under flat and vmemmap.
 *
 * It defines only __free_contig_range_common(); buddycheck fills the other entry points
 * with the reference's own, so the defect is the only difference.
 *
 * buddycheck-expect: flat=pass vmemmap=pass sparse=counterexample sparse-hotplug=counterexample fuzz=found properties=falsified proofs=not-proved
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
	struct page *page = pfn_to_page(pfn);
	struct page *start = NULL;
	unsigned long start_sec = 0;
	unsigned long i;

	for (i = 0; i < nr_pages; i++, page++) {
		VM_WARN_ON_ONCE(PageHead(page));
		VM_WARN_ON_ONCE(PageTail(page));

		if ((!is_frozen && !put_page_testzero(page)) ||
		    !free_pages_prepare(page, 0)) {
			/* still in use, or not to be returned: close the run */
			if (start) {
				free_prepared_contig_range(start, page - start);
				start = NULL;
			}
			continue;
		}

		if (start && memdesc_section(page->flags) != start_sec) {
			free_prepared_contig_range(start, page - start);
			start = NULL;
		}
		if (!start) {
			start = page;
			start_sec = memdesc_section(page->flags);
		}
	}

	if (start)
		free_prepared_contig_range(start, page - start);
}
