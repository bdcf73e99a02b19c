#ifndef FASTEST_SHOP_CCURL_H
#define FASTEST_SHOP_CCURL_H
#include <curl/curl.h>
#endif
