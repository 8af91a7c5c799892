package dev.shiftaddvit.cli;

import dev.shiftaddvit.train.Trainer;

/** Draws one progress bar per epoch from the trainer's callbacks and prints an epoch summary. */
final class TrainProgress implements Trainer.Listener, AutoCloseable {
    private final int epochs;
    private Progress bar;
    private double smoothLoss = Double.NaN;
    private double smoothAcc;
    private double smoothIps;

    TrainProgress(int epochs) {
        this.epochs = epochs;
    }

    @Override
    public void onEpochStart(int epoch, int steps, int firstStep) {
        bar = new Progress(String.format("epoch %d/%d", epoch + 1, epochs), steps, firstStep);
    }

    @Override
    public void onStep(Trainer.StepStats s) {
        double a = 0.05;
        smoothLoss = Double.isNaN(smoothLoss) ? s.loss() : (1 - a) * smoothLoss + a * s.loss();
        smoothAcc = smoothAcc == 0 ? s.accuracy() : (1 - a) * smoothAcc + a * s.accuracy();
        smoothIps = smoothIps == 0 ? s.imagesPerSecond() : (1 - a) * smoothIps + a * s.imagesPerSecond();
        bar.step(1, String.format("loss %.3f acc %.1f%% %.0f img/s lr %.2e", smoothLoss, smoothAcc, smoothIps, s.lr()));
    }

    @Override
    public void onEpochEnd(Trainer.EpochStats s) {
        bar.close();
        bar = null;
        System.err.printf("epoch %d/%d: train loss %.4f, train acc %.2f%%, test top-1 %s, %.0f s%n", s.epoch() + 1,
                epochs, s.trainLoss(), s.trainAccuracy(),
                s.eval() == null ? "n/a" : String.format("%.2f%% (loss %.4f)", s.eval().top1(), s.eval().loss()),
                s.seconds());
    }

    @Override
    public void close() {
        if (bar != null) bar.close();
    }
}
