package dev.shiftaddvit;

/** One ranked class of a prediction: its softmax probability and the logit it came from. */
public record Prediction(int classIndex, String label, float probability, float logit) {
}
