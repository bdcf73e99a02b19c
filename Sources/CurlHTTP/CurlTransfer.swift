import CCurl
import CCurlShims
import Foundation

/// One libcurl easy handle and the response it is collecting.
///
/// Owned by one thread at a time. Reusing a transfer for the next request keeps libcurl's
/// connection to the same host alive (connection reuse).
final class CurlTransfer {
    let handle: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private var responseBody: [UInt8] = []
    private var responseHeaders: [(name: String, value: String)] = []

    init() {
        CurlGlobal.initialize()
        guard let handle = curl_easy_init() else { fatalError("curl_easy_init failed: out of memory") }
        self.handle = handle
    }

    deinit {
        if let headerList { curl_slist_free_all(headerList) }
        curl_easy_cleanup(handle)
    }

    /// Sets every option for `request`, after clearing what the previous request set.
    func prepare(_ request: HTTPRequest) {
        curl_easy_reset(handle)
        if let headerList { curl_slist_free_all(headerList) }
        headerList = nil
        responseBody.removeAll(keepingCapacity: true)
        responseHeaders.removeAll(keepingCapacity: true)

        fs_curl_easy_setopt_string(handle, CURLOPT_URL, request.url)
        fs_curl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        fs_curl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeoutMilliseconds)
        fs_curl_easy_setopt_long(handle, CURLOPT_TIMEOUT_MS, request.timeoutMilliseconds)
        fs_curl_easy_setopt_long(handle, CURLOPT_TCP_NODELAY, 1)
        fs_curl_easy_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1)
        // "host!" binds to that IP address, never to an interface name (libcurl reuses a
        // connection only for a request with the same local address).
        if let localAddress = request.localAddress { fs_curl_easy_setopt_string(handle, CURLOPT_INTERFACE, "host!" + localAddress) }
        // Only http(s), and never follow redirects: a webhook answer is taken as it comes.
        fs_curl_easy_setopt_long(handle, CURLOPT_PROTOCOLS, Int(CURLPROTO_HTTP | CURLPROTO_HTTPS))

        let method = request.method.uppercased()
        if method == "GET" && request.body.isEmpty {
            fs_curl_easy_setopt_long(handle, CURLOPT_HTTPGET, 1)
        } else if method == "HEAD" {
            fs_curl_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        } else {
            if method != "POST" { fs_curl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method) }
            fs_curl_easy_setopt_long(handle, CURLOPT_POST, 1)
            fs_curl_easy_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count))
            // COPYPOSTFIELDS copies the bytes, so the Swift array need not outlive this call.
            if request.body.isEmpty {
                fs_curl_easy_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
            } else {
                request.body.withUnsafeBytes { bytes in
                    _ = fs_curl_easy_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress))
                }
            }
        }

        var list: UnsafeMutablePointer<curl_slist>?
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        // libcurl waits up to a second for "100 Continue" on larger bodies; webhooks cannot wait.
        list = curl_slist_append(list, "Expect:")
        headerList = list
        fs_curl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, list)

        let context = Unmanaged.passUnretained(self).toOpaque()
        fs_curl_easy_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, curlWriteBody)
        fs_curl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        fs_curl_easy_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, curlWriteHeader)
        fs_curl_easy_setopt_pointer(handle, CURLOPT_HEADERDATA, context)
    }

    /// The response, or why there is none, once libcurl reports the transfer done.
    func finish(_ code: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        guard code == CURLE_OK else {
            let message = String(cString: curl_easy_strerror(code))
            switch code {
            case CURLE_OPERATION_TIMEDOUT:
                return .failure(HTTPClientError(code: .timeout, message: message))
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST:
                return .failure(HTTPClientError(code: .connectFailed, message: message))
            default:
                return .failure(HTTPClientError(code: .transport, message: message))
            }
        }
        var status = 0
        fs_curl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return .success(HTTPResponse(status: status, headers: responseHeaders, body: responseBody))
    }

    fileprivate func appendBody(_ bytes: UnsafeRawBufferPointer) {
        responseBody.append(contentsOf: bytes)
    }

    fileprivate func appendHeaderLine(_ bytes: UnsafeRawBufferPointer) {
        // Strip the line ending as bytes: in a Swift String "\r\n" is one Character, equal to
        // neither "\r" nor "\n", so trimming characters would leave it on every value.
        var end = bytes.count
        while end > 0, bytes[end - 1] == UInt8(ascii: "\n") || bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[..<end]), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new status line (after "100 Continue" or similar): earlier headers were interim.
            responseHeaders.removeAll(keepingCapacity: true)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        let name = String(line[..<colon])
        let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        responseHeaders.append((name, value))
    }
}

private func curlWriteBody(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.appendBody(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

private func curlWriteHeader(_ data: UnsafeMutablePointer<CChar>?, _ size: Int, _ count: Int, _ context: UnsafeMutableRawPointer?) -> Int {
    guard let context, let data else { return 0 }
    let transfer = Unmanaged<CurlTransfer>.fromOpaque(context).takeUnretainedValue()
    transfer.appendHeaderLine(UnsafeRawBufferPointer(start: data, count: size * count))
    return size * count
}

enum CurlGlobal {
    /// `curl_global_init` is not thread-safe and must run once before any other libcurl call.
    private static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_ALL))
        return true
    }()

    static func initialize() { _ = initialized }
}
