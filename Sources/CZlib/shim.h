#ifndef FASTEST_SHOP_CZLIB_H
#define FASTEST_SHOP_CZLIB_H
#include <zlib.h>
#endif
