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
        let progress = TerminalProgress("verify")
        defer { progress.finish() }
        // Mapped, not read: the kernel pages the document in as the parser passes and may drop
        // the pages again, so a bundle of hundreds of megabytes never sits in this process's heap.
        let mapped: Data
        do {
            mapped = try Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped)
        } catch {
            throw CommandFailure(message: "verify: cannot read \(file): \(error.localizedDescription)", exitCode: 2)
        }
        progress.update("parsing \(mapped.count / 1_000_000) MB")
        let bundle: AuditBundle
        do {
            bundle = try mapped.withUnsafeBytes { raw throws(AuditBundleDecodingError) in
                try AuditBundle(jsonBuffer: raw.bindMemory(to: UInt8.self))
            }
        } catch {
            throw CommandFailure(message: "verify: \(file) is not an audit bundle: \(error)", exitCode: 2)
        }

        progress.update("recomputing the draw of \(bundle.canonicalEntries.count) entries")
        let mismatches = AuditVerifier.verify(bundle)
        progress.finish()
        guard mismatches.isEmpty else {
            for mismatch in mismatches { print("verify: \(mismatch)") }
            throw ExitCode.failure
        }
        print("verify: OK (\(bundle.canonicalEntries.count) entries, \(bundle.winners.count) winners, \(bundle.waitlist.count) waitlisted)")
    }
}
