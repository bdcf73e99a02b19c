import Foundation
import Hummingbird
import JobQueue
import Postgres
import ShopDomain
import Storage
import TextEncodings

/// The console's pages: each one reads what it shows and renders one template.
extension ConsoleRoutes {
    static let recentMinutes = 15
    static let paymentWindowMinutes = 60
    static let rankingLimit = 200
    static let outcomeSeries: [SVGChart.Series] = [
        .init(name: "succeeded", color: "#2e7d32"), .init(name: "declined", color: "#c62828"),
        .init(name: "pending", color: "#f9a825"), .init(name: "retryable", color: "#6a1b9a"), .init(name: "failed", color: "#4e342e"),
    ]

    struct DropRow {
        let id: Int, kind: String, status: String, stock: Int, available: Int, held: Int, sold: Int, entries: Int
        let opensAt: String, closesAt: String

        init(_ overview: DropOverview) {
            let drop = overview.drop
            id = drop.id
            kind = drop.kind.rawValue
            status = drop.status.rawValue
            stock = drop.stock
            available = drop.available
            held = drop.held
            sold = drop.sold
            entries = overview.entryCount
            opensAt = ConsoleRoutes.time(drop.opensAt)
            closesAt = drop.closesAt.map(ConsoleRoutes.time) ?? "—"
        }
    }

    struct DropTable { let drops: [DropRow] }
    struct Count {
        let label: String
        let count: Int
    }

    struct QueueRow {
        let queue: String, ready: Int, inFlight: Int, delayed: Int, retrying: Int, dead: Int
        var processedHour = 0, failedHour = 0
    }

    static func time(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().dateSeparator(.dash).time(includingFractionalSeconds: false).timeSeparator(.colon))
    }

    static func counts(_ values: [String: Int], order: [String] = []) -> [Count] {
        let ordered = order.filter { values[$0] != nil } + values.keys.filter { !order.contains($0) }.sorted()
        return ordered.map { Count(label: $0, count: values[$0]!) }
    }

    /// Per queue figures, and the workers that heartbeated lately.
    func queueFigures() async throws -> (rows: [QueueRow], liveWorkers: [String]) {
        async let overview = queue.overview()
        async let retrying = queue.retryingCounts()
        let (stats, retries) = try await (overview, retrying)
        let rows = stats.queues.map {
            QueueRow(queue: $0.queue, ready: $0.waiting, inFlight: $0.inFlight, delayed: $0.delayed, retrying: retries[$0.queue] ?? 0, dead: $0.dead)
        }
        return (rows, stats.liveWorkers)
    }

    /// Charge answers per outcome in buckets, one bar per bucket, oldest first, empty buckets included.
    func outcomeChart(title: String, minutes: Int, bucketMinutes: Int) async throws -> String {
        let rows = try await figures.chargeOutcomesOverTime(minutes: minutes, bucketMinutes: bucketMinutes)
        let bucketSeconds = Double(bucketMinutes * 60)
        let now = Date().timeIntervalSince1970
        let last = (now / bucketSeconds).rounded(.down) * bucketSeconds
        let count = minutes / bucketMinutes + 1
        let starts = (0..<count).map { last - Double(count - 1 - $0) * bucketSeconds }
        var byBucket: [Double: [String: Int]] = [:]
        for row in rows { byBucket[row.bucketStart.timeIntervalSince1970, default: [:]][row.label] = row.count }
        let labeler = Date.FormatStyle.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits)
        let bars = starts.map { start in
            SVGChart.Bar(
                label: Date(timeIntervalSince1970: start).formatted(labeler),
                values: Self.outcomeSeries.map { byBucket[start]?[$0.name] ?? 0 })
        }
        return SVGChart.stackedBars(title: title, series: Self.outcomeSeries, bars: rows.isEmpty ? [] : bars)
    }

    // MARK: pages

    @Sendable func overview(_ request: Request, context: IntakeRequestContext, session: ConsoleSession) async throws -> Response {
        struct Overview {
            let openCount: Int, scheduledCount: Int, workersAlive: Int, jobsReady: Int, jobsDead: Int
            let chargesRecent: Int, recentMinutes: Int
            let open: DropTable, next: DropTable, queues: [QueueRow], outcomes: [Count], chart: String
        }
        async let open = listings.drops(statuses: [.open], afterID: 0, limit: 50)
        async let next = figures.nextDrops(limit: 10)
        async let dropCounts = figures.dropCounts()
        async let queueState = queueFigures()
        async let outcomes = figures.chargeOutcomes(minutes: Self.recentMinutes)
        async let chart = outcomeChart(title: "Charge answers per minute", minutes: Self.recentMinutes, bucketMinutes: 1)
        let counts = try await dropCounts
        let (queues, liveWorkers) = try await queueState
        let recent = try await outcomes
        let view = Overview(
            openCount: counts["open"] ?? 0, scheduledCount: counts["scheduled"] ?? 0,
            workersAlive: liveWorkers.count, jobsReady: queues.map(\.ready).reduce(0, +),
            jobsDead: queues.map(\.dead).reduce(0, +), chargesRecent: recent.values.reduce(0, +),
            recentMinutes: Self.recentMinutes,
            open: DropTable(drops: try await open.map(DropRow.init)), next: DropTable(drops: try await next.map(DropRow.init)),
            queues: queues, outcomes: Self.counts(recent, order: Self.outcomeSeries.map(\.name)), chart: try await chart)
        return pages.render("overview", chrome("Overview", session, request, content: view))
    }

    struct StatusOption {
        let value: String
        let selected: Bool
    }
    struct DropList {
        let drops: [DropRow]
        let statuses: [StatusOption]
        let nextPage: String?
        var issues: [ValidationIssue] = []
    }

    static let pageSize = 50

    /// Drops in id order, filtered by status, a page at a time (the API's keyset listing).
    func dropListView(_ request: Request) async throws -> DropList {
        let query = request.uri.queryParameters
        let statusText = query["status"].map(String.init).flatMap { $0.isEmpty ? nil : $0 }
        let status = statusText.flatMap(DropStatus.init(rawValue:))
        if statusText != nil && status == nil { throw Problem(.invalidRequest, "there is no drop status of that name") }
        let after = query["after"].flatMap { Int(String($0)) } ?? 0
        let page = try await listings.drops(statuses: status.map { [$0] }, afterID: max(0, after), limit: Self.pageSize)
        let next =
            page.count == Self.pageSize
            ? page.last.map { last in
                "/console/drops?after=\(last.drop.id)" + (status.map { "&status=\($0.rawValue)" } ?? "")
            } : nil
        let all: [DropStatus] = [.scheduled, .open, .closing, .drawn, .closed, .settled]
        return DropList(
            drops: page.map(DropRow.init), statuses: all.map { StatusOption(value: $0.rawValue, selected: $0 == status) }, nextPage: next)
    }

    @Sendable func dropList(_ request: Request, context: IntakeRequestContext, session: ConsoleSession) async throws -> Response {
        pages.render("drops", chrome("Drops", session, request, content: try await dropListView(request)))
    }

    struct Ranked {
        let position: Int
        let userID: Int
        let orderID: String
    }
    struct DrawView {
        let commitment: String, seed: String, entriesDigest: String, beacon: String, drawnAt: String
        let drawn: Bool, verified: Bool, mismatches: [String]
        let winners: [Ranked], waitlist: [Ranked], rankingCut: Bool, rankingLimit: Int
    }
    struct DropDetail {
        let dropID: Int
        let drop: DropDetailFigures
        let orders: [Count]
        let entriesChart: String
        let draw: DrawView?
        let canClose: Bool
        let canSetBeacon: Bool
        let beaconValue: String
        let canCancel: Bool
        let orderList: [OrderRow]
        let ordersCut: Bool
        let orderLimit: Int
    }
    struct OrderRow { let id: Int, userID: Int, status: String, amount: String, refundable: Bool }
    static let orderListLimit = 200
    struct DropDetailFigures {
        let kind: String, status: String, stock: Int, available: Int, held: Int, sold: Int, entries: Int
        let opensAt: String, closesAt: String, maxTickets: Int, waitlistDepth: Int
    }

    @Sendable func dropDetail(_ request: Request, context: IntakeRequestContext, session: ConsoleSession) async throws -> Response {
        let id = try context.id(of: "drop")
        guard let overview = try await drops.fetch(id: id) else { throw Problem.notFound("drop") }
        let drop = overview.drop
        async let orders = figures.orderCounts(dropID: id)
        async let entries = figures.entriesOverTime(dropID: id)
        async let orderList = figures.orders(dropID: id, limit: Self.orderListLimit + 1)
        var draw: DrawView?
        if drop.kind.isDrawn {
            draw = try await drawView(drop)
        }
        let labeler = Date.FormatStyle.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits)
        let chart = SVGChart.stackedBars(
            title: "Entries per minute", series: [.init(name: "entries", color: "#1565c0")],
            bars: try await entries.map { SVGChart.Bar(label: $0.bucketStart.formatted(labeler), values: [$0.count]) })
        let view = DropDetail(
            dropID: id,
            drop: DropDetailFigures(
                kind: drop.kind.rawValue, status: drop.status.rawValue, stock: drop.stock, available: drop.available, held: drop.held,
                sold: drop.sold, entries: overview.entryCount, opensAt: Self.time(drop.opensAt),
                closesAt: drop.closesAt.map(Self.time) ?? "—", maxTickets: drop.maxTickets, waitlistDepth: drop.waitlistDepth),
            orders: Self.counts(try await orders, order: ["pending_payment", "paid", "failed", "expired"]),
            entriesChart: chart, draw: draw, canClose: drop.status == .open,
            canSetBeacon: drop.kind.isDrawn && (drop.status == .open || drop.status == .scheduled), beaconValue: drop.beacon,
            canCancel: !drop.status.isFinal,
            orderList: try await orderList.prefix(Self.orderListLimit).map {
                OrderRow(
                    id: $0.id, userID: $0.userID, status: $0.status.rawValue,
                    amount: String(format: "%d.%02d %@", $0.amountCents / 100, $0.amountCents % 100, $0.currency),
                    refundable: $0.status == .paid)
            },
            ordersCut: try await orderList.count > Self.orderListLimit, orderLimit: Self.orderListLimit)
        return pages.render("drop", chrome("Drop \(id)", session, request, content: view))
    }

    /// The draw's public figures and, once drawn, whether the audit bundle's recomputation
    /// (``AuditVerifier``, what `fastest-shop verify` runs) gives the stored winners and waitlist.
    func drawView(_ drop: Drop) async throws -> DrawView {
        guard drop.revealedSeed != nil else {
            return DrawView(
                commitment: drop.commitment ?? "", seed: "(secret until the draw)", entriesDigest: "—", beacon: drop.beacon,
                drawnAt: "—", drawn: false, verified: false, mismatches: [], winners: [], waitlist: [], rankingCut: false, rankingLimit: 0)
        }
        let lookup = try await pool.withConnection { connection in
            try connection.withoutReplyTimeout { try AuditBundleStore.bundle(connection, dropID: drop.id) }
        }
        var mismatches: [String] = []
        if case .bundle(let bundle) = lookup {
            mismatches = AuditVerifier.verify(bundle)
        } else {
            mismatches = ["the audit bundle could not be built"]
        }
        let ranking = try await figures.ranking(dropID: drop.id, limit: Self.rankingLimit + 1)
        let shown = ranking.prefix(Self.rankingLimit).map {
            Ranked(position: $0.position + 1, userID: $0.userID, orderID: $0.orderID.map(String.init) ?? "—")
        }
        return DrawView(
            commitment: drop.commitment ?? "", seed: drop.revealedSeed?.lowercaseHex ?? "", entriesDigest: drop.entriesDigest ?? "",
            beacon: drop.beacon.isEmpty ? "(none)" : drop.beacon, drawnAt: drop.drawnAt.map(Self.time) ?? "—",
            drawn: true, verified: mismatches.isEmpty, mismatches: mismatches,
            winners: shown.filter { $0.position <= drop.stock }, waitlist: shown.filter { $0.position > drop.stock },
            rankingCut: ranking.count > Self.rankingLimit, rankingLimit: Self.rankingLimit)
    }

    struct WorkerRow {
        let id: String, host: String, started: String, lastHeartbeat: String, silentSeconds: String, jobsInFlight: Int, alive: Bool
    }
    struct ThroughputChart {
        let queue: String
        let chart: String
    }
    static let throughputMinutes = 60
    struct DeadRow { let id: String, kind: String, queue: String, payload: String, error: String, attempts: Int, diedAt: String }
    struct QueuesView {
        let queues: [QueueRow], chart: String, throughput: [ThroughputChart], workers: [WorkerRow], dead: [DeadRow], hasDead: Bool
    }

    @Sendable func queues(_ request: Request, context: IntakeRequestContext, session: ConsoleSession) async throws -> Response {
        async let queueState = queueFigures()
        async let workers = queue.workerDetails()
        async let dead = queue.deadJobs(limit: 200)
        async let throughput = queue.throughput(minutes: Self.throughputMinutes)
        let perQueue = Dictionary(try await throughput.map { ($0.queue, $0) }, uniquingKeysWith: { first, _ in first })
        var queueRows = try await queueState.rows
        for index in queueRows.indices {
            queueRows[index].processedHour = perQueue[queueRows[index].queue]?.processed ?? 0
            queueRows[index].failedHour = perQueue[queueRows[index].queue]?.failed ?? 0
        }
        let labeler = Date.FormatStyle.dateTime.hour(.twoDigits(amPM: .omitted)).minute(.twoDigits)
        let throughputCharts = perQueue.values.filter { $0.processed + $0.failed > 0 }.sorted { $0.queue < $1.queue }.map { figures in
            ThroughputChart(
                queue: figures.queue,
                chart: SVGChart.stackedBars(
                    title: "\(figures.queue): jobs per minute",
                    series: [.init(name: "processed", color: "#2e7d32"), .init(name: "failed", color: "#c62828")],
                    bars: figures.minutes.map {
                        SVGChart.Bar(
                            label: Date(timeIntervalSince1970: Double($0.startMilliseconds) / 1000).formatted(labeler),
                            values: [$0.processed, $0.failed])
                    }))
        }
        let chart = SVGChart.stackedBars(
            title: "Jobs per queue",
            series: [
                .init(name: "ready", color: "#1565c0"), .init(name: "in flight", color: "#2e7d32"),
                .init(name: "delayed", color: "#f9a825"), .init(name: "dead", color: "#c62828"),
            ],
            bars: queueRows.map { SVGChart.Bar(label: $0.queue, values: [$0.ready, $0.inFlight, $0.delayed, $0.dead]) })
        let deadRows = try await dead.map {
            DeadRow(
                id: $0.job.id, kind: $0.job.kind, queue: $0.job.queue, payload: $0.job.payload, error: $0.error,
                attempts: $0.job.attempt, diedAt: Self.time(Date(timeIntervalSince1970: Double($0.diedAtMilliseconds) / 1000)))
        }
        let view = QueuesView(
            queues: queueRows, chart: chart, throughput: throughputCharts,
            workers: try await workers.map {
                WorkerRow(
                    id: $0.id, host: $0.host ?? "—",
                    started: $0.startedAtMilliseconds.map { Self.time(Date(timeIntervalSince1970: Double($0) / 1000)) } ?? "—",
                    lastHeartbeat: Self.time(Date(timeIntervalSince1970: Double($0.lastHeartbeatMilliseconds) / 1000)),
                    silentSeconds: String(format: "%.1f", Double($0.silentMilliseconds) / 1000), jobsInFlight: $0.jobsInFlight,
                    alive: $0.silentMilliseconds <= 3000)
            },
            dead: deadRows, hasDead: !deadRows.isEmpty)
        return pages.render("queues", chrome("Queues", session, request, content: view))
    }

    @Sendable func payments(_ request: Request, context: IntakeRequestContext, session: ConsoleSession) async throws -> Response {
        struct PaymentsView {
            let windowMinutes: Int
            let outcomes: [Count]
            let chart: String
            let orders: [Count]
            let failures: [Count]
            let p50: String, p99: String, timedAnswers: Int, lateSuccesses: Int, refundReasons: [Count], refundStates: [Count]
        }
        async let latency = figures.chargeLatency(minutes: Self.paymentWindowMinutes)
        async let refundReasons = figures.refundReasons(minutes: Self.paymentWindowMinutes)
        async let refundStates = figures.refundStates(minutes: Self.paymentWindowMinutes)
        async let outcomes = figures.chargeOutcomes(minutes: Self.paymentWindowMinutes)
        async let orders = figures.orderCounts()
        async let failures = figures.failedOrderReasons()
        async let chart = outcomeChart(title: "Charge answers per 5 minutes", minutes: Self.paymentWindowMinutes, bucketMinutes: 5)
        let view = PaymentsView(
            windowMinutes: Self.paymentWindowMinutes, outcomes: Self.counts(try await outcomes, order: Self.outcomeSeries.map(\.name)),
            chart: try await chart, orders: Self.counts(try await orders, order: ["pending_payment", "paid", "failed", "expired"]),
            failures: Self.counts(try await failures, order: ["declined"]),
            p50: try await latency.p50.map { "\($0) ms" } ?? "—", p99: try await latency.p99.map { "\($0) ms" } ?? "—",
            timedAnswers: try await latency.answers, lateSuccesses: try await refundReasons["late_success"] ?? 0,
            refundReasons: Self.counts(try await refundReasons, order: ["late_success", "operator", "drop_cancelled"]),
            refundStates: Self.counts(try await refundStates, order: ["pending", "succeeded", "failed"]))
        return pages.render("payments", chrome("Payments", session, request, content: view))
    }
}
