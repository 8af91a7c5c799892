package dev.shiftaddvit;

/**
 * One ranked class of a prediction: its softmax probability and the logit it came from.
 *
 * @param classIndex  the class's index in the model's output, in [0, numClasses)
 * @param label       the class's name ({@link ImageClassifier#label(int)})
 * @param probability the softmax probability over all the model's classes, in [0, 1]
 * @param logit       the model's raw output for the class, before the softmax
 */
public record Prediction(int classIndex, String label, float probability, float logit) {
}
