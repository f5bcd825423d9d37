/// An error meant for the user: its description says what went wrong and where
/// (file, field, record) and what was expected.
public struct HarnessError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
