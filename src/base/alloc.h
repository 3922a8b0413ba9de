/* The base layer's allocator: the default hook behind sf_config_t.allocator.
 * src/base sits below every other layer (core, api, trace, link), so each of
 * them may use it without calling up into a higher layer. */
#ifndef SF_BASE_ALLOC_H
#define SF_BASE_ALLOC_H

#include "synfin/synfin.h"

/* The process heap (malloc/free): the allocator used when the config names
 * none. The core itself never calls malloc; it allocates through the hook. */
sf_allocator_t sf_default_allocator(void);

#endif
