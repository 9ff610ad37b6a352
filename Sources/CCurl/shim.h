/* libcurl from Debian's libcurl4-openssl-dev: traced's OTLP/HTTP sender.
 * curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
 * call: one wrapper per argument type. */
#include <curl/curl.h>

static inline CURLcode tc_curl_set_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tc_curl_set_pointer(CURL *handle, CURLoption option, const void *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tc_curl_set_size(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

typedef size_t (*tc_curl_write_callback)(char *data, size_t size, size_t count, void *context);

static inline CURLcode tc_curl_set_write(CURL *handle, tc_curl_write_callback callback, void *context) {
    CURLcode result = curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, callback);
    if (result != CURLE_OK) return result;
    return curl_easy_setopt(handle, CURLOPT_WRITEDATA, context);
}

static inline CURLcode tc_curl_set_header(CURL *handle, tc_curl_write_callback callback, void *context) {
    CURLcode result = curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, callback);
    if (result != CURLE_OK) return result;
    return curl_easy_setopt(handle, CURLOPT_HEADERDATA, context);
}

static inline long tc_curl_response_code(CURL *handle) {
    long code = 0;
    if (curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &code) != CURLE_OK) return 0;
    return code;
}
