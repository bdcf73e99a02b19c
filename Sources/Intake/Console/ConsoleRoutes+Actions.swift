import Foundation
import Hummingbird
import JobQueue
import OpenRunGate
import ShopDomain
import Storage

/// The console's state-changing forms (each behind ``ConsoleRoutes/action(_:)``: a session and
/// its CSRF token). Each answers with a redirect to a page (post/redirect/get), so a reload
/// never posts twice.
extension ConsoleRoutes {
    @Sendable func createDrop(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response
    {
        var issues: [ValidationIssue] = []
        func integer(_ name: String) -> Int? {
            guard let text = form.text(name) else { return nil }
            guard let value = Int(text) else {
                issues.append(ValidationIssue(field: name, message: "must be a whole number"))
                return nil
            }
            return value
        }
        let body = DropRoutes.DropBody(
            productID: integer("product_id"), kind: form.text("kind"), stock: integer("stock"), opensAt: form.text("opens_at"),
            closesAt: form.text("closes_at"), maxTickets: integer("max_tickets"), waitlistDepth: integer("waitlist_depth"))
        do {
            try ValidationFailure.check(issues)
            // The API's own rules and store: the console creates exactly what POST /v1/drops would.
            let new = try DropRoutes.validate(body, now: Date())
            let created = try await drops.create(new, createdBy: session.userID)
            try? await gate.forgetUnknown(dropID: created.drop.id)
            return ConsolePages.redirect("/console/drops/\(created.drop.id)?done=created")
        } catch let failure as ValidationFailure {
            var view = try await dropListView(request)
            view.issues = failure.issues
            var page = chrome("Drops", session, request, content: view)
            page.error = "The drop was not created; see the fields below the form."
            return pages.render("drops", page, status: .badRequest)
        }
    }

    @Sendable func closeDrop(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response {
        let id = try context.id(of: "drop")
        guard try await figures.closeNow(dropID: id) else {
            throw Problem(.notOpen, "only an open drop can be closed")
        }
        await localReads.publish(CacheInvalidations.dropKey(id))
        return ConsolePages.redirect("/console/drops/\(id)?done=closing")
    }

    @Sendable func setBeacon(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response {
        let id = try context.id(of: "drop")
        let beacon = form.text("beacon") ?? ""
        guard beacon.count <= 200, !beacon.contains("|") else {
            throw Problem(.invalidRequest, "a beacon is at most 200 characters and has no |")
        }
        guard try await figures.setBeacon(dropID: id, beacon: beacon) else {
            throw Problem(.notOpen, "the beacon can only be set before the drop closes")
        }
        await localReads.publish(CacheInvalidations.dropKey(id))
        return ConsolePages.redirect("/console/drops/\(id)?done=beacon")
    }

    /// The API's cancel (``OperatorActions``), so a drop cancelled here is cancelled exactly as
    /// `POST /v1/drops/{id}/cancel` would.
    @Sendable func cancelDrop(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response
    {
        let drop = try await actions.cancel(dropID: try context.id(of: "drop"), operatorID: session.userID, logger: context.logger)
        return ConsolePages.redirect("/console/drops/\(drop.drop.id)?done=cancelled")
    }

    /// The API's refund (``OperatorActions``), as `POST /v1/orders/{id}/refund` would.
    @Sendable func refundOrder(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response
    {
        let order = try await actions.refund(orderID: try context.id(of: "order"), operatorID: session.userID, logger: context.logger)
        return ConsolePages.redirect("/console/drops/\(order.dropID)?done=refunding")
    }

    @Sendable func retryDead(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response {
        let id = try deadJobID(context)
        switch try await queue.resurrect(id: id) {
        case .requeued: return ConsolePages.redirect("/console/queues?done=retried")
        case .notFound: throw Problem(.notFound, "no dead job has this id (another operator may have retried or deleted it)")
        case .uniqueKeyHeld: throw Problem(.invalidRequest, "a live job with the same unique key is waiting or running; this one stays dead")
        }
    }

    @Sendable func deleteDead(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response
    {
        guard try await queue.deleteDead(id: try deadJobID(context)) else {
            throw Problem(.notFound, "no dead job has this id (another operator may have retried or deleted it)")
        }
        return ConsolePages.redirect("/console/queues?done=deleted")
    }

    @Sendable func retryAllDead(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws
        -> Response
    {
        _ = try await queue.retryAllDead()
        return ConsolePages.redirect("/console/queues?done=retried-all")
    }

    @Sendable func purgeDead(_ request: Request, context: IntakeRequestContext, session: ConsoleSession, form: ConsoleForm) async throws -> Response {
        _ = try await queue.purgeDead()
        return ConsolePages.redirect("/console/queues?done=purged")
    }

    private func deadJobID(_ context: IntakeRequestContext) throws -> String {
        guard let id = context.parameters.get("job"), !id.isEmpty, !id.contains("|") else { throw Problem.notFound("dead job") }
        return id
    }
}
