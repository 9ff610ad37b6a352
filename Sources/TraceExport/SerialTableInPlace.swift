import TraceAnalysis

extension SerialTable {
    /// `self[key]`, for a table that is a class's stored property. A plain
    /// read of it copies the table first (retaining and releasing its three
    /// arrays: the compiler cannot prove the property unchanged while the
    /// lookup runs); through `mutating`, the lookup reads it in place.
    @inline(__always)
    mutating func find(_ key: UInt64) -> Int32? { self[key] }
}
