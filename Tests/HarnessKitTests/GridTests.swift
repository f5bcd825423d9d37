import Engine
import XCTest
@testable import HarnessKit

final class GridTests: XCTestCase {
    private func jobs(_ text: String) throws -> [JobConfig] {
        try ExperimentSpec.parse(text: text, filePath: "experiments/g.json").jobs()
    }

    func testThreeByThreeGridTimesThreeSeedsInOrder() throws {
        let jobs = try jobs("""
            {"name": "layers", "model": {"type": "lstm", "layers": 2, "hidden": 64}, "seeds": [1, 2, 3],
             "grid": {"model.layers": [1, 2, 3], "model.hidden": [32, 64, 128]}}
            """)
        XCTAssertEqual(jobs.count, 27)
        // The first grid key varies slowest, seeds fastest.
        var expected: [(Int, Int, Int)] = []
        for layers in [1, 2, 3] {
            for hidden in [32, 64, 128] {
                for seed in [1, 2, 3] { expected.append((layers, hidden, seed)) }
            }
        }
        for (job, (layers, hidden, seed)) in zip(jobs, expected) {
            XCTAssertEqual(job.model.layers, layers)
            XCTAssertEqual(job.model.hidden, hidden)
            XCTAssertEqual(job.seed, seed)
            XCTAssertEqual(job.gridPoint.map(\.path), ["model.layers", "model.hidden"])
            XCTAssertEqual(job.gridPoint.map(\.value), [.int(layers), .int(hidden)])
        }
        XCTAssertEqual(Set(jobs.map { $0.canonicalJSON() }).count, 27)
    }

    func testEmptyGridGivesOneJobPerSeed() throws {
        let jobs = try jobs(#"{"name": "one", "model": {"type": "cnn"}, "seeds": [5, 3]}"#)
        XCTAssertEqual(jobs, [
            JobConfig(model: ModelSettings(type: .cnn), seed: 5),
            JobConfig(model: ModelSettings(type: .cnn), seed: 3),
        ])
    }

    func testGridOverTrainingSizeAndBatchSize() throws {
        let jobs = try jobs("""
            {"name": "reduce", "model": {"type": "lstm"}, "dataset": {"stratified": true},
             "grid": {"dataset.train_size": [60000, 40000, 20000], "training.batch_size": [50, 100]}}
            """)
        XCTAssertEqual(jobs.map(\.dataset.trainSize), [60000, 60000, 40000, 40000, 20000, 20000])
        XCTAssertEqual(jobs.map(\.training.batchSize), [50, 100, 50, 100, 50, 100])
        XCTAssertTrue(jobs.allSatisfy(\.dataset.stratified))
    }

    func testCanonicalJSONIsAFixedString() throws {
        let lstm = try jobs("""
            {"name": "k", "dataset": {"train_size": 20000, "path": "data/x"},
             "model": {"type": "lstm", "layers": 2, "hidden": 64},
             "training": {"learning_rate": 0.001, "threads": 8}, "seeds": [7]}
            """)
        XCTAssertEqual(lstm[0].canonicalJSON(),
                       #"{"dataset":{"sequence":"rows","stratified":false,"train_size":20000},"#
                       + #""model":{"activation":"tanh","dense":[],"hidden":64,"layers":2,"type":"lstm"},"#
                       + #""seed":7,"training":{"batch_size":100,"epochs":10,"learning_rate":0.001,"optimizer":"adam"}}"#)

        let cnn = try jobs("""
            {"name": "c", "model": {"type": "cnn"}, "training": {"optimizer": "sgd", "learning_rate": 0.01},
             "pruning": {"sparsity": 0.5}}
            """)
        XCTAssertEqual(cnn[0].canonicalJSON(),
                       #"{"dataset":{},"model":{"conv":[32],"dense":[128,32],"dropout":0.2,"kernel":3,"pool":2,"type":"cnn"},"#
                       + #""pruning":{"retrain_epochs":10,"sparsity":0.5},"seed":1,"#
                       + #""training":{"batch_size":100,"epochs":10,"learning_rate":0.01,"momentum":0.9,"optimizer":"sgd"}}"#)
    }

    func testInitIsInTheCanonicalJSONOnlyWhenItIsNotTheDefault() throws {
        // Leaving out the default keeps the ids of jobs that ran before `init` existed.
        let plain = try jobs(#"{"name": "a", "model": {"type": "lstm"}}"#)[0]
        let pytorch = try jobs(#"{"name": "a", "model": {"type": "lstm", "init": "pytorch"}}"#)[0]
        let keras = try jobs(#"{"name": "a", "model": {"type": "lstm", "init": "keras"}}"#)[0]
        XCTAssertEqual(pytorch.canonicalJSON(), plain.canonicalJSON())
        XCTAssertFalse(plain.canonicalJSON().contains("init"))
        XCTAssertTrue(keras.canonicalJSON().contains(#""init":"keras""#))
        XCTAssertEqual(keras.model.initialization, .keras)
        let cnn = try jobs(#"{"name": "c", "model": {"type": "cnn"}, "grid": {"model.init": ["pytorch", "keras"]}}"#)
        XCTAssertEqual(cnn.map(\.model.initialization), [.pytorch, .keras])
        XCTAssertNotEqual(cnn[0].canonicalJSON(), cnn[1].canonicalJSON())
    }

    func testCanonicalJSONIgnoresKeyOrderSpellingAndExplicitDefaults() throws {
        let minimal = try jobs(#"{"name": "a", "model": {"type": "rnn", "dense": [16], "dropout": 0.25}, "training": {"learning_rate": 1}}"#)
        let shuffled = try jobs("""
            {"training": {"optimizer": "adam", "learning_rate": 1.0, "epochs": 10, "batch_size": 100, "threads": 2},
             "seeds": [1],
             "model": {"dropout": 0.25, "dense": [16], "activation": "tanh", "hidden": 64, "layers": 1, "type": "rnn"},
             "dataset": {"sequence": "rows", "stratified": false, "path": "elsewhere"},
             "name": "b", "description": "same job, written differently", "grid": {}}
            """)
        XCTAssertEqual(minimal[0].canonicalJSON(), shuffled[0].canonicalJSON())
        XCTAssertEqual(minimal[0].baseConfigJSON(), shuffled[0].baseConfigJSON())

        // The text is itself canonical JSON.
        let text = minimal[0].canonicalJSON()
        XCTAssertEqual(try JSONValue.parse(text).canonicalText(), text)
        XCTAssertEqual(minimal[0].canonicalJSON(), text)
    }

    func testCanonicalJSONOmitsWhatDoesNotApply() throws {
        let cnn = try jobs(#"{"name": "c", "model": {"type": "cnn", "dense": []}, "dataset": {"path": "p"}}"#)[0]
        let text = cnn.canonicalJSON()
        for absent in ["layers", "hidden", "activation", "sequence", "momentum", "dropout", "path", "threads", "stratified", "pruning"] {
            XCTAssertFalse(text.contains("\"\(absent)\""), "\(absent) in \(text)")
        }
        let sgd = try jobs(#"{"name": "s", "model": {"type": "lstm"}, "training": {"optimizer": "sgd", "momentum": 0.5}}"#)[0]
        XCTAssertTrue(sgd.canonicalJSON().contains(#""momentum":0.5"#))
        XCTAssertFalse(sgd.canonicalJSON().contains("conv"))
    }

    func testBaseConfigIsSharedAcrossThresholdsAndDiffersAcrossSeeds() throws {
        let jobs = try jobs("""
            {"name": "prune", "model": {"type": "lstm", "layers": 2}, "seeds": [1, 2],
             "pruning": {"retrain_epochs": 10},
             "grid": {"pruning.threshold": [0.05, 0.1, 0.2, 0.3, 0.4, 0.5]}}
            """)
        XCTAssertEqual(jobs.count, 12)
        XCTAssertEqual(jobs.compactMap(\.pruning?.threshold), [0.05, 0.05, 0.1, 0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.4, 0.5, 0.5])
        XCTAssertEqual(Set(jobs.map { $0.canonicalJSON() }).count, 12)
        let bySeed = Dictionary(grouping: jobs, by: \.seed).mapValues { Set($0.map { $0.baseConfigJSON() }) }
        XCTAssertEqual(bySeed[1]?.count, 1)
        XCTAssertEqual(bySeed[2]?.count, 1)
        XCTAssertNotEqual(bySeed[1], bySeed[2])

        // The base is exactly the job that trains the same model without pruning.
        let unpruned = try self.jobs(#"{"name": "plain", "model": {"type": "lstm", "layers": 2}, "seeds": [1]}"#)[0]
        XCTAssertEqual(jobs[0].baseConfigJSON(), unpruned.canonicalJSON())
        XCTAssertNotEqual(jobs[0].canonicalJSON(), unpruned.canonicalJSON())
    }

    func testChangingTheModelTypeDropsBaseFieldsThatNoLongerApply() throws {
        let jobs = try jobs("""
            {"name": "lstm-vs-cnn", "model": {"type": "lstm", "layers": 2, "hidden": 128, "dense": [32]},
             "training": {"optimizer": "sgd", "momentum": 0.5},
             "grid": {"model.type": ["lstm", "cnn"], "training.optimizer": ["sgd", "adam"]}}
            """)
        XCTAssertEqual(jobs.count, 4)
        XCTAssertEqual(jobs[0].model.layers, 2)
        XCTAssertEqual(jobs[0].model.dense, [32])
        XCTAssertEqual(jobs[0].training.momentum, 0.5)
        XCTAssertEqual(jobs[1].training.momentum, 0.9)  // adam: the base momentum is dropped
        var cnn = ModelSettings(type: .cnn)
        cnn.dense = [32]  // dense applies to both kinds
        XCTAssertEqual(jobs[2].model, cnn)
        XCTAssertEqual(jobs[3].model, cnn)
    }

    func testRefusesAHugeGrid() throws {
        let sizes = (1...1001).map(String.init).joined(separator: ", ")
        let widths = (1...1001).map(String.init).joined(separator: ", ")
        XCTAssertThrowsError(try jobs("""
            {"name": "huge", "model": {"type": "lstm"}, "grid": {"dataset.train_size": [\(sizes)], "model.hidden": [\(widths)]}}
            """)) { error in
            XCTAssertEqual("\(error)", "experiments/g.json: $.grid: the grid expands to more than 1000000 jobs; split the experiment")
        }
    }

    func testPlanListsJobsWithGridColumns() throws {
        let spec = try ExperimentSpec.parse(text: """
            {"name": "tp", "description": "Table 2", "dataset": {"train_size": 60000}, "model": {"type": "lstm", "layers": 2},
             "seeds": [1, 2], "grid": {"dataset.train_size": [60000, 20000], "model.activation": ["tanh", "relu"]}}
            """, filePath: "experiments/tp.json")
        let expected = """
            Experiment tp: Table 2
            Spec file: experiments/tp.json
            Base settings:
              dataset   train_size=(grid) stratified=false sequence=rows
              model     type=lstm layers=2 hidden=64 activation=(grid) dense=[]
              training  epochs=10 batch_size=100 optimizer=adam learning_rate=0.001
            Grid: dataset.train_size (2 values) x model.activation (2 values)
            Seeds: 1, 2

            #  dataset.train_size  model.activation  seed
            1               60000  tanh                 1
            2               60000  tanh                 2
            3               60000  relu                 1
            4               60000  relu                 2
            5               20000  tanh                 1
            6               20000  tanh                 2
            7               20000  relu                 1
            8               20000  relu                 2

            8 jobs (4 grid points x 2 seeds)

            """
        XCTAssertEqual(Plan.render(spec, jobs: try spec.jobs()), expected)
    }

    func testPlanForASingleJob() throws {
        let spec = try ExperimentSpec.parse(text: """
            {"name": "cnn", "model": {"type": "cnn"}, "dataset": {"path": "data/fm"},
             "training": {"threads": 2}, "pruning": {"threshold": 0.05}}
            """, filePath: "cnn.json")
        let expected = """
            Experiment cnn
            Spec file: cnn.json
            Base settings:
              dataset   path=data/fm train_size=all
              model     type=cnn conv=[32] kernel=3 pool=2 dense=[128,32] dropout=0.2
              training  epochs=10 batch_size=100 optimizer=adam learning_rate=0.001 threads=2
              pruning   threshold=0.05 retrain_epochs=10
            Grid: none
            Seeds: 1

            #  seed
            1     1

            1 job (1 grid point x 1 seed)

            """
        XCTAssertEqual(Plan.render(spec, jobs: try spec.jobs()), expected)
    }
}

/// Grid dimensions over whole variants of a section: settings that belong together vary together.
final class VariantGridTests: XCTestCase {
    let spec = #"""
    {"name": "v", "model": {"type": "rnn", "hidden": 16},
     "grid": {"model": [{"type": "rnn", "activation": "relu"}, {"type": "lstm", "activation": "tanh", "dense": [8]}],
              "model.layers": [1, 2]}}
    """#

    func testVariantsAreAppliedTogetherAndCrossedWithOtherDimensions() throws {
        let jobs = try ExperimentSpec.parse(text: spec, filePath: "v.json").jobs()
        XCTAssertEqual(jobs.count, 4)
        XCTAssertEqual(jobs.map(\.model.type), [.rnn, .rnn, .lstm, .lstm])
        XCTAssertEqual(jobs.map(\.model.activation), [.relu, .relu, .tanh, .tanh])
        XCTAssertEqual(jobs.map(\.model.dense), [[], [], [8], [8]])
        XCTAssertEqual(jobs.map(\.model.layers), [1, 2, 1, 2])
        XCTAssertEqual(jobs.map(\.model.hidden), [16, 16, 16, 16], "base settings still apply")
        XCTAssertEqual(jobs[2].gridPoint.map(\.path), ["model", "model.layers"])
    }

    func testBadVariantsNameTheirPath() {
        let cases: [(String, String)] = [
            (#""model": [{"type": "rnn", "hiden": 4}]"#, #"$.grid.model[0].hiden: unknown key; did you mean "hidden"?"#),
            (#""model": [{"type": "rnn"}, {"type": "rnn"}]"#, "$.grid.model[1]: repeats $.grid.model[0]"),
            (#""model": []"#, "$.grid.model: empty list"),
            (#""model": [3]"#, "$.grid.model[0]: expected an object of model settings"),
            (#""model": [{"layers": 0}]"#, "$.grid.model[0].layers: 0 is out of range"),
        ]
        for (grid, expected) in cases {
            let text = #"{"name": "v", "model": {"type": "rnn"}, "grid": {"# + grid + "}}"
            XCTAssertThrowsError(try ExperimentSpec.parse(text: text, filePath: "v.json"), grid) { error in
                XCTAssert("\(error)".contains(expected), "\(grid): \(error)")
            }
        }
    }

    func testVariantLabelsNameVariantsWithoutChangingTheirJobs() throws {
        let labelled = #"""
        {"name": "v", "model": {"type": "rnn", "hidden": 16},
         "grid": {"model": [{"type": "rnn", "activation": "relu", "label": "ReLU RNN"}, {"type": "lstm", "activation": "tanh", "dense": [8]}],
                  "model.layers": [1, 2]}}
        """#
        let jobs = try ExperimentSpec.parse(text: labelled, filePath: "v.json").jobs()
        let plain = try ExperimentSpec.parse(text: spec, filePath: "v.json").jobs()
        XCTAssertEqual(jobs.map { $0.canonicalJSON() }, plain.map { $0.canonicalJSON() }, "a label is not a setting")
        XCTAssertFalse(jobs[0].canonicalJSON().contains("label"))
        XCTAssertEqual(jobs[0].label, "model = ReLU RNN, model.layers = 1, seed 1")
        XCTAssertEqual(jobs[2].label, #"model = {"activation":"tanh","dense":[8],"type":"lstm"}, model.layers = 1, seed 1"#)
        XCTAssertEqual(GridLabel.value(jobs[0].gridPoint[0].value), "ReLU RNN")
        // The report finds a labelled variant's jobs by their settings.
        XCTAssert(PointAssignment.same(.object([("type", .string("rnn")), ("label", .string("x"))]),
                                       .object([("type", .string("rnn"))])))
        XCTAssertFalse(PointAssignment.same(.object([("type", .string("rnn"))]), .object([("type", .string("lstm"))])))
    }

    func testBadVariantLabelsAreRefused() {
        let cases: [(String, String)] = [
            (#""model": [{"type": "rnn", "label": 3}]"#, "$.grid.model[0].label: expected a non-empty string"),
            (#""model": [{"type": "rnn", "label": ""}]"#, "$.grid.model[0].label: expected a non-empty string"),
            (#""model": [{"label": "only a label"}]"#, "$.grid.model[0]: a variant needs at least one model setting besides its label"),
            (#""model": [{"type": "rnn", "label": "a"}, {"type": "rnn", "label": "b"}]"#, "describe the same job"),
        ]
        for (grid, expected) in cases {
            let text = #"{"name": "v", "model": {"type": "rnn"}, "grid": {"# + grid + "}}"
            XCTAssertThrowsError(try ExperimentSpec.parse(text: text, filePath: "v.json"), grid) { error in
                XCTAssert("\(error)".contains(expected), "\(grid): \(error)")
            }
        }
    }

    /// The canonical JSON is written from the field table: every row that enters a job's
    /// identity appears in it exactly when the row says it applies.
    func testCanonicalJSONIsWrittenFromTheFieldTable() throws {
        for type in ModelConfig.Kind.allCases {
            // Unit pruning by a norm threshold: the method away from its default.
            var settings = JobSettings(model: ModelSettings(type: type), pruning: PruningSettings(method: .units, threshold: 0.1))
            settings.dataset.trainSize = 100
            settings.model.initialization = .keras
            settings.training.weightDecay = 0.001
            let canonical = try JSONValue.parse(JobConfig(dataset: settings.dataset, model: settings.model,
                                                          training: settings.training, pruning: settings.pruning,
                                                          seed: 3).canonicalJSON())
            for field in SettingField.all {
                let present = canonical[field.section.rawValue]?[field.key] != nil
                let expected = field.identity != .none && field.applicability.reason(field.path, settings) == nil
                    && field.value(settings) != nil
                    && (field.identity != .unlessDefault || field.value(settings) != field.defaultValue(settings))
                XCTAssertEqual(present, expected, "\(type): \(field.path)")
                if field.identity == .unlessDefault { XCTAssert(present, "\(type): \(field.path) away from its default") }
            }
        }
    }

    func testWeightDecayEntersTheIdentityOnlyAwayFromTheOptimizersDefault() throws {
        func job(_ training: String) throws -> JobConfig {
            try ExperimentSpec.parse(text: #"{"name": "w", "model": {"type": "lstm"}, "training": {"# + training + "}}",
                                     filePath: "w.json").jobs()[0]
        }
        let plain = try job(#""optimizer": "adam""#)
        XCTAssertEqual(try job(#""optimizer": "adam", "weight_decay": 0"#).canonicalJSON(), plain.canonicalJSON(),
                       "adam's default decay is 0, so earlier adam jobs keep their ids")
        let decayed = try job(#""optimizer": "adam", "weight_decay": 0.0001"#)
        XCTAssert(decayed.canonicalJSON().contains(#""weight_decay":0.0001"#), decayed.canonicalJSON())
        XCTAssertEqual(decayed.training.engineOptimizer, .adam(learningRate: 0.001, weightDecay: 0.0001))

        // AdamW decays by 0.01 unless told otherwise, as torch.optim.AdamW does.
        let adamw = try job(#""optimizer": "adamw""#)
        XCTAssertEqual(adamw.training.engineOptimizer, .adamW(learningRate: 0.001, weightDecay: 0.01))
        XCTAssertEqual(try job(#""optimizer": "adamw", "weight_decay": 0.01"#).canonicalJSON(), adamw.canonicalJSON())
        XCTAssertNotEqual(try job(#""optimizer": "adamw", "weight_decay": 0"#).canonicalJSON(), adamw.canonicalJSON())
        XCTAssertNotEqual(adamw.canonicalJSON(), plain.canonicalJSON())

        let sgd = try job(#""optimizer": "sgd", "momentum": 0.5, "weight_decay": 0.001"#)
        XCTAssertEqual(sgd.training.engineOptimizer, .sgd(learningRate: 0.001, momentum: 0.5, weightDecay: 0.001))
        XCTAssertThrowsError(try job(#""weight_decay": -1"#)) {
            XCTAssert("\($0)".contains("$.training.weight_decay: -1 is out of range; expected weight_decay >= 0"), "\($0)")
        }
        XCTAssertThrowsError(try job(#""optimizer": "adamw", "momentum": 0.9"#)) {
            XCTAssert("\($0)".contains("training.momentum applies to the sgd optimizer, not adamw"), "\($0)")
        }
    }
}
