package dev.shiftaddvit.serve;

import java.time.Duration;

/**
 * How the server listens and batches.
 *
 * @param host          the address to bind (loopback unless told otherwise)
 * @param port          0 picks a free port
 * @param maxBatch      images per forward at most
 * @param maxDelay      how long the oldest waiting image waits for others
 * @param queueCapacity images that may wait; one more is answered 503
 * @param maxBodyBytes  the largest request body; a larger one is answered 413
 * @param shutdownGrace how long shutdown waits for requests in flight
 */
public record ServeConfig(String host, int port, int maxBatch, Duration maxDelay, int queueCapacity, long maxBodyBytes,
                          Duration shutdownGrace) {
    /**
     * Loopback port 8080; batches of up to 32 images, waiting up to 5 ms; 256 images queued; bodies up to
     * 16 MiB; 10 s of shutdown grace.
     */
    public static final ServeConfig DEFAULT = new ServeConfig("127.0.0.1", 8080, 32, Duration.ofMillis(5), 256,
            16L << 20, Duration.ofSeconds(10));

    /**
     * Checks the limits.
     *
     * @throws IllegalArgumentException when port is not in [0, 65535], maxBatch not in [1, 4096], maxDelay
     *                                  not in [0 ms, 10 s], or queueCapacity or maxBodyBytes below 1
     */
    public ServeConfig {
        java.util.Objects.requireNonNull(host, "host");
        java.util.Objects.requireNonNull(maxDelay, "maxDelay");
        java.util.Objects.requireNonNull(shutdownGrace, "shutdownGrace");
        if (shutdownGrace.isNegative()) throw new IllegalArgumentException("shutdown grace must be >= 0, got " + shutdownGrace);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBatch < 1 || maxBatch > 4096) throw new IllegalArgumentException("max batch must be in [1, 4096], got " + maxBatch);
        if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("max delay must be in [0 ms, 10 s], got " + maxDelay.toMillis() + " ms");
        }
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be at least 1, got " + maxBodyBytes);
    }

    /**
     * This config listening on another port.
     *
     * @param p the port, in [0, 65535]; 0 picks a free one
     * @return a copy with that port
     * @throws IllegalArgumentException when {@code p} is out of range
     */
    public ServeConfig withPort(int p) {
        return new ServeConfig(host, p, maxBatch, maxDelay, queueCapacity, maxBodyBytes, shutdownGrace);
    }
}
