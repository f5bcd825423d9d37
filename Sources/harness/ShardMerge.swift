import HarnessKit

/// `status` and `report` (anything that reads results) merge finished Slurm shards first,
/// so they show what the cluster has done. Problems are reported, not fatal: the database
/// itself is still readable.
func mergeSlurmShards(into store: Store, command: String) {
    reportMerge(SlurmShards.mergeAll(into: store), command: command)
}

/// On standard error, so that the command's own output stays as it was; silent when
/// there was nothing to merge and nothing to wait for.
func reportMerge(_ report: SlurmShards.MergeReport, command: String) {
    for error in report.errors { standardError("harness \(command): \(error)") }
    if report.mergedRuns == 0 && report.errors.isEmpty && report.waitingTasks.isEmpty { return }
    standardError("harness \(command): \(report.summary())")
}
