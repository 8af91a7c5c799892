package dev.shiftaddvit;

/** One ranked class of a prediction. */
public record Prediction(int classIndex, String label, float probability) {
}
