package dev.shiftaddvit.serve;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.data.ImageTooLargeException;
import dev.shiftaddvit.io.InvalidInputException;
import dev.shiftaddvit.io.Json;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * HTTP serving of one classifier on Helidon SE (one virtual thread per request) through a
 * {@link DynamicBatcher}.
 *
 * <ul>
 *   <li>{@code POST /v1/predict[?top_k=K&invert=true]}, body a PNG/JPEG image, raw or as
 *       {@code multipart/form-data}: {@code {"model", "top_k": [{"label", "index", "probability"}], "latency_ms"}}.</li>
 *   <li>{@code GET /health}: {@code {"status": "ok", "model", "queued"}}.</li>
 *   <li>{@code GET /metrics}: Prometheus text format ({@link ServeMetrics}).</li>
 * </ul>
 * A body over the limit is answered 413, a non-image or a bad parameter 400, a full queue 503 with
 * {@code Retry-After}; every error body is {@code {"error": "..."}}. {@link #close} stops listening, lets the
 * requests in flight finish, then drains the batcher.
 */
public final class PredictionServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PredictionServer.class);
    private static final int MAX_TOP_K = 1000;

    private final ImageClassifier classifier;
    private final String modelName;
    private final ServeConfig cfg;
    private final DynamicBatcher batcher;
    private final ServeMetrics metrics;
    private final WebServer server;

    private PredictionServer(ImageClassifier classifier, String modelName, ServeConfig cfg) {
        this.classifier = classifier;
        this.modelName = modelName;
        this.cfg = cfg;
        this.batcher = new DynamicBatcher(classifier, cfg.maxBatch(), cfg.maxDelay().toNanos(), cfg.queueCapacity(),
                this::batchRan);
        this.metrics = new ServeMetrics(batcher::queued);
        this.server = WebServer.builder().host(cfg.host()).port(cfg.port()).maxPayloadSize(cfg.maxBodyBytes())
                .shutdownGracePeriod(cfg.shutdownGrace()).shutdownHook(false)
                .routing(this::routes).build();
    }

    /** The batcher's report of each forward; it runs only after a submit, when metrics exists. */
    private void batchRan(int size) {
        metrics.batch(size);
    }

    /**
     * Starts serving; {@code modelName} is what responses call the model.
     *
     * @param classifier the classifier to serve; its forwards run on the batcher's one worker thread
     * @param modelName  the name {@code /v1/predict} and {@code /health} answer with
     * @param cfg        where to listen and how to batch
     * @return the running server; {@link #close} stops it
     * @throws IllegalArgumentException when it cannot listen on the configured host and port
     */
    public static PredictionServer start(ImageClassifier classifier, String modelName, ServeConfig cfg) {
        PredictionServer s = new PredictionServer(classifier, modelName, cfg);
        try {
            s.server.start();
        } catch (RuntimeException e) {
            s.batcher.close();
            throw new IllegalArgumentException("cannot listen on " + cfg.host() + ":" + cfg.port() + ": "
                    + rootMessage(e), e);
        }
        return s;
    }

    /**
     * The port it listens on (the chosen one when the config said 0).
     *
     * @return the bound port
     */
    public int port() {
        return server.port();
    }

    private void routes(HttpRouting.Builder r) {
        r.post("/v1/predict", this::predict)
                .get("/health", (req, res) -> json(res, Status.OK_200, Map.of("status", "ok", "model", modelName,
                        "queued", batcher.queued())))
                .get("/metrics", (req, res) -> res.header(HeaderNames.CONTENT_TYPE, metrics.contentType())
                        .send(metrics.scrape()))
                .error(Exception.class, (req, res, e) -> {
                    LOG.error("request {} failed", req.path().path(), e);
                    error(res, Status.INTERNAL_SERVER_ERROR_500, "internal error: " + rootMessage(e));
                });
    }

    private void predict(ServerRequest req, ServerResponse res) {
        long t0 = System.nanoTime();
        Status status = answer(req, res, t0);
        metrics.request(status.code(), System.nanoTime() - t0);
    }

    private Status answer(ServerRequest req, ServerResponse res, long t0) {
        int topK;
        boolean invert;
        try {
            topK = topK(req.query().first("top_k").asOptional());
            invert = flag("invert", req.query().first("invert").asOptional());
        } catch (ImageBody.BadRequest e) {
            return error(res, Status.BAD_REQUEST_400, e.getMessage());
        }
        byte[] body;
        try {
            body = readBody(req);
        } catch (TooLarge e) {
            return error(res, Status.REQUEST_ENTITY_TOO_LARGE_413, "the request body is larger than "
                    + cfg.maxBodyBytes() + " bytes");
        } catch (IOException | RuntimeException e) {
            return error(res, Status.BAD_REQUEST_400, "cannot read the request body: " + rootMessage(e));
        }
        float[] pixels;
        try {
            Optional<HttpMediaType> type = req.headers().contentType();
            String media = type.map(t -> t.mediaType().text().toLowerCase(Locale.ROOT)).orElse(null);
            String boundary = type.flatMap(t -> Optional.ofNullable(t.parameters().get("boundary"))).orElse(null);
            byte[] image = ImageBody.extract(body, media, boundary);
            ImagePreprocessing d = ImagePreprocessing.DEFAULT;
            pixels = classifier.input(image, "request body", new ImagePreprocessing(d.cropPct(), d.interpolation(),
                    invert));
        } catch (ImageBody.BadRequest e) {
            return error(res, Status.BAD_REQUEST_400, e.getMessage());
        } catch (ImageTooLargeException e) {
            return error(res, Status.REQUEST_ENTITY_TOO_LARGE_413, e.getMessage());
        } catch (InvalidInputException e) {
            return error(res, Status.BAD_REQUEST_400, e.getMessage());
        }
        CompletableFuture<List<Prediction>> result = batcher.submit(pixels, topK);
        if (result == null) {
            res.header(HeaderNames.RETRY_AFTER, "1");
            return error(res, Status.SERVICE_UNAVAILABLE_503, "the server is busy (" + cfg.queueCapacity()
                    + " images queued); retry later");
        }
        List<Prediction> top;
        try {
            top = result.get();
        } catch (ExecutionException e) {
            LOG.error("forward failed", e.getCause());
            return error(res, Status.INTERNAL_SERVER_ERROR_500, "inference failed: " + rootMessage(e.getCause()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(res, Status.SERVICE_UNAVAILABLE_503, "the server is shutting down");
        }
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Prediction p : top) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("label", p.label());
            row.put("index", p.classIndex());
            row.put("probability", (double) p.probability());
            rows.add(row);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", modelName);
        out.put("top_k", rows);
        out.put("latency_ms", Math.round((System.nanoTime() - t0) / 1e4) / 100.0);
        return json(res, Status.OK_200, out);
    }

    private static final class TooLarge extends Exception {
    }

    /** The body, refused past the limit while it streams in (a chunked body has no length to check first). */
    private byte[] readBody(ServerRequest req) throws IOException, TooLarge {
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > cfg.maxBodyBytes()) throw new TooLarge();
        try (InputStream in = req.content().inputStream()) {
            byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, cfg.maxBodyBytes() + 1));
            if (b.length > cfg.maxBodyBytes()) throw new TooLarge();
            return b;
        }
    }

    private static int topK(Optional<String> v) throws ImageBody.BadRequest {
        if (v.isEmpty()) return 5;
        try {
            int k = Integer.parseInt(v.get().trim());
            if (k >= 1 && k <= MAX_TOP_K) return k;
        } catch (NumberFormatException ignored) {
            // answered below
        }
        throw new ImageBody.BadRequest("top_k must be an integer in [1, " + MAX_TOP_K + "], got '" + v.get() + "'");
    }

    private static boolean flag(String name, Optional<String> v) throws ImageBody.BadRequest {
        if (v.isEmpty()) return false;
        String s = v.get().trim().toLowerCase(Locale.ROOT);
        if (s.equals("true") || s.equals("1")) return true;
        if (s.equals("false") || s.equals("0")) return false;
        throw new ImageBody.BadRequest(name + " must be true or false, got '" + v.get() + "'");
    }

    private static Status json(ServerResponse res, Status status, Map<String, ?> body) {
        res.status(status).header(HeaderNames.CONTENT_TYPE, "application/json")
                .send(Json.write(body).getBytes(StandardCharsets.UTF_8));
        return status;
    }

    private static Status error(ServerResponse res, Status status, String message) {
        return json(res, status, Map.of("error", message));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t.getMessage() != null ? t.getMessage() : t.getClass().getSimpleName();
    }

    /** Stops listening, waits up to the grace period for requests in flight, then answers what is queued. */
    @Override
    public void close() {
        server.stop();
        batcher.close();
    }
}
