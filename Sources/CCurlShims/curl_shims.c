#include "CCurlShims.h"

CURLcode fs_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fs_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fs_curl_easy_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fs_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fs_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

CURLcode fs_curl_easy_setopt_data_callback(CURL *handle, CURLoption option, fs_curl_data_callback callback) {
    return curl_easy_setopt(handle, option, callback);
}

CURLcode fs_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

CURLMcode fs_curl_multi_setopt_long(CURLM *handle, CURLMoption option, long value) {
    return curl_multi_setopt(handle, option, value);
}

CURLMcode fs_curl_multi_setopt_pointer(CURLM *handle, CURLMoption option, void *value) {
    return curl_multi_setopt(handle, option, value);
}

CURLMcode fs_curl_multi_setopt_socket_callback(CURLM *handle, curl_socket_callback callback) {
    return curl_multi_setopt(handle, CURLMOPT_SOCKETFUNCTION, callback);
}

CURLMcode fs_curl_multi_setopt_timer_callback(CURLM *handle, curl_multi_timer_callback callback) {
    return curl_multi_setopt(handle, CURLMOPT_TIMERFUNCTION, callback);
}

fs_curl_multi_done fs_curl_multi_info_read_done(CURLM *multi, int *remaining) {
    fs_curl_multi_done done = {0, NULL, CURLE_OK};
    CURLMsg *message;
    while ((message = curl_multi_info_read(multi, remaining)) != NULL) {
        if (message->msg == CURLMSG_DONE) {
            done.is_done = 1;
            done.easy = message->easy_handle;
            done.result = message->data.result;
            return done;
        }
    }
    return done;
}
