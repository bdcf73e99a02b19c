import BlockingThreads
import Foundation
import Hummingbird
import Postgres
import Redis
import ShopDomain
import Storage

extension Problem {
    /// The problem a client sees for any error thrown while answering it. Unreachable stores
    /// become `unavailable` (503) so clients back off and retry; anything unexpected becomes
    /// `internal` without details.
    static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem:
            return problem
        case let failure as ValidationFailure:
            return .invalid(failure)
        case is UserStore.EmailTaken:
            return Problem(.emailTaken, "an account with this email address already exists")
        case let error as PostgresError
        where error.code == .connectionFailure || error.code == .poolClosed
            || error.code == .cannotConnectNow || error.code == .adminShutdown:
            return .unavailable("the database is unreachable")
        case let error as PostgresError where error.code == .poolTimeout:
            // Every connection is busy for longer than the pool's acquire timeout: a refusal the
            // client retries, instead of a queue that grows for as long as the burst lasts.
            return .unavailable("the database is busy")
        case let error as RedisError
        where error.code == .connectionFailure || error.code == .timeout || error.code == .closed || error.code == .unavailable:
            return .unavailable("the cache is unreachable")
        case is DedicatedThreadStopped, is GroupCommitWriterClosed:
            return .unavailable("the service is shutting down")
        case let error as DecodingError:
            return Problem(.invalidRequest, "the request body does not match the schema", errors: [error.validationIssue])
        case let error as any HTTPResponseError:
            switch error.status {
            case .contentTooLarge: return Problem(.payloadTooLarge, "the request body is too large")
            case .notFound: return Problem(.notFound, "no such resource")
            case .methodNotAllowed: return Problem(.notFound, "no such resource for this method")
            case .badRequest: return Problem(.invalidRequest, "malformed request")
            default: return Problem(.internalError, "the request could not be completed")
            }
        default:
            return Problem(.internalError, "the request could not be completed")
        }
    }

    static func unavailable(_ detail: String) -> Problem {
        Problem(.unavailable, detail, retryAfterSeconds: 1)
    }

    /// Whether this problem means something went wrong on our side (worth a log line).
    var isServerFault: Bool { code == .internalError || code == .unavailable }
}

extension DecodingError {
    /// The offending field, named as the client wrote it.
    var validationIssue: ValidationIssue {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "body" : text
        }
        switch self {
        case .keyNotFound(let key, let context):
            return ValidationIssue(field: path(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            return ValidationIssue(field: path(context.codingPath), message: "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context):
            return ValidationIssue(field: path(context.codingPath), message: "must be \(Self.describe(type)), not null")
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? ValidationIssue(field: "body", message: "must be a JSON object")
                : ValidationIssue(field: path(context.codingPath), message: "has an invalid value")
        @unknown default:
            return ValidationIssue(field: "body", message: "is invalid")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an integer"
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Double.Type: "a number"
        default: "an object"
        }
    }
}
