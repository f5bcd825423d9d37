import Foundation

/// A job's id: the first 16 hex digits of SHA-256 over its canonical JSON
/// (`JobConfig.canonicalJSON()`) and the content fingerprint of the data it trains on. The
/// same settings on the same data always give the same id, which is how a rerun finds the
/// results a database already holds. Ids are stored: a change to this function, or to what
/// the canonical JSON holds, loses every stored result (JobIDFreezeTests guards them).
public enum JobIdentity {
    public static func jobID(canonicalConfig: String, dataFingerprint: String) -> String {
        String(Digest.sha256Hex(Data((canonicalConfig + "\ndata:" + dataFingerprint).utf8)).prefix(16))
    }
}

extension JobConfig {
    /// This job's id on data with `fingerprint`.
    public func id(dataFingerprint: String) -> String {
        JobIdentity.jobID(canonicalConfig: canonicalJSON(), dataFingerprint: dataFingerprint)
    }
}
