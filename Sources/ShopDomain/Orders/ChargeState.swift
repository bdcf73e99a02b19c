/// Where an order's charge stands (`orders.charge_state`), beside its ``OrderStatus``: whether
/// the charge job may still send it, the provider's callback is awaited, or nothing is left to
/// charge. A final order's charge is always `done` (the schema checks it).
public enum ChargeState: String, Sendable, CaseIterable {
    /// The charge job may send (or send again) the charge.
    case queued
    /// The provider answered `pending`: its callback, or the order's expiry, settles the order.
    case awaitingCallback = "awaiting_callback"
    /// Settled, or nothing to charge (a free unit is paid at once).
    case done
}
