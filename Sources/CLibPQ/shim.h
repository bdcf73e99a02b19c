#ifndef FASTEST_SHOP_CLIBPQ_H
#define FASTEST_SHOP_CLIBPQ_H
#include <libpq-fe.h>
#endif
