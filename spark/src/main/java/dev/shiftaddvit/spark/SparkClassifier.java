package dev.shiftaddvit.spark;

import dev.shiftaddvit.ImageClassifier;
import dev.shiftaddvit.ImagePreprocessing;
import dev.shiftaddvit.Prediction;
import dev.shiftaddvit.io.InvalidInputException;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * Batch classification of an image set on Spark: each partition's images are decoded, grouped into
 * batches of {@code batchSize} and classified by a model that every executor JVM loads once
 * ({@link ExecutorModels}) from {@code modelFile}, a path each executor can read.
 *
 * <p>Input: a DataFrame with {@code path} (string) and {@code content} (binary, a PNG or JPEG), as Spark's
 * {@code binaryFile} source gives ({@link #readImages}). Output ({@link #SCHEMA}): {@code path}, the top-1
 * {@code label}, {@code index} and {@code probability}, the {@code top_k} list, and {@code error}, which is
 * null for a classified image and names the problem for one that could not be decoded (the job goes on).
 */
public final class SparkClassifier implements Serializable {
    private static final long serialVersionUID = 1L;

    private static final StructType PREDICTION = new StructType(new StructField[] {
            DataTypes.createStructField("label", DataTypes.StringType, false),
            DataTypes.createStructField("index", DataTypes.IntegerType, false),
            DataTypes.createStructField("probability", DataTypes.FloatType, false)});

    /** The output rows. */
    public static final StructType SCHEMA = new StructType(new StructField[] {
            DataTypes.createStructField("path", DataTypes.StringType, false),
            DataTypes.createStructField("label", DataTypes.StringType, true),
            DataTypes.createStructField("index", DataTypes.IntegerType, true),
            DataTypes.createStructField("probability", DataTypes.FloatType, true),
            DataTypes.createStructField("top_k", DataTypes.createArrayType(PREDICTION, false), true),
            DataTypes.createStructField("error", DataTypes.StringType, true)});

    private final String modelFile;
    private final int topK;
    private final int batchSize;

    /**
     * @param modelFile a dense, converted or deploy file readable at this path on every executor
     * @param topK      classes listed per image, at least 1
     * @param batchSize images per forward, at least 1
     */
    public SparkClassifier(String modelFile, int topK, int batchSize) {
        if (topK < 1) throw new IllegalArgumentException("top-k must be at least 1, got " + topK);
        if (batchSize < 1) throw new IllegalArgumentException("batch size must be at least 1, got " + batchSize);
        this.modelFile = modelFile;
        this.topK = topK;
        this.batchSize = batchSize;
    }

    /** The PNG and JPEG files under {@code dir} (recursively) as (path, content) rows. */
    public static Dataset<Row> readImages(SparkSession spark, String dir) {
        return spark.read().format("binaryFile").option("recursiveFileLookup", "true")
                .option("pathGlobFilter", "*.{png,PNG,jpg,JPG,jpeg,JPEG}").load(dir).select("path", "content");
    }

    /** One output row per input row ({@link #SCHEMA}). */
    public Dataset<Row> classify(Dataset<Row> images) {
        Dataset<Row> in = images.select("path", "content");
        return in.mapPartitions((MapPartitionsFunction<Row, Row>) this::partition, Encoders.row(SCHEMA));
    }

    private Iterator<Row> partition(Iterator<Row> rows) {
        ImageClassifier classifier = ExecutorModels.get(modelFile);
        return new Iterator<>() {
            private final List<Row> ready = new ArrayList<>();
            private int next;

            @Override
            public boolean hasNext() {
                if (next < ready.size()) return true;
                ready.clear();
                next = 0;
                fill(classifier, rows, ready);
                return !ready.isEmpty();
            }

            @Override
            public Row next() {
                if (!hasNext()) throw new java.util.NoSuchElementException();
                return ready.get(next++);
            }
        };
    }

    /** Decodes up to one batch of images and classifies them; undecodable ones become error rows. */
    private void fill(ImageClassifier classifier, Iterator<Row> rows, List<Row> out) {
        List<String> paths = new ArrayList<>();
        List<float[]> pixels = new ArrayList<>();
        List<Integer> slots = new ArrayList<>();
        while (rows.hasNext() && pixels.size() < batchSize) {
            Row r = rows.next();
            String path = r.getString(0);
            try {
                pixels.add(classifier.input((byte[]) r.get(1), path, ImagePreprocessing.DEFAULT));
                paths.add(path);
                slots.add(out.size());
                out.add(null);
            } catch (InvalidInputException e) {
                out.add(RowFactory.create(path, null, null, null, null, e.getMessage()));
            }
        }
        if (pixels.isEmpty()) return;
        List<List<Prediction>> predictions;
        // Tasks of one executor share the model; a forward already uses every core the engine is given.
        synchronized (classifier) {
            predictions = classifier.predictBatch(pixels, topK);
        }
        for (int i = 0; i < pixels.size(); i++) {
            List<Prediction> top = predictions.get(i);
            List<Row> list = new ArrayList<>(top.size());
            for (Prediction p : top) list.add(RowFactory.create(p.label(), p.classIndex(), p.probability()));
            Prediction best = top.getFirst();
            out.set(slots.get(i), RowFactory.create(paths.get(i), best.label(), best.classIndex(), best.probability(),
                    scala.jdk.javaapi.CollectionConverters.asScala(list).toSeq(), null));
        }
    }
}
