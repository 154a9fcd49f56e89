import Testing
@testable import Lineup

/// Every test that touches ``SDK`` or ``ProcessConnection`` lives under this one serialized
/// suite: the connection and the in-memory database are process-wide, so these tests must not
/// run at the same time as one another. The files `SDK*Tests.swift` and `ConcurrencyTests.swift`
/// add nested suites to it.
@Suite(.serialized)
struct SDKTests {}
