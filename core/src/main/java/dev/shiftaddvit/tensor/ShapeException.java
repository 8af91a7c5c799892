package dev.shiftaddvit.tensor;

/** A tensor had a shape other than the one an operation or a file requires. */
public final class ShapeException extends IllegalArgumentException {
    public ShapeException(String message) {
        super(message);
    }
}
