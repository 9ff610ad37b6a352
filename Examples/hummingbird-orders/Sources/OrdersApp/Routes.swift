import Hummingbird
import Logging
import Tracing

/// The routes. Hummingbird's TracingMiddleware opens one server span per
/// request, named after the matched route ("/orders/{id}" and so on); the
/// handlers open child spans around the work inside it. With traced's
/// tracer a request is a task of that type and each child span a region in
/// it; with no tracer bootstrapped every span is a no-op.
func addRoutes(to router: Router<BasicRequestContext>, inventory: InventoryClient? = nil) {
    // Nothing but the middleware's span: what scripts and tests send first,
    // until traced has registered the process (the first annotation connects).
    router.get("/health") { _, _ -> HTTPResponse.Status in .ok }

    // A CPU-bound step: sort the menu by price.
    router.get("/menu") { _, context -> Menu in
        let items = withSpan("sortMenu") { _ in
            menuItems.sorted { ($0.priceCents, $0.name) < ($1.priceCents, $1.name) }
        }
        context.logger.info("menu served", metadata: ["items": "\(items.count)"])
        return Menu(items: Array(items.prefix(20)))
    }

    // A call that awaits (the order store), then a CPU-bound step (its fingerprint).
    router.get("/orders/{id}") { _, context -> Order in
        let id = try context.parameters.require("id", as: Int.self)
        context.logger.info("loading order", metadata: ["order": "\(id)"])
        try await withSpan("loadOrder", ofKind: .client) { _ in
            try await downstreamCall(milliseconds: 2)
        }
        // With --inventory: the other service is asked too, in this trace.
        if let inventory {
            let status = try await withSpan("checkInventory", ofKind: .client) { span in
                let status = try await inventory.get("/orders/\(id)")
                span.attributes["http.response.status_code"] = status
                return status
            }
            guard status == 200 else { throw HTTPError(.badGateway, message: "the inventory answered \(status)") }
        }
        let items = ["latte", "mocha", "flat white"]
        let hash = withSpan("fingerprintOrder") { _ in
            fingerprint(Array("\(id):\(items)".utf8) + orderPadding, rounds: 4)
        }
        return Order(id: id, items: items, fingerprint: String(hash, radix: 16))
    }

    // A fan-out: each item reserved by its own child task, in its own span,
    // concurrently; then the payment (awaits) and the fingerprint (CPU).
    router.post("/orders") { request, context -> EditedResponse<Order> in
        let order = try await request.decode(as: NewOrder.self, context: context)
        guard (1...maximumItems).contains(order.items.count) else {
            throw HTTPError(.badRequest, message: "an order has 1 to \(maximumItems) items, this one \(order.items.count)")
        }
        context.logger.info("order received", metadata: ["items": "\(order.items.count)"])
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in order.items {
                group.addTask {
                    try await withSpan("reserveItem", ofKind: .client) { span in
                        span.attributes["item"] = item
                        try await downstreamCall(milliseconds: 1)
                    }
                }
            }
            try await group.waitForAll()
        }
        try await withSpan("chargePayment", ofKind: .client) { _ in
            try await downstreamCall(milliseconds: 1)
        }
        let hash = withSpan("fingerprintOrder") { _ in
            fingerprint(Array("\(order.items)".utf8) + orderPadding, rounds: 4)
        }
        let id = Int(truncatingIfNeeded: hash % 1_000_000)
        context.logger.info("order created", metadata: ["order": "\(id)"])
        return EditedResponse(status: .created, response: Order(id: id, items: order.items, fingerprint: String(hash, radix: 16)))
    }
}

/// The most items an order may have (each is a child task).
let maximumItems = 10

/// Bytes fingerprinted with each order, so the step costs a few microseconds.
let orderPadding = [UInt8](repeating: 0x5a, count: 4096)
