package dev.shiftaddvit.serve;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.data.ImageInput;
import dev.shiftaddvit.io.Json;
import dev.shiftaddvit.model.Model;
import dev.shiftaddvit.model.PvtV2Config;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The server on a loopback port: answers as the Java API does, batches, refuses bad input, overflows, drains. */
class PredictionServerTest {
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private PredictionServer server;

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private static Model tiny() {
        return PvtV2Config.builder("tiny_pvt").imgSize(28).inChans(1).numClasses(10).embedDims(8, 16).heads(1, 2)
                .mlpRatios(2, 2).srRatios(2, 1).depths(1, 1).stemKernel(3).stemStride(2).qkvBias(true).mean(0.286f)
                .std(0.353f).build().build(7);
    }

    private static ImageClassifier classifier(Model m) {
        return new ImageClassifier(m, ImageClassifier.defaultLabels(m.config(), true));
    }

    private static ServeConfig config(int maxBatch, int delayMs, int queue, long maxBody) {
        return new ServeConfig("127.0.0.1", 0, maxBatch, Duration.ofMillis(delayMs), queue, maxBody,
                Duration.ofSeconds(10));
    }

    static byte[] png(int seed, int w, int h) throws IOException {
        SplittableRandom rnd = new SplittableRandom(seed);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, rnd.nextInt(256));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    private HttpResponse<String> post(String path, byte[] body, String contentType) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) b.header("Content-Type", contentType);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Asserts a 200 answer lists the Java API's top-k for the same image, in its order. */
    private static void assertSameAsJavaApi(ImageClassifier c, byte[] image, int k, HttpResponse<String> r) {
        assertEquals(200, r.statusCode(), r.body());
        Map<String, Object> body = Json.parseObject(r.body(), "response");
        List<Prediction> expected = c.predict(c.input(image, "test", ImagePreprocessing.DEFAULT), k);
        List<Object> got = Json.asList(body.get("top_k"), "top_k", "response");
        assertEquals(expected.size(), got.size());
        for (int i = 0; i < got.size(); i++) {
            Map<String, Object> row = Json.asObject(got.get(i), "row", "response");
            assertEquals(expected.get(i).classIndex(), ((Number) row.get("index")).intValue(), r.body());
            assertEquals(expected.get(i).label(), row.get("label"));
            assertEquals(expected.get(i).probability(), ((Number) row.get("probability")).doubleValue(), 1e-6);
        }
        assertTrue(((Number) body.get("latency_ms")).doubleValue() >= 0);
    }

    @Test
    void aSingleRequestGetsTheJavaApisTopK() throws Exception {
        ImageClassifier c = classifier(tiny());
        server = PredictionServer.start(c, "tiny.safetensors", config(8, 5, 64, 1 << 20));
        byte[] image = png(1, 28, 28);
        HttpResponse<String> r = post("/v1/predict?top_k=3", image, "image/png");
        assertSameAsJavaApi(c, image, 3, r);
        assertEquals("tiny.safetensors", Json.parseObject(r.body(), "response").get("model"));
        assertEquals(5, Json.asList(Json.parseObject(post("/v1/predict", image, null).body(), "r").get("top_k"),
                "top_k", "r").size(), "top_k defaults to 5");
    }

    @Test
    void concurrentRequestsAreBatchedAndEachGetsItsOwnAnswer() throws Exception {
        ImageClassifier c = classifier(tiny());
        server = PredictionServer.start(c, "tiny", config(16, 300, 64, 1 << 20));
        int n = 12;
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < n; i++) images.add(png(100 + i, 28 + i, 28));
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<HttpResponse<String>>> answers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                byte[] img = images.get(i);
                int k = 1 + i % 4;
                answers.add(pool.submit(() -> post("/v1/predict?top_k=" + k, img, "image/png")));
            }
            for (int i = 0; i < n; i++) assertSameAsJavaApi(c, images.get(i), 1 + i % 4, answers.get(i).get());
        }
        String metrics = get("/metrics").body();
        double batches = metric(metrics, "shiftaddvit_batch_size_count");
        assertEquals(n, metric(metrics, "shiftaddvit_batch_size_sum"), metrics);
        assertTrue(batches < n, "12 concurrent requests ran as " + batches + " forwards");
        assertEquals(n, metric(metrics, "shiftaddvit_requests_total{status=\"200\"}"), metrics);
        assertEquals(n, metric(metrics, "shiftaddvit_request_latency_seconds_count"), "one latency per request");
        assertTrue(metrics.contains("shiftaddvit_queue_depth 0"), metrics);
    }

    private static double metric(String text, String name) {
        for (String line : text.split("\n")) {
            if (line.startsWith(name + " ")) return Double.parseDouble(line.substring(name.length() + 1).trim());
        }
        throw new AssertionError(name + " not in\n" + text);
    }

    @Test
    void aMultipartFormImagePartIsClassified() throws Exception {
        ImageClassifier c = classifier(tiny());
        server = PredictionServer.start(c, "tiny", config(8, 1, 64, 1 << 20));
        byte[] image = png(3, 40, 30);
        String boundary = "----b0undary";
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--" + boundary
                + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\nContent-Type: image/png"
                + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
        body.write(image);
        body.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.ISO_8859_1));
        HttpResponse<String> r = post("/v1/predict?top_k=2", body.toByteArray(),
                "multipart/form-data; boundary=" + boundary);
        assertSameAsJavaApi(c, image, 2, r);
    }

    @Test
    void badInputGetsAClientErrorWithAJsonMessageAndTheServerStaysUp() throws Exception {
        ImageClassifier c = classifier(tiny());
        server = PredictionServer.start(c, "tiny", config(8, 1, 64, 4096));
        byte[] image = png(4, 28, 28);
        assertError(post("/v1/predict", "not an image".getBytes(StandardCharsets.UTF_8), "image/png"), 400, "request body");
        assertError(post("/v1/predict", new byte[0], "image/png"), 400, "empty");
        assertError(post("/v1/predict", Arrays.copyOf(image, image.length / 2), "image/png"), 400, "request body");
        assertError(post("/v1/predict?top_k=0", image, "image/png"), 400, "top_k");
        assertError(post("/v1/predict?top_k=abc", image, "image/png"), 400, "top_k");
        assertError(post("/v1/predict?invert=maybe", image, "image/png"), 400, "invert");
        assertError(post("/v1/predict", image, "multipart/form-data"), 400, "boundary");
        assertError(post("/v1/predict", "--x\r\ngarbage".getBytes(StandardCharsets.UTF_8),
                "multipart/form-data; boundary=x"), 400, "multipart");
        assertError(post("/v1/predict", image, "multipart/mixed; boundary=x"), 400, "multipart/mixed");
        int status = post("/v1/predict", new byte[5000], "image/png").statusCode();
        assertEquals(413, status, "a body over --max-body");
        String old = System.getProperty(ImageInput.MAX_PIXELS_PROPERTY);
        System.setProperty(ImageInput.MAX_PIXELS_PROPERTY, "100");
        try {
            assertError(post("/v1/predict", image, "image/png"), 413, "too large");
        } finally {
            if (old == null) System.clearProperty(ImageInput.MAX_PIXELS_PROPERTY);
            else System.setProperty(ImageInput.MAX_PIXELS_PROPERTY, old);
        }
        assertSameAsJavaApi(c, image, 5, post("/v1/predict", image, "image/png"));
        assertEquals(200, get("/health").statusCode());
        String metrics = get("/metrics").body();
        assertEquals(0, metrics.lines().filter(l -> l.startsWith("shiftaddvit_requests_total{status=\"500\"}")).count());
    }

    private static void assertError(HttpResponse<String> r, int status, String mentions) {
        assertEquals(status, r.statusCode(), r.body());
        String message = (String) Json.parseObject(r.body(), "error body").get("error");
        assertTrue(message.contains(mentions), message);
    }

    @Test
    void aFullQueueIsAnswered503WithRetryAfter() throws Exception {
        GatedModel gated = new GatedModel(tiny());
        ImageClassifier c = classifier(gated);
        server = PredictionServer.start(c, "tiny", config(1, 0, 1, 1 << 20));
        byte[] image = png(5, 28, 28);
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> running = pool.submit(() -> post("/v1/predict", image, "image/png"));
            gated.entered.await();
            Future<HttpResponse<String>> queued = pool.submit(() -> post("/v1/predict", image, "image/png"));
            while (!get("/health").body().contains("\"queued\":1")) Thread.sleep(5);
            HttpResponse<String> refused = post("/v1/predict", image, "image/png");
            assertError(refused, 503, "busy");
            assertEquals("1", refused.headers().firstValue("Retry-After").orElse(null));
            gated.open.countDown();
            assertEquals(200, running.get().statusCode());
            assertEquals(200, queued.get().statusCode());
        }
    }

    @Test
    void shutdownFinishesTheRequestsInFlightThenStopsListening() throws Exception {
        GatedModel gated = new GatedModel(tiny());
        server = PredictionServer.start(classifier(gated), "tiny", config(4, 0, 8, 1 << 20));
        byte[] image = png(6, 28, 28);
        int port = server.port();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> inFlight = pool.submit(() -> post("/v1/predict", image, "image/png"));
            gated.entered.await();
            CompletableFuture<Void> closing = CompletableFuture.runAsync(server::close, pool);
            Thread.sleep(200);
            gated.open.countDown();
            assertEquals(200, inFlight.get().statusCode(), inFlight.get().body());
            closing.get();
        }
        server = null;
        HttpRequest after = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health")).build();
        assertThrows(IOException.class, () -> http.send(after, HttpResponse.BodyHandlers.ofString()));
    }
}
