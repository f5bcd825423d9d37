/// The results database's schema as an ordered list of migrations. Migration i takes the
/// database from `PRAGMA user_version` i to i + 1; released migrations are never edited,
/// a change is a new entry at the end.
///
/// Conventions: timestamps are UTC ISO-8601 text with microseconds
/// ("2024-05-01T12:00:00.123456Z"), so they sort and compare as strings and read well in
/// the sqlite3 shell. A REAL metric is NULL where it was undefined (NaN, e.g. the F1 of a
/// class never predicted nor present); SQLite stores a bound NaN as NULL.
enum StoreSchema {
    static let migrations: [String] = [version1, version2, version3, version4, version5, version6, version7]

    /// Tables every version has had since version 1: a file with a `user_version` but
    /// without these is some other program's database.
    static let coreTables = ["datasets", "experiments", "jobs", "experiment_jobs", "runs"]

    private static let version1 = """
        CREATE TABLE datasets (
            fingerprint      TEXT PRIMARY KEY NOT NULL,
            -- Where the data came from: directory, files, record counts.
            description_json TEXT NOT NULL CHECK (json_valid(description_json)),
            created_at       TEXT NOT NULL
        );

        CREATE TABLE experiments (
            name        TEXT PRIMARY KEY NOT NULL,
            description TEXT NOT NULL,
            spec_json   TEXT NOT NULL CHECK (json_valid(spec_json)),
            created_at  TEXT NOT NULL,
            updated_at  TEXT NOT NULL
        );

        -- A job is one fully resolved configuration on one data set; its id is a hash of
        -- both, computed by the caller, so the same job is shared by every experiment
        -- that contains it and is never trained twice.
        CREATE TABLE jobs (
            id                  TEXT PRIMARY KEY NOT NULL,
            config_json         TEXT NOT NULL CHECK (json_valid(config_json)),
            seed                INTEGER NOT NULL,
            dataset_fingerprint TEXT NOT NULL REFERENCES datasets(fingerprint),
            created_at          TEXT NOT NULL
        );

        CREATE TABLE experiment_jobs (
            experiment TEXT NOT NULL REFERENCES experiments(name) ON DELETE CASCADE,
            job_id     TEXT NOT NULL REFERENCES jobs(id),
            position   INTEGER NOT NULL,
            PRIMARY KEY (experiment, job_id)
        ) WITHOUT ROWID;
        CREATE INDEX experiment_jobs_by_job ON experiment_jobs(job_id);

        -- One row per attempt. A run is 'running' exactly while it has no finished_at.
        -- host, pid and process_token identify the owner, so a run whose process died can
        -- be told from one that is still training.
        CREATE TABLE runs (
            id             INTEGER PRIMARY KEY,
            job_id         TEXT NOT NULL REFERENCES jobs(id),
            status         TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed', 'interrupted')),
            host           TEXT NOT NULL,
            pid            INTEGER NOT NULL,
            process_token  TEXT NOT NULL,
            heartbeat_at   TEXT NOT NULL,
            started_at     TEXT NOT NULL,
            finished_at    TEXT,
            engine_version TEXT,
            error          TEXT,
            CHECK ((status = 'running') = (finished_at IS NULL))
        );
        -- Serves "latest done run of a job", "is a job running" and max(id) per job
        -- (the rowid is the implicit last column of every index).
        CREATE INDEX runs_by_job_status ON runs(job_id, status);
        CREATE INDEX runs_running ON runs(status) WHERE status = 'running';

        CREATE TABLE epochs (
            run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            phase   TEXT NOT NULL DEFAULT 'train' CHECK (phase IN ('train', 'retrain')),
            epoch   INTEGER NOT NULL,
            loss    REAL,
            seconds REAL NOT NULL,
            PRIMARY KEY (run_id, phase, epoch)
        ) WITHOUT ROWID;

        -- Pruning columns are NULL for jobs without pruning.
        CREATE TABLE results (
            run_id                  INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            accuracy                REAL NOT NULL,
            macro_f1                REAL,
            train_seconds           REAL,
            mean_epoch_seconds      REAL,
            mean_step_seconds       REAL,
            inference_seconds       REAL,
            parameter_count         INTEGER NOT NULL,
            accuracy_before_pruning REAL,
            accuracy_pruned         REAL,
            sparsity                REAL,
            nonzero_parameters      INTEGER,
            update_seconds          REAL,
            update_seconds_pruned   REAL,
            layer_sparsity_json     TEXT CHECK (layer_sparsity_json IS NULL OR json_valid(layer_sparsity_json))
        );

        CREATE TABLE class_metrics (
            run_id      INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            class_index INTEGER NOT NULL,
            precision   REAL,
            recall      REAL,
            f1          REAL,
            support     INTEGER NOT NULL,
            PRIMARY KEY (run_id, class_index)
        ) WITHOUT ROWID;

        -- The full matrix, zeros included, so every run has classes^2 rows.
        CREATE TABLE confusion (
            run_id          INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            true_class      INTEGER NOT NULL,
            predicted_class INTEGER NOT NULL,
            count           INTEGER NOT NULL CHECK (count >= 0),
            PRIMARY KEY (run_id, true_class, predicted_class)
        ) WITHOUT ROWID;

        -- One row per (experiment, job). The run shown is the job's latest 'done' run if
        -- it has one, else its latest run of any status ("latest" = highest id, i.e. last
        -- claimed, which unlike a timestamp does not depend on the hosts' clocks);
        -- a job without runs is 'pending' with NULL metrics. `config` is JSON text:
        -- json_extract(config, '$.model.hidden') works on it.
        CREATE VIEW job_results AS
        SELECT ej.experiment,
               ej.position,
               ej.job_id,
               r.id                      AS run_id,
               COALESCE(r.status, 'pending') AS status,
               j.config_json             AS config,
               j.seed,
               j.dataset_fingerprint,
               (SELECT count(*) FROM runs a WHERE a.job_id = ej.job_id) AS attempts,
               res.accuracy,
               res.macro_f1,
               res.train_seconds,
               res.mean_epoch_seconds,
               res.mean_step_seconds,
               res.inference_seconds,
               res.parameter_count,
               res.accuracy_before_pruning,
               res.accuracy_pruned,
               res.sparsity,
               res.nonzero_parameters,
               res.update_seconds,
               res.update_seconds_pruned,
               res.layer_sparsity_json   AS layer_sparsity,
               r.host,
               r.pid,
               r.engine_version,
               r.started_at,
               r.finished_at,
               r.error
        FROM experiment_jobs ej
        JOIN jobs j ON j.id = ej.job_id
        LEFT JOIN runs r ON r.id = COALESCE(
            (SELECT max(d.id) FROM runs d WHERE d.job_id = ej.job_id AND d.status = 'done'),
            (SELECT max(l.id) FROM runs l WHERE l.job_id = ej.job_id))
        LEFT JOIN results res ON res.run_id = r.id;
        """

    /// The `job_results` view as this version of harness defines it: the view of version1
    /// with the result columns taken from `ResultColumn.all`. A view holds no data, so
    /// `Store` replaces the stored one whenever its text differs from this (after the
    /// migrations, which add the columns it reads).
    static var jobResultsView: String {
        let metrics = ResultColumn.names.map { "res.\($0)" }.joined(separator: ",\n       ")
        return """
            CREATE VIEW job_results AS
            SELECT ej.experiment,
                   ej.position,
                   ej.job_id,
                   r.id                      AS run_id,
                   COALESCE(r.status, 'pending') AS status,
                   j.config_json             AS config,
                   j.seed,
                   j.dataset_fingerprint,
                   (SELECT count(*) FROM runs a WHERE a.job_id = ej.job_id) AS attempts,
                   \(metrics),
                   res.layer_sparsity_json   AS layer_sparsity,
                   r.host,
                   r.pid,
                   r.engine_version,
                   r.started_at,
                   r.finished_at,
                   r.error
            FROM experiment_jobs ej
            JOIN jobs j ON j.id = ej.job_id
            LEFT JOIN runs r ON r.id = COALESCE(
                (SELECT max(d.id) FROM runs d WHERE d.job_id = ej.job_id AND d.status = 'done'),
                (SELECT max(l.id) FROM runs l WHERE l.job_id = ej.job_id))
            LEFT JOIN results res ON res.run_id = r.id
            """
    }

    /// Binned weight values of a run's layers before and after pruning, for the report's
    /// density plots (the paper's Fig. 5). `counts` is a JSON array of bin counts over
    /// [lower, upper] in equal bins (see Engine's `WeightHistogram`). A stage's rows are
    /// replaced as a whole, so rowid order is the order the layers were given in.
    private static let version2 = """
        CREATE TABLE weight_histograms (
            run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            stage  TEXT NOT NULL CHECK (stage IN ('before', 'after')),
            layer  TEXT NOT NULL,
            lower  REAL NOT NULL,
            upper  REAL NOT NULL CHECK (upper > lower),
            counts TEXT NOT NULL CHECK (json_valid(counts) AND json_type(counts) = 'array'),
            PRIMARY KEY (run_id, stage, layer)
        );
        """

    /// The spec file an experiment was registered from, absolute with symbolic links
    /// resolved, so that a second file with the same `name` is refused instead of replacing
    /// the first's job list (see `Store.registerExperiment`). NULL where it is not known:
    /// registered before version 3, or through the library without a path, or copied from a
    /// Slurm shard; the next registration with a path records it.
    private static let version3 = """
        ALTER TABLE experiments ADD COLUMN spec_path TEXT;
        """

    /// CPU seconds beside wall seconds: the CPU time of a job's threads does not grow when
    /// other jobs share the cores, so cost comparisons can use it. NULL for runs recorded
    /// before. And each done run's test-set predictions, one byte (the predicted class) per
    /// test image in the test set's order, so two configurations can be compared on the same
    /// images (McNemar's test).
    private static let version4 = """
        ALTER TABLE results ADD COLUMN train_cpu_seconds REAL;
        ALTER TABLE results ADD COLUMN mean_step_cpu_seconds REAL;
        ALTER TABLE epochs ADD COLUMN cpu_seconds REAL;
        CREATE TABLE predictions (
            run_id    INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            predicted BLOB NOT NULL
        );
        """

    /// The test set's labels, one byte per test image in the order predictions are stored,
    /// so a report can tell which images a run classified correctly (McNemar's test) without
    /// reading the data files. NULL for data sets registered before; the next `harness run`
    /// on the same data fills it in.
    private static let version5 = """
        ALTER TABLE datasets ADD COLUMN test_labels BLOB;
        """

    /// A pruning job's dense and pruned costs measured side by side (`PairedCosts`): a
    /// training step's wall time, an epoch's CPU time, inference time per image and FLOPs per
    /// image, each for the base model and the pruned one. NULL for runs recorded before.
    private static let version6 = """
        ALTER TABLE results ADD COLUMN train_step_seconds REAL;
        ALTER TABLE results ADD COLUMN train_step_seconds_pruned REAL;
        ALTER TABLE results ADD COLUMN epoch_cpu_seconds REAL;
        ALTER TABLE results ADD COLUMN epoch_cpu_seconds_pruned REAL;
        ALTER TABLE results ADD COLUMN inference_sample_seconds REAL;
        ALTER TABLE results ADD COLUMN inference_sample_seconds_pruned REAL;
        ALTER TABLE results ADD COLUMN flops_per_sample REAL;
        ALTER TABLE results ADD COLUMN flops_per_sample_pruned REAL;
        """

    /// Pattern scores: a score job's run (`PatternScoreJob`) leaves one float32 per training
    /// image (little-endian, in the data's order; higher = kept first) and what computing them
    /// cost, wall and CPU seconds. Jobs selecting by these scores read them by the score job's
    /// id (its latest done run). Each epoch's number of training patterns, for the active
    /// pattern set (NULL: all of the job's training set). And per result: the patterns
    /// presented over the training (all epochs), and for a job that selected by score the CPU
    /// seconds the scores took and the score run they came from, so a report can share that
    /// cost among the jobs that used them. NULL for runs recorded before.
    private static let version7 = """
        ALTER TABLE results ADD COLUMN pattern_epochs INTEGER;
        ALTER TABLE results ADD COLUMN scoring_cpu_seconds REAL;
        ALTER TABLE results ADD COLUMN scores_run_id INTEGER;
        CREATE TABLE pattern_scores (
            run_id      INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
            method      TEXT NOT NULL,
            scores      BLOB NOT NULL,
            seconds     REAL NOT NULL,
            cpu_seconds REAL NOT NULL
        );
        ALTER TABLE epochs ADD COLUMN patterns INTEGER;
        """
}
