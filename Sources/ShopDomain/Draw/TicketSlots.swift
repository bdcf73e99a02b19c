/// docs/contract.md, "Draw protocol v1", step 5: slots `0..<total`, slot s belonging to the entry whose
/// cumulative ticket range (in canonical order) contains s. Stores one running sum per entry, never one
/// value per slot, so a raffle with a billion tickets costs what its entries cost.
struct TicketSlots {
    let total: Int
    /// `ends[k]` = tickets of entries `0...k`; entry k owns slots `ends[k-1]..<ends[k]`.
    private let ends: [Int]
    /// Slots grouped in buckets of about the average ticket count, so there are about as many
    /// buckets as entries. `bucketOwners[b]` = the entry owning slot `b·bucketSize`, plus the last
    /// entry as a sentinel. A search over all `ends` is a chain of cache misses; a search between
    /// two neighbouring owners covers a few entries.
    private let bucketSize: Int
    /// Entry indexes as 32 bits: half the memory of `Int` at ten million entries.
    private let bucketOwners: [UInt32]

    /// Also checks the entries: strictly ascending `userID`, at least one ticket each. Shares the
    /// entries' running sums instead of copying them.
    init(entries: CanonicalEntries) throws(DrawInputError) {
        let users = entries.userIDs
        for index in 0..<entries.count {
            if index > 0, users[index] <= users[index - 1] {
                throw DrawInputError(
                    .entriesNotAscending,
                    "entry \(index) (user \(users[index])) does not follow user \(users[index - 1]): entries must be strictly ascending by user id")
            }
            let tickets = entries.tickets(at: index)
            guard tickets >= 1 else {
                throw DrawInputError(.invalidTickets, "entry \(index) (user \(users[index])) has \(tickets) tickets; at least 1 is required")
            }
        }
        guard !entries.ticketsOverflowed else {
            throw DrawInputError(.tooManyTickets, "the total number of tickets does not fit in 64 bits")
        }
        let ends = entries.ticketEnds
        let total = entries.totalTickets
        self.total = total
        self.ends = ends

        bucketSize = max(1, dividedRoundingUp(total, by: max(entries.count, 1)))
        let bucketCount = dividedRoundingUp(total, by: bucketSize)
        var owners: [UInt32] = []
        owners.reserveCapacity(bucketCount + 1)
        var owner = 0
        for bucket in 0..<bucketCount {
            while ends[owner] <= bucket * bucketSize { owner += 1 }
            owners.append(UInt32(owner))
        }
        owners.append(UInt32(max(entries.count - 1, 0)))
        bucketOwners = owners
    }

    /// The slots of a value list (small inputs: tests).
    init(entries: [DrawEntry]) throws(DrawInputError) {
        try self.init(entries: CanonicalEntries(entries))
    }

    /// The index of the entry owning `slot`: the first k with `ends[k] > slot`.
    func entryIndex(ofSlot slot: Int) -> Int {
        let bucket = slot / bucketSize
        var low = Int(bucketOwners[bucket])
        var high = Int(bucketOwners[bucket + 1])
        while low < high {
            let middle = low + (high - low) / 2
            if ends[middle] > slot { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// ⌈value / divisor⌉ for non-negative values, without overflowing near `Int.max`.
private func dividedRoundingUp(_ value: Int, by divisor: Int) -> Int {
    let (quotient, remainder) = value.quotientAndRemainder(dividingBy: divisor)
    return remainder == 0 ? quotient : quotient + 1
}
