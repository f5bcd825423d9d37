/// The engine's version, recorded with every job so results can be traced to the code
/// that produced them. Bump it when a change alters numerics.
public enum EngineInfo {
    public static let version = "0.4.0"
}
