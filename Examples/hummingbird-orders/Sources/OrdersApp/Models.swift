public import Hummingbird

public struct MenuItem: ResponseCodable, Sendable {
    public var name: String
    public var priceCents: Int
}

public struct Menu: ResponseCodable, Sendable {
    public var items: [MenuItem]
}

public struct Order: ResponseCodable, Sendable {
    public var id: Int
    public var items: [String]
    public var fingerprint: String
}

public struct NewOrder: Decodable, Sendable {
    public var items: [String]
}
