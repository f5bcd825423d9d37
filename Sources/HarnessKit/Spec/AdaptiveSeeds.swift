/// Adaptive seeds, `"seeds": {"start": 3, "max": 10}`: every grid point runs the first
/// `start` seeds; `harness run` then adds seeds one at a time, in order, only to the points
/// whose comparison with the best is still undecided, until it is decided or the point has
/// `max` seeds (`AdaptiveSeedRound` decides each round).
///
/// The seeds are `first`, `first + 1`, ... (`first` defaults to 1), so the start seeds of
/// `{"start": 3, "max": 10}` are the seeds of `[1, 2, 3]` and their jobs have the same ids:
/// turning a list into adaptive seeds, or back, keeps every stored result. Seeds are added in
/// one fixed order so that an added seed is the same job whichever run adds it, and pairs
/// with the same seed of the best point.
public struct AdaptiveSeeds: Sendable, Equatable {
    public let first: Int
    /// How many seeds every grid point runs.
    public let start: Int
    /// The most seeds a grid point may get, the start seeds included.
    public let max: Int

    /// An upper bound that no real experiment reaches (the report's "seeds for 80% power"
    /// stops counting at 1000 too); it keeps a typo from promising a million jobs.
    public static let maxSeeds = 1000
    static let keys = ["start", "max", "first"]

    public init(first: Int = 1, start: Int, max: Int) {
        precondition(first >= 0 && 1 <= start && start <= max && max <= Self.maxSeeds && first <= Int.max - max,
                     "adaptive seeds need first >= 0 and 1 <= start <= max <= \(Self.maxSeeds)")
        self.first = first
        self.start = start
        self.max = max
    }

    /// The seeds every grid point runs.
    public var startSeeds: [Int] { Array(first..<(first + start)) }
    /// Every seed a grid point may get, in the order they are added.
    public var allSeeds: [Int] { Array(first..<(first + max)) }

    /// Reads `{"start": N, "max": M, "first": F}` at `path` (`$.seeds`).
    init(_ value: JSONValue, path: String) throws {
        guard case let .object(members) = value else {
            throw SpecIssue(path, "expected an object like {\"start\": 3, \"max\": 10}, found \(shown(value))")
        }
        for (key, _) in members where !Self.keys.contains(key) {
            throw unknownKeyIssue(key, at: path, candidates: Self.keys)
        }
        let range = 1...Self.maxSeeds
        guard let startValue = value["start"] else {
            throw SpecIssue(JSONPath.member(path, "start"), "missing required field; give how many seeds every grid "
                            + "point runs, e.g. {\"start\": 3, \"max\": 10}")
        }
        let start = try SpecRead.int(startValue, JSONPath.member(path, "start"), range)
        guard let maxValue = value["max"] else {
            throw SpecIssue(JSONPath.member(path, "max"), "missing required field; give the most seeds a grid point may "
                            + "get, e.g. {\"start\": \(start), \"max\": \(Swift.max(start, 10))}")
        }
        let max = try SpecRead.int(maxValue, JSONPath.member(path, "max"), range)
        guard max >= start else {
            throw SpecIssue(JSONPath.member(path, "max"), "\(max) is less than start (\(start)); max counts every seed "
                            + "a grid point may get, the start seeds included")
        }
        let first = try value["first"].map { try SpecRead.int($0, JSONPath.member(path, "first"), 0...Int.max) } ?? 1
        guard first <= Int.max - max else {
            throw SpecIssue(JSONPath.member(path, "first"), "\(first) is too large: the seeds \(first), \(first) + 1, ... "
                            + "up to \(max) of them must fit a 64-bit integer")
        }
        self.init(first: first, start: start, max: max)
    }

    /// "1–3, adaptive up to 10": the seeds as reports show them.
    public var description: String {
        (start == 1 ? String(first) : "\(first)–\(first + start - 1)") + ", adaptive up to \(max)"
    }

    /// "4", "4, 5", "4–8", "1, 3, 7": seeds in order, three or more consecutive ones as a range.
    static func range(_ seeds: [Int]) -> String {
        let sorted = seeds.sorted()
        guard let low = sorted.first, let high = sorted.last else { return "none" }
        if sorted.count >= 3 && high - low == sorted.count - 1 && Set(sorted).count == sorted.count { return "\(low)–\(high)" }
        return sorted.map(String.init).joined(separator: ", ")
    }
}
