package dev.shiftaddvit.serve;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.IntSupplier;

/** The server's Prometheus metrics: requests by status, request latency, batch sizes and queue depth. */
final class ServeMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests;
    private final Histogram latency;
    private final Histogram batchSize;
    private final PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();

    ServeMetrics(IntSupplier queueDepth) {
        requests = Counter.builder().name("shiftaddvit_requests_total").help("Prediction requests by HTTP status")
                .labelNames("status").register(registry);
        latency = Histogram.builder().name("shiftaddvit_request_latency_seconds")
                .help("Time from a prediction request's arrival to its answer").classicOnly()
                .classicUpperBounds(0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5).register(registry);
        batchSize = Histogram.builder().name("shiftaddvit_batch_size").help("Images per forward").classicOnly()
                .classicUpperBounds(1, 2, 4, 8, 16, 32, 64, 128, 256, 512).register(registry);
        GaugeWithCallback.builder().name("shiftaddvit_queue_depth").help("Images waiting for a batch")
                .callback(cb -> cb.call(queueDepth.getAsInt())).register(registry);
    }

    void request(int status, long nanos) {
        requests.labelValues(Integer.toString(status)).inc();
        latency.observe(nanos / 1e9);
    }

    void batch(int size) {
        batchSize.observe(size);
    }

    String contentType() {
        return writer.getContentType();
    }

    byte[] scrape() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            writer.write(out, registry.scrape());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }
}
