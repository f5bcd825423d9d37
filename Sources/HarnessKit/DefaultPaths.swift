extension Store {
    /// The results database every command uses unless given `--db PATH`, and the default of
    /// every library entry point that takes a database path. Relative to the working directory.
    public static let defaultPath = "results/harness.sqlite"
}
