import ContextMemory
import Foundation
public import Hummingbird
import NIOCore
import NIOHTTP1

/// An error as the HTTP API reports it: a status, a stable machine-readable `code` and a message
/// that says what to do. The body is `{"error": {"code": "...", "message": "..."}}`.
public struct APIError: Error, Sendable, Equatable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    /// Seconds after which the request may be sent again (`Retry-After`), for a refusal that is
    /// about load rather than the request.
    public var retryAfter: Int?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, retryAfter: Int? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.retryAfter = retryAfter
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    static func badRequest(_ code: String, _ message: String) -> APIError { APIError(.badRequest, code: code, message) }

    /// The API's view of an error from the core, a request or the framework.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as SearchError:
            return .badRequest("invalid_query", error.description)
        case let error as PackError:
            switch error {
            case .unknownAgent: return APIError(.notFound, code: "unknown_agent", error.description)
            case .invalidBudget: return .badRequest("invalid_budget", error.description)
            case .invalidTask: return .badRequest("invalid_task", error.description)
            case .essentialsExceedBudget:
                return APIError(.unprocessableContent, code: "essentials_exceed_budget", error.description)
            }
        case let error as ReadError:
            switch error {
            case .invalidHandle: return .badRequest("invalid_handle", error.description)
            case .notFound: return APIError(.notFound, code: "not_found", error.description)
            }
        case let error as AuditError:
            return .badRequest("invalid_rule", error.description)
        case let error as ConfigurationError:
            return APIError(.internalServerError, code: "invalid_configuration", error.description)
        case let full as WorkQueue.Full:
            return APIError(
                .serviceUnavailable, code: "overloaded",
                """
                the server is building \(full.running) packs and \(full.waiting) more are waiting, its limit \
                (ctxmem serve --pack-workers, --pack-queue); retry after 1 s
                """, retryAfter: 1)
        case let error as IndexError:
            if case .missing = error { return APIError(.serviceUnavailable, code: "index_missing", error.description) }
            return APIError(.serviceUnavailable, code: "index_unavailable", error.description)
        case let error as HTTPParserError:
            // Reading the body failed: the client sent bad chunking or left before the end (its
            // connection was then usually closed by the body timeout). Its fault, not the server's.
            return .badRequest(
                "malformed_request",
                "the request body could not be read (\(error.debugDescription)); send all of the bytes Content-Length promises"
            )
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "body_too_large", "the request body is over the limit")
        case let error as HTTPError:
            switch error.status {
            case .notFound:
                return APIError(
                    .notFound, code: "unknown_route", "no such route; the API is described by Schemas/openapi.yaml")
            case .contentTooLarge:
                return APIError(.contentTooLarge, code: "body_too_large", error.body ?? "the request body is too large")
            case .methodNotAllowed:
                return APIError(.methodNotAllowed, code: "method_not_allowed", "this route does not take that method")
            default: return APIError(error.status, code: "bad_request", error.body ?? error.status.reasonPhrase)
            }
        default:
            return APIError(.internalServerError, code: "internal", "\(error)")
        }
    }

    /// `{"error": {"code": ..., "message": ...}}`, as every error body of the API.
    var jsonBody: String {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
            }
            var error: Detail
        }
        return JSONBody.encode(Body(error: .init(code: code, message: message)))
    }

    func response() -> Response {
        var response = JSONBody.text(jsonBody, contentType: "application/json; charset=utf-8", status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"ctxmem\"" }
        if let retryAfter { response.headers[.retryAfter] = String(retryAfter) }
        return response
    }
}

/// JSON responses, encoded the same way everywhere (sorted keys, so bodies are stable).
enum JSONBody {
    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        text(encode(value), contentType: "application/json; charset=utf-8", status: status)
    }

    static func encode(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
