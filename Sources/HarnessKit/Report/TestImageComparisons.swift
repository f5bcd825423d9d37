/// Grid points compared on the same test images (McNemar's exact test), seed by seed.
///
/// The accuracy comparisons (`PairedComparison`) treat each seed's accuracy as one number,
/// so with three seeds they have three pairs. Two runs with the same seed were also
/// evaluated on the same test images, and on each image one may be right where the other is
/// wrong: McNemar's exact test asks whether those discordant images fall evenly, which has
/// power even with one seed. Per seed, and pooled over the shared seeds: the discordant
/// images summed, each (seed, image) one matched pair (McNemar's test on the strata's summed
/// discordant counts, as the Mantel-Haenszel test of matched pairs reduces to). The pooled p
/// values are Holm-adjusted across the table, which decides the verdict at 0.05.
///
/// What this tests is narrower than the accuracy comparisons: whether these trained models
/// differ on this test set, not whether a fresh seed would; it complements them, it does not
/// replace them. The same test on the images of one class names the classes where the two
/// differ (Holm-adjusted over the classes). Like the accuracy comparisons, a matched baseline
/// compares each point with its own reference point, Holm over the whole table.
struct TestImageComparison: Sendable {
    /// One seed's pair of runs on the same images.
    struct SeedTest: Sendable {
        let seed: Int
        let test: Statistics.McNemarTest
    }

    let point: Int
    /// The point this one is compared with; nil when it is a reference point itself.
    let reference: Int?
    /// Shared seeds in seed order; empty for a reference point.
    let seeds: [SeedTest]
    /// Over all shared seeds; nil without a shared seed.
    let pooled: Statistics.McNemarTest?
    /// The pooled p, Holm-adjusted over the table's comparisons.
    var adjustedP: Double?
    var verdict: PairedComparison.Verdict
    /// One entry per class, in class order; empty without a shared seed.
    let classes: [ClassDifference]

    /// The classes where the point and the reference differ, Holm-adjusted over classes.
    var differingClasses: [ClassDifference] { classes.filter(\.differs) }

    /// Every one of the points of `data` against point `reference`, on the test images of the
    /// runs that stored predictions on data whose test labels are stored.
    static func against(_ reference: Int, data: ReportData) -> [TestImageComparison] {
        against(references: data.points.map { $0.index == reference ? nil : reference }, data: data)
    }

    /// Every point of `data` against its own reference point, `references[i]` for point `i`
    /// (nil for a reference point), on the same test images.
    static func against(references: [Int?], data: ReportData) -> [TestImageComparison] {
        let runsByPoint = data.points.map { evaluatedRuns($0, data: data) }
        var comparisons = data.points.map { point -> TestImageComparison in
            guard let reference = references[point.index] else {
                return TestImageComparison(point: point.index, reference: nil, seeds: [], pooled: nil, verdict: .best,
                                           classes: [])
            }
            let runs = runsByPoint[point.index], referenceRuns = runsByPoint[reference]
            // Only seeds whose two runs saw the same test images (the same labels in the same order).
            let seeds = runs.keys.filter { seed in
                guard let other = referenceRuns[seed] else { return false }
                return other.labels == runs[seed]!.labels
            }.sorted()
            guard let first = seeds.first else {
                return TestImageComparison(point: point.index, reference: reference, seeds: [], pooled: nil,
                                           verdict: .tooFewPairs, classes: [])
            }
            var tests: [SeedTest] = []
            var onlyPoint = 0, onlyReference = 0
            for seed in seeds {
                // Lengths are equal: the labels are.
                let test = try! Statistics.exactMcNemar(firstCorrect: runs[seed]!.correct,
                                                        secondCorrect: referenceRuns[seed]!.correct)
                tests.append(SeedTest(seed: seed, test: test))
                onlyPoint += test.onlyFirst
                onlyReference += test.onlySecond
            }
            let classes = ClassDifference.all(labels: runs[first]!.labels,
                                              point: seeds.map { runs[$0]!.correct },
                                              reference: seeds.map { referenceRuns[$0]!.correct })
            return TestImageComparison(point: point.index, reference: reference, seeds: tests,
                                       pooled: Statistics.McNemarTest(onlyFirst: onlyPoint, onlySecond: onlyReference),
                                       verdict: .indistinguishable, classes: classes)
        }
        let tested = comparisons.indices.filter { comparisons[$0].pooled != nil }
        if let adjusted = try? Statistics.holmAdjusted(tested.map { comparisons[$0].pooled!.p }) {
            for (index, p) in zip(tested, adjusted) {
                comparisons[index].adjustedP = p
                let pooled = comparisons[index].pooled!
                comparisons[index].verdict = p < 0.05 ? (pooled.onlyFirst < pooled.onlySecond ? .below : .above) : .indistinguishable
            }
        }
        return comparisons
    }

    /// A point's done runs that can be compared image by image, by seed: which test images
    /// each got right, and the labels of those images.
    private static func evaluatedRuns(_ point: GridPoint, data: ReportData) -> [Int: (correct: [Bool], labels: [UInt8])] {
        var runs: [Int: (correct: [Bool], labels: [UInt8])] = [:]
        for job in point.doneJobs {
            guard let run = job.result.runID, let correct = data.correctness[run],
                  let labels = data.testLabels[job.result.datasetFingerprint] else { continue }
            runs[job.result.seed] = (correct, labels)
        }
        return runs
    }
}

/// One class's test images compared between two points over their shared seeds: the
/// recall of each per seed, and McNemar's exact test on the class's discordant images
/// summed over seeds.
struct ClassDifference: Sendable {
    let classIndex: Int
    /// Recall (the share of the class's images classified correctly) per shared seed.
    let pointRecall: [Double]
    let referenceRecall: [Double]
    let test: Statistics.McNemarTest
    /// The test's p, Holm-adjusted over the classes.
    var adjustedP: Double

    var differs: Bool { adjustedP < 0.05 }
    /// Mean recall of the point minus the reference's, as a fraction.
    var recallDifference: Double {
        (pointRecall.reduce(0, +) - referenceRecall.reduce(0, +)) / Double(pointRecall.count)
    }

    /// Every class present in `labels`, from per-seed correctness of the two points on those
    /// images (`point[s]` and `reference[s]` are seed s's runs).
    static func all(labels: [UInt8], point: [[Bool]], reference: [[Bool]]) -> [ClassDifference] {
        let classes = Int(labels.max() ?? 0) + 1
        var support = [Int](repeating: 0, count: classes)
        for label in labels { support[Int(label)] += 1 }
        var differences: [ClassDifference] = []
        for c in 0..<classes where support[c] > 0 {
            var pointRecall: [Double] = [], referenceRecall: [Double] = []
            var onlyPoint = 0, onlyReference = 0
            for (pointCorrect, referenceCorrect) in zip(point, reference) {
                var rightPoint = 0, rightReference = 0
                for (index, label) in labels.enumerated() where Int(label) == c {
                    let a = pointCorrect[index], b = referenceCorrect[index]
                    if a { rightPoint += 1 }
                    if b { rightReference += 1 }
                    if a && !b { onlyPoint += 1 }
                    if b && !a { onlyReference += 1 }
                }
                pointRecall.append(Double(rightPoint) / Double(support[c]))
                referenceRecall.append(Double(rightReference) / Double(support[c]))
            }
            let test = Statistics.McNemarTest(onlyFirst: onlyPoint, onlySecond: onlyReference)
            differences.append(ClassDifference(classIndex: c, pointRecall: pointRecall, referenceRecall: referenceRecall,
                                               test: test, adjustedP: test.p))
        }
        if let adjusted = try? Statistics.holmAdjusted(differences.map(\.test.p)) {
            for index in differences.indices { differences[index].adjustedP = adjusted[index] }
        }
        return differences
    }
}
