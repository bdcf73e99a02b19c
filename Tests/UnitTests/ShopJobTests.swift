import JobQueue
import ShopJobs
import Testing

@Suite struct ShopJobTests {
    @Test(arguments: [
        ShopJob.closeDrop(dropID: 7), .chargeOrder(orderID: 42), .expireOrder(orderID: 42, atMilliseconds: 1_800_000_000_000),
    ])
    func jobsRoundTripThroughKindAndPayload(job: ShopJob) {
        #expect(ShopJob(kind: job.kind, payload: job.payload) == job)
    }

    @Test func uniqueKeysNameTheRowTheJobWorksOn() {
        #expect(ShopJob.closeDrop(dropID: 7).uniqueKey == "drop.close:7")
        #expect(ShopJob.chargeOrder(orderID: 42).uniqueKey == "order.charge:42")
        #expect(ShopJob.expireOrder(orderID: 42, atMilliseconds: 1).uniqueKey == "order.expire:42")
        #expect(ShopJob.expireOrder(orderID: 42, atMilliseconds: 5).newJob.runAtMilliseconds == 5)
        #expect(ShopJob.chargeOrder(orderID: 42).newJob.runAtMilliseconds == nil)
    }

    @Test func malformedPayloadsAreNotShopJobs() {
        #expect(ShopJob(kind: "drop.close", payload: "{}") == nil)
        #expect(ShopJob(kind: "drop.close", payload: "not json") == nil)
        #expect(ShopJob(kind: "order.expire", payload: #"{"order_id":1}"#) == nil)
        #expect(ShopJob(kind: "unknown", payload: #"{"order_id":1}"#) == nil)
    }
}
