package dev.shiftaddvit.bench;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.data.FashionMnist;
import dev.shiftaddvit.data.LabeledImages;
import dev.shiftaddvit.serve.PredictionServer;
import dev.shiftaddvit.serve.ServeConfig;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Closed-loop load on {@code shiftaddvit serve}'s engine over loopback: C clients each send one image, wait for
 * the answer and send the next, for a fixed time, at C = 1, 8 and 32; with dynamic batching (max batch 32,
 * 5 ms) and without (max batch 1), against C threads calling the Java API directly (one image per call,
 * serialised as the server's single worker is). Client and server share the JVM and the cores, as
 * they would with a load generator on the same machine. Stops by itself.
 *
 * <p>Run: {@code java ... dev.shiftaddvit.bench.ServeLoad [--model=models/fmnist-shiftadd.safetensors]
 * [--seconds=8]}.
 */
public final class ServeLoad {
    /** Helidon logs every start and stop through java.util.logging; the table is what this prints. */
    private static final java.util.logging.Logger HELIDON = java.util.logging.Logger.getLogger("io.helidon");

    private ServeLoad() {
    }

    record Result(String mode, int clients, int requests, double seconds, double p50, double p99, int errors) {
        double perSecond() {
            return requests / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Path model = Path.of("models/fmnist-shiftadd.safetensors");
        double seconds = 8;
        for (String a : args) {
            if (a.startsWith("--model=")) model = Path.of(a.substring(8));
            else if (a.startsWith("--seconds=")) seconds = Double.parseDouble(a.substring(10));
            else throw new IllegalArgumentException("unknown option " + a);
        }
        HELIDON.setLevel(java.util.logging.Level.WARNING);
        ImageClassifier classifier = ImageClassifier.load(model);
        LabeledImages sample = FashionMnist.bundledSample();
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < 256; i++) images.add(png(sample, i));
        System.out.println("CPU: " + GemmShootout.cpuModel() + ", " + GemmShootout.species() + "; model " + model
                + "; " + seconds + " s per cell; load before: " + GemmShootout.uptime());
        List<Result> results = new ArrayList<>();
        for (int clients : new int[] {1, 8, 32}) {
            results.add(javaApi(classifier, images, clients, seconds));
            results.add(http(classifier, model, images, clients, seconds, 32, "HTTP, dynamic batching (32, 5 ms)"));
            results.add(http(classifier, model, images, clients, seconds, 1, "HTTP, no batching (max batch 1)"));
        }
        System.out.println("load after: " + GemmShootout.uptime());
        System.out.println("| clients | mode | requests/s | p50 ms | p99 ms | errors |");
        System.out.println("|---:|---|---:|---:|---:|---:|");
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "| %d | %s | %.0f | %.2f | %.2f | %d |%n", r.clients(), r.mode(),
                    r.perSecond(), r.p50(), r.p99(), r.errors());
        }
    }

    private static byte[] png(LabeledImages set, int index) throws IOException {
        int h = set.h();
        int w = set.w();
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        byte[] px = new byte[h * w];
        set.copyPixels(index, px, 0);
        for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) img.getRaster().setSample(x, y, 0, px[y * w + x] & 0xff);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** C threads, each decoding and classifying one image per call; one classification at a time. */
    private static Result javaApi(ImageClassifier c, List<byte[]> images, int clients, double seconds) throws Exception {
        Object lock = new Object();
        return run("Java API, one image per call", clients, seconds, i -> {
            float[] px = c.input(images.get(i % images.size()), "image", ImagePreprocessing.DEFAULT);
            synchronized (lock) {
                c.predict(px, 5);
            }
            return true;
        });
    }

    private static Result http(ImageClassifier c, Path model, List<byte[]> images, int clients, double seconds,
                               int maxBatch, String mode) throws Exception {
        ServeConfig cfg = new ServeConfig("127.0.0.1", 0, maxBatch, Duration.ofMillis(5), 1024, 16L << 20,
                Duration.ofSeconds(10));
        try (PredictionServer server = PredictionServer.start(c, model.getFileName().toString(), cfg);
             HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build()) {
            URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/predict");
            return run(mode, clients, seconds, i -> {
                HttpRequest req = HttpRequest.newBuilder(uri).header("Content-Type", "image/png")
                        .POST(HttpRequest.BodyPublishers.ofByteArray(images.get(i % images.size()))).build();
                return client.send(req, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
            });
        }
    }

    interface Call {
        boolean run(int i) throws Exception;
    }

    /** A warm-up of a quarter of the time, then the timed run; latencies of the timed run only. */
    private static Result run(String mode, int clients, double seconds, Call call) throws Exception {
        timed(clients, seconds / 4, call);
        long t0 = System.nanoTime();
        List<long[]> lat = timed(clients, seconds, call);
        double secs = (System.nanoTime() - t0) / 1e9;
        int n = 0;
        int errors = 0;
        for (long[] l : lat) {
            n += (int) l[0];
            errors += (int) l[1];
        }
        long[] all = new long[n];
        int k = 0;
        for (long[] l : lat) for (int j = 0; j < l[0]; j++) all[k++] = l[2 + j];
        Arrays.sort(all);
        double p50 = n == 0 ? Double.NaN : all[(int) (0.50 * (n - 1))] / 1e6;
        double p99 = n == 0 ? Double.NaN : all[(int) (0.99 * (n - 1))] / 1e6;
        Result r = new Result(mode, clients, n, secs, p50, p99, errors);
        System.out.printf(Locale.ROOT, "%-36s clients %2d: %7.0f req/s, p50 %.2f ms, p99 %.2f ms, %d errors%n", mode,
                clients, r.perSecond(), p50, p99, errors);
        return r;
    }

    /** Per client: {count, errors, latencies...}. */
    private static List<long[]> timed(int clients, double seconds, Call call) throws Exception {
        long end = System.nanoTime() + (long) (seconds * 1e9);
        AtomicInteger next = new AtomicInteger();
        List<Future<long[]>> fs = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < clients; c++) {
                fs.add(pool.submit(() -> {
                    long[] buf = new long[1 << 16];
                    int count = 0;
                    int errors = 0;
                    while (System.nanoTime() < end && count < buf.length - 2) {
                        long s = System.nanoTime();
                        if (!call.run(next.getAndIncrement())) errors++;
                        buf[2 + count++] = System.nanoTime() - s;
                    }
                    buf[0] = count;
                    buf[1] = errors;
                    return buf;
                }));
            }
            List<long[]> out = new ArrayList<>();
            for (Future<long[]> f : fs) out.add(f.get());
            return out;
        }
    }
}
