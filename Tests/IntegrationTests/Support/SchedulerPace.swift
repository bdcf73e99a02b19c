/// The scheduler at a test's pace: a standby polls, and the leader promotes, rescues, opens and
/// closes every 100 ms, and reconciles every second (the defaults' one to ten).
enum SchedulerPace {
    static let environment: [String: String] = [
        "FASTEST_SHOP_SCHEDULER_TICK_MS": "100",
        "FASTEST_SHOP_SCHEDULER_PROMOTER_INTERVAL_MS": "100",
        "FASTEST_SHOP_SCHEDULER_RESCUER_INTERVAL_MS": "100",
        "FASTEST_SHOP_SCHEDULER_DROP_OPENER_INTERVAL_MS": "100",
        "FASTEST_SHOP_SCHEDULER_DROP_CLOSER_INTERVAL_MS": "100",
        "FASTEST_SHOP_SCHEDULER_ORDER_RECONCILER_INTERVAL_MS": "1000",
        "FASTEST_SHOP_SCHEDULER_GATE_RECONCILER_INTERVAL_MS": "1000",
    ]
}
