#ifndef FASTEST_SHOP_CCURLSHIMS_H
#define FASTEST_SHOP_CCURLSHIMS_H

// Typed, non-variadic wrappers around libcurl's variadic option and info calls.
// Swift cannot call C variadic functions, and a single wrapper per argument type keeps
// the type of every option explicit at the call site.

#include <curl/curl.h>
#include <stddef.h>
// The multi driver waits on epoll and is woken through an eventfd; Swift's Glibc module does not
// export these headers.
#include <sys/epoll.h>
#include <sys/eventfd.h>

typedef size_t (*fs_curl_data_callback)(char *data, size_t size, size_t count, void *userdata);

CURLcode fs_curl_easy_setopt_long(CURL *handle, CURLoption option, long value);
CURLcode fs_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value);
CURLcode fs_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value);
CURLcode fs_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value);
CURLcode fs_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value);
CURLcode fs_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, fs_curl_data_callback callback);

CURLcode fs_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value);

CURLMcode fs_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value);
CURLMcode fs_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value);
CURLMcode fs_curl_multi_setopt_socket_callback(CURLM *handle, curl_socket_callback callback);
CURLMcode fs_curl_multi_setopt_timer_callback(CURLM *handle, curl_multi_timer_callback callback);

/// `CURL_SOCKET_TIMEOUT`, which Swift cannot import (a macro defined through another macro).
static const curl_socket_t fs_curl_socket_timeout = CURL_SOCKET_TIMEOUT;

/// The easy handle and result of a finished transfer read off `curl_multi_info_read`,
/// whose message struct holds a union Swift imports awkwardly.
typedef struct {
    int is_done;
    CURL *easy;
    CURLcode result;
} fs_curl_multi_done;

fs_curl_multi_done fs_curl_multi_info_read_done(CURLM *multi, int *remaining);

#endif
