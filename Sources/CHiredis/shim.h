#ifndef FASTEST_SHOP_CHIREDIS_H
#define FASTEST_SHOP_CHIREDIS_H
#include <hiredis/hiredis.h>
#endif
