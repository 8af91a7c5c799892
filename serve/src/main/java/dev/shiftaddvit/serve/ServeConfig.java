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
    public static final ServeConfig DEFAULT = new ServeConfig("127.0.0.1", 8080, 32, Duration.ofMillis(5), 256,
            16L << 20, Duration.ofSeconds(10));

    public ServeConfig {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be in [0, 65535], got " + port);
        if (maxBatch < 1 || maxBatch > 4096) throw new IllegalArgumentException("max batch must be in [1, 4096], got " + maxBatch);
        if (maxDelay.isNegative() || maxDelay.compareTo(Duration.ofSeconds(10)) > 0) {
            throw new IllegalArgumentException("max delay must be in [0 ms, 10 s], got " + maxDelay.toMillis() + " ms");
        }
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
        if (maxBodyBytes < 1) throw new IllegalArgumentException("max body bytes must be at least 1, got " + maxBodyBytes);
    }

    public ServeConfig withPort(int p) {
        return new ServeConfig(host, p, maxBatch, maxDelay, queueCapacity, maxBodyBytes, shutdownGrace);
    }
}
