import ArgumentParser
import Foundation
import ShopDomain

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-compute a draw from its audit bundle, offline.",
        discussion: """
            Exit status: 0 when the bundle matches the recomputation, 1 when it does not (one line \
            per mismatch), 2 when the file cannot be read or is not an audit bundle.
            """)

    @Argument(help: "The audit bundle (JSON), as served by GET /v1/drops/{id}/audit.")
    var file: String

    func run() throws {
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: file)))
        } catch {
            throw CommandFailure(message: "verify: cannot read \(file): \(error.localizedDescription)", exitCode: 2)
        }
        let bundle: AuditBundle
        do {
            bundle = try AuditBundle(jsonBytes: bytes)
        } catch {
            throw CommandFailure(message: "verify: \(file) is not an audit bundle: \(error)", exitCode: 2)
        }

        let mismatches = AuditVerifier.verify(bundle)
        guard mismatches.isEmpty else {
            for mismatch in mismatches { print("verify: \(mismatch)") }
            throw ExitCode.failure
        }
        print("verify: OK (\(bundle.entries.count) entries, \(bundle.winners.count) winners, \(bundle.waitlist.count) waitlisted)")
    }
}
