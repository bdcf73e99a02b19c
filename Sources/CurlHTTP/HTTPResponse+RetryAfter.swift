extension HTTPResponse {
    /// What a well-behaved client does with 503 and 429: waits as `Retry-After` says (at most a
    /// second) and tries `call` again, up to 30 times. The last answer; nil if the last try got none.
    public static func retryingAsTold(_ call: @Sendable () async throws -> HTTPResponse) async -> HTTPResponse? {
        var answer: HTTPResponse?
        for _ in 0..<30 {
            answer = try? await call()
            guard let status = answer?.status, status == 503 || status == 429 else { return answer }
            let wait = answer?.header("Retry-After").flatMap(Int.init) ?? 1
            try? await Task.sleep(for: .milliseconds(min(1000, wait * 1000)))
        }
        return answer
    }
}
