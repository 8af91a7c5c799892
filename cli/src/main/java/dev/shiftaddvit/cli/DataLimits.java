package dev.shiftaddvit.cli;

import picocli.CommandLine.Option;

/** --limit / --eval-limit: cut the data sets to their first images (smoke runs); shared by the training commands. */
final class DataLimits {
    @Option(names = "--limit", description = "Train on the first N training images only (smoke tests).") Integer limit;
    @Option(names = "--eval-limit", description = "Evaluate on the first N test images only.") Integer evalLimit;

    TrainRun.Data load(CommonOptions common) {
        return TrainRun.Data.load(common.data, limit, evalLimit);
    }
}
