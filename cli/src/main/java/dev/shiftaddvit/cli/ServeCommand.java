package dev.shiftaddvit.cli;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.serve.PredictionServer;
import dev.shiftaddvit.serve.ServeConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve a model over HTTP with dynamic batching: POST /v1/predict (a PNG/JPEG body, raw or "
                + "multipart/form-data; ?top_k=K, ?invert=true), GET /health, GET /metrics (Prometheus).",
                "Concurrent requests are collected up to --max-batch images or --max-delay-ms and run as one forward. "
                        + "A full queue is answered 503 with Retry-After; Ctrl-C (SIGINT/SIGTERM) stops listening, "
                        + "finishes the requests in flight and exits."})
final class ServeCommand implements Callable<Integer> {
    /** Helidon logs through java.util.logging; its start-up lines would bury the one line this command prints. */
    private static final java.util.logging.Logger HELIDON = java.util.logging.Logger.getLogger("io.helidon");

    @Mixin
    CommonOptions common;

    @Option(names = "--model", description = "Model file: dense, converted or deploy (default: the embedded "
            + "models/fmnist-shiftadd.safetensors).")
    Path model;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "Address to bind (default: ${DEFAULT-VALUE}; "
            + "0.0.0.0 for every interface).")
    String host;

    @Option(names = "--port", defaultValue = "8080", description = "Port (default: ${DEFAULT-VALUE}; 0: any free one).")
    int port;

    @Option(names = "--max-batch", defaultValue = "32", description = "Images per forward at most (default: "
            + "${DEFAULT-VALUE}; 1 turns batching off).")
    int maxBatch;

    @Option(names = "--max-delay-ms", defaultValue = "5", description = "How long the oldest waiting image waits for "
            + "others (default: ${DEFAULT-VALUE}).")
    double maxDelayMs;

    @Option(names = "--queue", defaultValue = "256", description = "Images that may wait for a batch before "
            + "requests get 503 (default: ${DEFAULT-VALUE}).")
    int queue;

    @Option(names = "--max-body-bytes", defaultValue = "16777216", description = "Largest request body; larger "
            + "ones get 413 (default: ${DEFAULT-VALUE}).")
    long maxBody;

    @Override
    public Integer call() throws InterruptedException {
        common.apply();
        HELIDON.setLevel(java.util.logging.Level.WARNING);
        if (!(maxDelayMs >= 0 && maxDelayMs <= 10_000)) {
            throw new IllegalArgumentException("--max-delay-ms must be in [0, 10000], got " + maxDelayMs);
        }
        if (maxBatch < 1 || maxBatch > 4096) throw new IllegalArgumentException("--max-batch must be in [1, 4096], got " + maxBatch);
        if (queue < 1) throw new IllegalArgumentException("--queue must be at least 1, got " + queue);
        if (maxBody < 1) throw new IllegalArgumentException("--max-body-bytes must be at least 1, got " + maxBody);
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535], got " + port);
        Path file = model != null ? model : DefaultModels.shiftAdd();
        ImageClassifier classifier = ImageClassifier.load(file);
        ServeConfig cfg = new ServeConfig(host, port, maxBatch, Duration.ofNanos(Math.round(maxDelayMs * 1e6)), queue,
                maxBody, ServeConfig.DEFAULT.shutdownGrace());
        PredictionServer server = PredictionServer.start(classifier, file.getFileName().toString(), cfg);
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("shutting down: finishing the requests in flight");
            server.close();
            stopped.countDown();
        }, "shiftaddvit-serve-shutdown"));
        System.err.printf("serving %s (%s) on http://%s:%d: max batch %d, max delay %s ms, queue %d%n", file,
                classifier.model().config().name(), host, server.port(), maxBatch, maxDelayMs, queue);
        stopped.await();
        return 0;
    }
}
