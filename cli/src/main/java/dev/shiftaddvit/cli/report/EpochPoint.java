package dev.shiftaddvit.cli.report;

/**
 * One epoch of a stage's fine-tune curve.
 *
 * @param epoch     1-based epoch number
 * @param trainLoss mean training loss over the epoch
 * @param trainAcc  training accuracy in percent, like {@code testTop1}
 * @param testTop1  top-1 accuracy in percent on the evaluated test images after the epoch
 */
public record EpochPoint(int epoch, double trainLoss, double trainAcc, double testTop1) {
    public EpochPoint {
        if (epoch < 0) throw new IllegalArgumentException("epoch must not be negative, got " + epoch);
    }
}
