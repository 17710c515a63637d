/*
 * buddycheck kernel shim: struct zone and its lock as a candidate sees
 * them (include/linux/mmzone.h, spinlock.h, vmstat.h), shared by the C
 * headers and shim.cpp.  page_zone() gives one struct zone per zone of the
 * model; its fields are the model's, read-only.  zone->lock is a checked
 * no-op: taking it twice, releasing it unheld, calling into the free path
 * (which takes it) while holding it, or returning with it held is a
 * finding (kernel_bug).  zone_page_state() reads the model's counters;
 * mod_zone_page_state() of NR_FREE_PAGES by the candidate is a finding
 * (free_counters: the free path accounts free pages itself).
 */
#ifndef BUDDYCHECK_ZONE_H
#define BUDDYCHECK_ZONE_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
	int bc_held;         /* 1 while taken */
	const char *bc_file; /* where it was taken */
	int bc_line;
} spinlock_t;

enum zone_stat_item {
	NR_FREE_PAGES,
	NR_ZONE_LRU_BASE,
	NR_ZONE_INACTIVE_ANON = NR_ZONE_LRU_BASE,
	NR_ZONE_ACTIVE_ANON,
	NR_ZONE_INACTIVE_FILE,
	NR_ZONE_ACTIVE_FILE,
	NR_ZONE_UNEVICTABLE,
	NR_ZONE_WRITE_PENDING,
	NR_MLOCK,
	NR_BOUNCE,
	NR_FREE_CMA_PAGES,
	NR_VM_ZONE_STAT_ITEMS
};

struct zone {
	spinlock_t lock;
	const char *name;
	unsigned long zone_start_pfn;
	unsigned long spanned_pages;
	unsigned long present_pages;
	int node;
	unsigned int bc_index;                        /* the model's zone */
	long bc_vm_stat_delta[NR_VM_ZONE_STAT_ITEMS]; /* the candidate's mod_zone_page_state() */
};

void bc_spin_lock(spinlock_t *lock, const char *file, int line);
void bc_spin_unlock(spinlock_t *lock, const char *file, int line);
unsigned long zone_page_state(struct zone *zone, enum zone_stat_item item);
void bc_mod_zone_page_state(struct zone *zone, enum zone_stat_item item, long delta, const char *file, int line);

#ifdef __cplusplus
}
#endif

#endif /* BUDDYCHECK_ZONE_H */
