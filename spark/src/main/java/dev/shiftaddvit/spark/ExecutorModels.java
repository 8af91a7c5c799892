package dev.shiftaddvit.spark;

import dev.shiftaddvit.ImageClassifier;

import java.nio.file.Path;
import java.util.concurrent.ConcurrentHashMap;

/** The models of one executor JVM: each file is loaded once, by the first task that needs it. */
final class ExecutorModels {
    private static final ConcurrentHashMap<String, ImageClassifier> LOADED = new ConcurrentHashMap<>();

    private ExecutorModels() {
    }

    static ImageClassifier get(String modelFile) {
        return LOADED.computeIfAbsent(modelFile, f -> ImageClassifier.load(Path.of(f)));
    }

    /** How many models this JVM has loaded (tests check that partitions share them). */
    static int loaded() {
        return LOADED.size();
    }
}
