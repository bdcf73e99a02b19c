/// Recomputes a draw from its audit bundle (docs/contract.md, "Draw protocol v1") and says where the
/// bundle disagrees.
public enum AuditVerifier {
    /// One human-readable line per mismatch; empty when the bundle is a faithful record of a v1 draw.
    public static func verify(_ bundle: AuditBundle) -> [String] {
        var mismatches: [String] = []
        if bundle.protocolName != DrawProtocolV1.identifier {
            mismatches.append("protocol is \"\(bundle.protocolName)\"; this verifier knows \"\(DrawProtocolV1.identifier)\"")
        }
        let commitment = DrawProtocolV1.commitment(seed: bundle.seed)
        if bundle.commitment != commitment {
            mismatches.append("commitment \(bundle.commitment) is not SHA-256 of the seed (\(commitment))")
        }
        if let problem = canonicalOrderProblem(bundle.canonicalEntries) {
            mismatches.append(problem)
        }
        // Over the entries as listed: a reordered list is a different list.
        let entriesDigest = bundle.canonicalEntries.digest
        if bundle.entriesDigest != entriesDigest {
            mismatches.append("entries_digest \(bundle.entriesDigest) does not match the entries (\(entriesDigest))")
        }

        let result: DrawResult
        do {
            result = try DrawProtocolV1.draw(bundle.drawInput, entriesDigest: entriesDigest)
        } catch {
            mismatches.append("the draw cannot be recomputed: \(error)")
            return mismatches
        }
        if let difference = firstDifference(listed: bundle.winners, recomputed: result.winners, name: "winners") {
            mismatches.append(difference)
        }
        if let difference = firstDifference(listed: bundle.waitlist, recomputed: result.waitlist, name: "waitlist") {
            mismatches.append(difference)
        }
        return mismatches
    }

    /// The first break of the canonical form: ascending unique user ids, at least one ticket each.
    private static func canonicalOrderProblem(_ entries: CanonicalEntries) -> String? {
        for index in 0..<entries.count {
            let entry = entries[index]
            if index > 0 {
                let previous = entries.userIDs[index - 1]
                if entry.userID == previous { return "entries are not canonical: user \(entry.userID) is listed twice (entry \(index))" }
                if entry.userID < previous {
                    return "entries are not canonical: entry \(index) (user \(entry.userID)) comes after user \(previous); user ids must ascend"
                }
            }
            if entry.tickets < 1 {
                return "entries are not canonical: entry \(index) (user \(entry.userID)) has \(entry.tickets) tickets; at least 1 is required"
            }
        }
        return nil
    }

    private static func firstDifference(listed: [Int], recomputed: [Int], name: String) -> String? {
        guard listed != recomputed else { return nil }
        let shared = min(listed.count, recomputed.count)
        let position = (0..<shared).first { listed[$0] != recomputed[$0] } ?? shared
        func describe(_ list: [Int]) -> String { position < list.count ? "user \(list[position])" : "nothing" }
        return
            "\(name) differ at position \(position + 1) of \(recomputed.count): the bundle has \(describe(listed)), the recomputation \(describe(recomputed))"
    }
}
