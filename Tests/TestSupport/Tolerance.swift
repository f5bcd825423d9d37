/// True when `a` and `b` agree to a relative tolerance, with `absolute` as the floor
/// for values near zero: |a - b| <= max(absolute, relative * max(|a|, |b|)).
public func isClose(_ a: Double, _ b: Double, relative: Double = 1e-5, absolute: Double = 1e-8) -> Bool {
    if a == b { return true }
    guard a.isFinite, b.isFinite else { return false }
    return abs(a - b) <= max(absolute, relative * max(abs(a), abs(b)))
}

public func isClose(_ a: Float, _ b: Float, relative: Float = 1e-5, absolute: Float = 1e-7) -> Bool {
    isClose(Double(a), Double(b), relative: Double(relative), absolute: Double(absolute))
}
