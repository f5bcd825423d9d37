import Foundation
import XCTest
@testable import HarnessKit

/// Stored job ids are a promise: a result in a user's database is found again only while its
/// spec still expands to the same ids. This freezes the ids of every shipped experiment (and of
/// the base models its pruning jobs share) on a fixed data fingerprint; a change that moves
/// one of them loses the results stored under it.
final class JobIDFreezeTests: XCTestCase {
    static let fingerprint = "frozen-test-fingerprint"

    static var experimentsDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("experiments")
    }

    /// Per spec file: its job ids in spec order, then its pruning base ids and its score job
    /// ids (each sorted), joined by spaces.
    static func currentIDs() throws -> [String: String] {
        let files = try FileManager.default.contentsOfDirectory(atPath: experimentsDirectory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        var result: [String: String] = [:]
        for file in files {
            let spec = try ExperimentSpec.load(path: experimentsDirectory.appendingPathComponent(file).path)
            let jobs = try spec.jobs()
            let ids = jobs.map { JobIdentity.jobID(canonicalConfig: $0.canonicalJSON(), dataFingerprint: fingerprint) }
            let bases = Set(jobs.filter { $0.pruning != nil }.map {
                JobIdentity.jobID(canonicalConfig: $0.baseConfigJSON(), dataFingerprint: fingerprint)
            }).sorted()
            // Score jobs on the full Fashion-MNIST's 60,000 training images.
            let scores = Set(jobs.compactMap { PatternScoreJob($0, available: 60000)?.id(dataFingerprint: fingerprint) }).sorted()
            result[file] = (ids + (bases.isEmpty ? [] : ["bases:"] + bases) + (scores.isEmpty ? [] : ["scores:"] + scores))
                .joined(separator: " ")
        }
        return result
    }

    /// Every frozen id is still produced by its spec (a spec may gain jobs, as a grid gains
    /// values, but never lose or move one).
    func testShippedExperimentsKeepTheirJobIDs() throws {
        let current = try Self.currentIDs()
        for (file, ids) in Self.frozen.sorted(by: { $0.key < $1.key }) {
            guard let now = current[file] else {
                XCTFail("\(file): the spec is gone, and with it the way to its stored results")
                continue
            }
            let produced = Set(now.split(separator: " "))
            let lost = ids.split(separator: " ").filter { !produced.contains($0) }
            XCTAssert(lost.isEmpty, "\(file): job ids \(lost.joined(separator: ", ")) moved; their stored results would be lost")
        }
        if current.contains(where: { Self.frozen[$0.key] != $0.value }) {
            print("current ids:\n" + current.sorted(by: { $0.key < $1.key }).map { "\"\($0.key)\": \"\($0.value)\"," }
                .joined(separator: "\n"))
        }
    }

    /// Adaptive seeds start with the jobs of the explicit list of their start seeds: a spec
    /// may switch between the two without losing a stored result.
    func testAdaptiveStartSeedsKeepTheIDsOfTheExplicitSeedList() throws {
        func ids(_ text: String) throws -> [String] {
            try ExperimentSpec.parse(text: text, filePath: "x.json").jobs().map {
                JobIdentity.jobID(canonicalConfig: $0.canonicalJSON(), dataFingerprint: Self.fingerprint)
            }
        }
        let quick = try String(contentsOf: Self.experimentsDirectory.appendingPathComponent("quick.json"), encoding: .utf8)
        XCTAssert(quick.contains(#""seeds": [1, 2],"#), "quick.json's seeds moved; update this test's replacement")
        let adaptiveQuick = quick.replacingOccurrences(of: #""seeds": [1, 2],"#, with: #""seeds": {"start": 2, "max": 10},"#)
        XCTAssertEqual(try ids(adaptiveQuick).joined(separator: " "), Self.frozen["quick.json"])

        let base = #"{"name": "x", "model": {"type": "cnn"}, "grid": {"training.learning_rate": [0.001, 0.01]}, "seeds": "#
        let adaptive = try ids(base + #"{"start": 3, "max": 10}}"#)
        XCTAssertEqual(adaptive, try ids(base + "[1, 2, 3]}"))
        XCTAssertEqual(adaptive.first, "927ac5a22911a1b9", "the list spec's first id, computed as every stored id was")
    }

    /// Made by this test's "current ids" print at the commit that added it, before the
    /// settings were redesigned; pruning-methods.json and pattern-reduction.json (with its
    /// score jobs) when they were added.
    static let frozen: [String: String] = [
        "columns.json": "06fc28a8a38a56be 6fe5807d720c1bdd 87a4a9534c6a036f e0bc63ae26d33a50 d7f3e4e262f7aad7 7bb073b91d59fb31",
        "final.json": "0d6cf818c8452fc4 d7e598a936a45eb6 933d8d157e68083e",
        "layers.json": "9a8191765f8c476a 326e7d19f582fbc7 7777782173a42e7b 814d0fd72522b30f e01083a7dc18514e 7b4e48081b9a8d51 0bb780c75b33e89c 145027d508aa3457 5c0beedda6652cb1 f88fa3eedd2789bc f04c03aa0fc2d8b5 fbfba4477e5666ab 623df48e4c24e506 df6c8dcbbc15de4b b418d3d803231ec3 1ec1c3a6d3ada49b e75be45c33bc71dd 152b548d5bbec42c 47aa5723442ff268 8aa805126af43b69 e1a18e01e4b0d2f8 fcc5ff6247429744 e0e9f4c4f89d278d a22f1cd8edf1a10c f1848beede3c853f 9536c978cb457a06 f392ef0d7841e17c d9589fff16fa1492 88f244dd0da429dc dd3ea9c8cdced8b1 8eea8d69e4ac6b9d e8ae9ae48911d3ab d6cac8fc42a51fef 4e7ad2260a4db017 2a36d5f29551222b 9998f31716c0e6eb 93a0066149ca3bf0 29a7a35b7fb4331d 1c79eda2acf05fe6 0d6cf818c8452fc4 d7e598a936a45eb6 933d8d157e68083e 5a324e3fce4f9ed1 05df74a05bd1e832 cfee83f6e248b5b5 f6561fd5ff280616 a7631b512dbbd73c 5e9553b2ec432767 e0bc63ae26d33a50 d7f3e4e262f7aad7 7bb073b91d59fb31 2ad8b02eeabe669e 9cf4a4c3c7a5e089 b5954b42a568a0a8 d882665defbf1ac0 95d37df8e8ba2d4c 26f5397806e716d8 9662f353c818ed34 8ab1b97474113333 f2c2669495ecfc79 cb916d8e4de31167 73e3e7a8e6862d8a ceb53b067b47b765 6ceaef0ab36f62b6 a477052dbe0d97b6 8254776b99c1af60 fde8f7e57ae369d1 8e7dc7586b1eb1e7 be150db214a339b4 4817e662b6f02ed0 08728c48504292bc 8710bd9a199fd8ae 0350876804c21b3f 53ff910ff23f9265 0288a4e5a9c3ade9 5e00c1a92da41661 8e440274e06a481c 66de9ae7d6d036b4 bee541109736e3b5 2db731cde4b16021 4bf08c60a30967e4",
        "lstm-vs-cnn.json": "15aef1c0344cda16 82de9023a1ac4428 b45cd2dc29012137 3d5e4811050b449b 286825cbf6540c59 d83d2ceae45ba880",
        "pruning.json": "5a5b5e60b322b8b6 0402c6d241497d70 580edcb100f8afdf 46fbd800b6d171eb fa29aebce224db52 b7ba32cffa2491a8 d5264b80107adba5 2653ae1772cc7d26 b3de8152c18d7119 f011633cdd0af025 4574ef4df9728289 4d913aceecde2421 2fdb3ac960928671 3bab5432f9b038a3 82bde3d494af461b 95e31cca5d2c9114 5cded955851593b7 8a02bf4a07d64290 bases: 0d6cf818c8452fc4 933d8d157e68083e d7e598a936a45eb6",
        "pattern-reduction.json": "b75f89d3e6831a6f d25a370390583a04 4ab706feda3875cf d9c8b8f27b680293 677944a8f15de321 5a1ac14b50999f90 ac6e45da4739355c 1c01884e75dc119f f9ccfa95a9ca6308 d715ea8d9a8d39ec e2e18b9d6f6ee134 5309955d68c6db1b 13f8b8a531071a78 ee702a47a9e8f5f2 976212520301b7dc d481f42390858f83 47d356256efd8f8a df4945e82e1a2514 6d26a24cfe4998e9 ba502a42a32d7736 f2dc90716f23c2bb 3bc2aeb30b49ce1c 18a76e74db09f0d9 c8c7b2049dcfa867 26c358e5e255470d 89100dbf8feb3487 224fb57f3ef9dac6 61a836a1c3062af1 86a0be5cc288fd58 dc373cfb8d35bdb6 2899d1129a620f6e ecd5cd13ab6cacac bd93202913279263 07355ec944af3f66 a24510743c19faa8 f8553d9b56726881 144329f5cd28619c 46e5a9409cf7a158 401d21b76207d395 92734a2231d44f4e 4a0d85865fc01c39 effc93758ae71ed2 380feb7994bcb851 c7f8891c4ace62b9 30552cc76a0fbdee c9845f02e4f724a0 5f8d69c9c60727f7 db01969ef7ae7cd1 07cbbc8092232a47 6f3af0ed9e962d58 7430d27ff727b29d 3069f97d93ab0576 07b15aeb11b82068 539bf071ce68d0fa 24669f177871d7c0 587dfcc1fb557d39 1ff825e80ab166ba 0ad6b3928b1e6036 3ec9cc686a8ca4ee 8e3149bcd3b71114 scores: 5af15c6120b413f0 99db611561adfa5d 9c2ac7c094758264 ac6f727f98736b55 c2fbe37011f85336 efa3c6b5ccb70d7e",
        "pruning-methods.json": "6c5bbd8c0ac628cf 38085f3d600da18e a61a1a4f2bb5d2e9 0d1017d764813cdb b3a5e4938e71f81c c702549fefd77d93 34055c856781a345 23eb1e34b2236cb8 c00d779947357b39 fdec4a63c63e4c52 6f94420825898c92 a5ce3b51e0d98a9f 31969b56ed403717 123778b2b63197ee 04850c2800c1e600 225f80b0245eaf91 929cf2ebb8811bca 21f6ee0efa73db4f 033e84127e9a68b7 1e41984cee8c7830 43fc9aa94c0a27f8 0335fffd3beec784 1626bec6b086ee35 f1fe21a596a2f260 59c58d204f18ebd9 8af0fa7d8e144b1d 57ee6e12e10e4064 bases: 0d6cf818c8452fc4 933d8d157e68083e d7e598a936a45eb6",
        "quick.json": "668682da0bbe7ac6 6d7e1b085a8c2373 44660573c58c5958 5509157efe59a320",
        "rnn-vs-lstm.json": "4ab99a3098aaba4e 46386f80763adfce 465db7394c733747 e2c9c72c81b40b52 fb55d4c2765aaadb d39ef8a182a19966 aa4bd9b203fe4b2a f4b2c3b8a397f614 71392e3942530b79 ba4909c60e7482ad 95326b9988af0132 51421542eccc8f74",
        "training-size.json": "b75f89d3e6831a6f d25a370390583a04 4ab706feda3875cf 13f8b8a531071a78 ee702a47a9e8f5f2 976212520301b7dc 26c358e5e255470d 89100dbf8feb3487 224fb57f3ef9dac6 144329f5cd28619c 46e5a9409cf7a158 401d21b76207d395 07cbbc8092232a47 6f3af0ed9e962d58 7430d27ff727b29d",
    ]
}
