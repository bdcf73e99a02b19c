import Foundation

/// The OpenAPI 3.1 document of the intake API: `openapi.json` beside this file, a resource of this
/// module, checked in as the one source of the API's description (docs/http-api.md links to it).
/// `serve` answers `GET /openapi.json` with its bytes as they are. Tests hold it to the server:
/// every served route is documented and every documented one served, and `scripts/api-fuzz`
/// (schemathesis) checks every bound, status and schema it states against the running server.
public enum OpenAPIDocument {
    /// The document's bytes.
    public static func load() throws -> [UInt8] {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json") else {
            throw OpenAPIDocumentMissing()
        }
        return Array(try Data(contentsOf: url))
    }
}

/// The build did not copy `openapi.json` into the module's resources.
struct OpenAPIDocumentMissing: Error, CustomStringConvertible {
    var description: String { "the OpenAPI document is not in the intake module's resources" }
}
