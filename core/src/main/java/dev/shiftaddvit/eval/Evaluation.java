package dev.shiftaddvit.eval;

/** Accuracy and throughput of one pass over a data set. */
public record Evaluation(int images, int correct, double loss, double seconds) {
    public double top1() {
        return images == 0 ? 0 : 100.0 * correct / images;
    }

    public double imagesPerSecond() {
        return seconds <= 0 ? 0 : images / seconds;
    }
}
