/* buddycheck kernel shim: see ../buddycheck_kernel.h */
#include <buddycheck_kernel.h>
