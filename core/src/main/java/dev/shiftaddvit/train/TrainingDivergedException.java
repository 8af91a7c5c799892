package dev.shiftaddvit.train;

/** The loss or the gradients became NaN or infinite; the last good checkpoint is left in place. */
public final class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
