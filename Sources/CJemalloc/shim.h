#ifndef FASTEST_SHOP_CJEMALLOC_SHIM_H
#define FASTEST_SHOP_CJEMALLOC_SHIM_H

#include <stddef.h>

// Only jemalloc's control interface. Debian's jemalloc exports malloc and free under their
// standard names, so linking it is what replaces the C library's allocator; its own header
// redeclares those with attributes that clash with the C library's in a Clang module.
int mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

#endif
