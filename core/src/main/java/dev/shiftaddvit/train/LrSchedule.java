package dev.shiftaddvit.train;

/** Linear warm-up from 0 to the peak, then cosine decay to minLr, over optimizer steps. */
public record LrSchedule(float peak, float minLr, long warmupSteps, long totalSteps) {
    public LrSchedule {
        if (peak <= 0 || minLr < 0 || warmupSteps < 0 || totalSteps <= 0) {
            throw new IllegalArgumentException("bad schedule: peak " + peak + ", min " + minLr + ", warm-up "
                    + warmupSteps + ", total " + totalSteps);
        }
    }

    public float at(long step) {
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        double t = Math.min(1.0, (double) (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
        return (float) (minLr + 0.5 * (peak - minLr) * (1 + Math.cos(Math.PI * t)));
    }
}
