/*
 * struct page of the reference model, as a C-compatible struct.
 *
 * The layout follows the fields the kernel's free path touches; C candidates
 * (compiled against reference/kernel/include) and the C++ model share it.
 * Fields prefixed bc_ are buddycheck's own bookkeeping, absent in the kernel.
 */
#ifndef BUDDYCHECK_PAGE_H
#define BUDDYCHECK_PAGE_H

#ifdef __cplusplus
extern "C" {
#endif

/* The kernel wraps page->flags in memdesc_flags_t since v6.18. */
typedef struct {
	unsigned long f;
} memdesc_flags_t;

struct list_head {
	struct list_head *next, *prev;
};

/* Page flag bits (a subset of include/linux/page-flags.h, same names). */
enum pageflags {
	PG_locked,
	PG_writeback,
	PG_referenced,
	PG_uptodate,
	PG_dirty,
	PG_lru,
	PG_head,
	PG_waiters,
	PG_active,
	PG_workingset,
	PG_owner_priv_1,
	PG_owner_2,
	PG_arch_1,
	PG_reserved,
	PG_private,
	PG_private_2,
	PG_reclaim,
	PG_swapbacked,
	PG_unevictable,
	PG_mlocked,
	PG_hwpoison,
	__NR_PAGEFLAGS
};

/*
 * Classic SPARSEMEM keeps the section number in the top bits of page->flags
 * (SECTIONS_PGSHIFT); the other memory models leave those bits zero, so
 * memdesc_section() returns 0 there, as in the kernel.
 */
#define BC_SECTIONS_PGSHIFT 40
#define BC_SECTIONS_WIDTH 24
#define BC_SECTIONS_MASK ((1UL << BC_SECTIONS_WIDTH) - 1)
#define BC_PAGEFLAGS_MASK ((1UL << BC_SECTIONS_PGSHIFT) - 1)

/* Flags a page must not carry when it is freed (PAGE_FLAGS_CHECK_AT_FREE). */
#define BC_PAGE_FLAGS_CHECK_AT_FREE                                            \
	((1UL << PG_lru) | (1UL << PG_locked) | (1UL << PG_private) |          \
	 (1UL << PG_private_2) | (1UL << PG_writeback) | (1UL << PG_reserved) | \
	 (1UL << PG_active) | (1UL << PG_unevictable) | (1UL << PG_mlocked))

/* Pageblock migratetypes (include/linux/mmzone.h), shared by the model and
 * the kernel shim. */
enum migratetype {
	MIGRATE_UNMOVABLE,
	MIGRATE_MOVABLE,
	MIGRATE_RECLAIMABLE,
	MIGRATE_PCPTYPES, /* the number of types on the pcp lists */
	MIGRATE_HIGHATOMIC = MIGRATE_PCPTYPES,
	MIGRATE_CMA,
	MIGRATE_ISOLATE, /* can't allocate from here */
	MIGRATE_TYPES
};

/* page_type value marking the head of a free buddy block (PGTY_buddy). */
#define BC_PGTY_BUDDY 0xf0u
#define BC_PGTY_NONE 0u

/* Where a free block's head page sits (bc_where). */
enum bc_where {
	BC_ON_NOTHING = 0,
	BC_ON_BUDDY = 1, /* head of a block on zone->free_area[order] */
	BC_ON_PCP = 2,   /* head of a block on a per-CPU list */
};

struct page {
	memdesc_flags_t flags;
	union {
		struct list_head lru;
		struct list_head buddy_list;
		struct list_head pcp_list;
	};
	void *mapping;
	unsigned long index;
#ifdef __cplusplus
	unsigned long private_; /* `private` in C: buddy order of a free block */
#else
	unsigned long private;
#endif
	int _mapcount;          /* -1 when not mapped */
	unsigned int page_type; /* BC_PGTY_BUDDY on a free buddy head */
	int _refcount;          /* atomic_t in the kernel; the model is single-threaded */
	unsigned long memcg_data;
	unsigned long compound_head; /* on a tail page: head pointer | 1 */
	/* buddycheck bookkeeping */
	unsigned char bc_compound_order; /* on a compound head (kernel: folio->_flags_1) */
	unsigned char bc_where;          /* enum bc_where, on free block heads */
	unsigned char bc_cpu;            /* per-CPU list owner when bc_where == BC_ON_PCP */
	unsigned char bc_prepared;       /* free_pages_prepare() succeeded, block not yet freed */
};

#ifdef __cplusplus
}
#endif

#endif /* BUDDYCHECK_PAGE_H */
