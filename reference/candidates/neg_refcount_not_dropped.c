// SPDX-License-Identifier: GPL-2.0
/*
 * buddycheck candidate (negative control): the batched family where
 * __free_contig_range(), the refcounted entry point, passes is_frozen = true
 * to __free_contig_range_common() (a copy-paste of the frozen wrapper), so
 * the refcounted path never calls put_page_testzero().
 *
 * Defect: the pages still hold their reference (refcount 1, or more when
 * someone else holds them) when free_pages_prepare() checks them, so every
 * page is refused as a bad page ("nonzero _refcount") and leaked instead of
 * freed, where the old code (__free_page()) frees them; with page checks
 * off, a page someone else still holds would be freed under them.  Nothing
 * here depends on the memory model.
 * Expected: a counterexample under all three models: the differential check
 * against the per-page oracle (pages leaked as bad pages where the oracle
 * freed them), found by every golden trace that frees a refcounted range
 * through free_contig_range(), __free_contig_range() or free_pages_bulk()
 * (vfree).
 *
 * It defines only __free_contig_range(); buddycheck fills the other entry points
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

void __free_contig_range(unsigned long pfn, unsigned long nr_pages)
{
	__free_contig_range_common(pfn, nr_pages, /* is_frozen= */ true);
}
EXPORT_SYMBOL(__free_contig_range);
