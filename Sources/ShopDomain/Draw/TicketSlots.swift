/// SPEC §5 step 5: slots `0..<total`, slot s belonging to the entry whose cumulative ticket range
/// (in canonical order) contains s. Stores one running sum per entry, never one value per slot,
/// so a raffle with a billion tickets costs what its entries cost.
struct TicketSlots {
    let total: Int
    /// `ends[k]` = tickets of entries `0...k`; entry k owns slots `ends[k-1]..<ends[k]`.
    private let ends: [Int]

    /// Also checks the entries: strictly ascending `userID`, at least one ticket each.
    init(entries: [DrawEntry]) throws(DrawInputError) {
        var ends: [Int] = []
        ends.reserveCapacity(entries.count)
        var total = 0
        for (index, entry) in entries.enumerated() {
            if index > 0, entry.userID <= entries[index - 1].userID {
                throw DrawInputError(
                    .entriesNotAscending,
                    "entry \(index) (user \(entry.userID)) does not follow user \(entries[index - 1].userID): entries must be strictly ascending by user id")
            }
            guard entry.tickets >= 1 else {
                throw DrawInputError(.invalidTickets, "entry \(index) (user \(entry.userID)) has \(entry.tickets) tickets; at least 1 is required")
            }
            let (sum, overflow) = total.addingReportingOverflow(entry.tickets)
            guard !overflow else { throw DrawInputError(.tooManyTickets, "the total number of tickets does not fit in 64 bits") }
            total = sum
            ends.append(total)
        }
        self.total = total
        self.ends = ends
    }

    /// The index of the entry owning `slot`: the first k with `ends[k] > slot`.
    func entryIndex(ofSlot slot: Int) -> Int {
        var low = 0
        var high = ends.count - 1
        while low < high {
            let middle = low + (high - low) / 2
            if ends[middle] > slot { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
