import ShopDomain

extension ChargeState {
    /// The state as an SQL string literal, for the statements that move it (its raw values are
    /// fixed identifiers, never input).
    var sql: String { "'\(rawValue)'" }
}
