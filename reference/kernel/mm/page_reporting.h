/* buddycheck kernel shim: mm/internal.h */
#include <buddycheck_kernel.h>
