/// The harness's own version (the engine has `EngineInfo.version`), printed by
/// `harness --version`. Bump it with each release of the command line or the library.
public enum HarnessInfo {
    public static let version = "0.5.0"
}
