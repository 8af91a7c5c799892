package dev.shiftaddvit.data;

import dev.shiftaddvit.io.InvalidInputException;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A user's image data set in the ImageNet layout that torchvision and timm read:
 * {@code root/train/<class>/…} for training and {@code root/val/<class>/…} for evaluation, each an
 * {@link ImageFolder} with the same class folders, so that a label means the same class in both.
 */
public record TrainValFolders(Path root, ImageFolder train, ImageFolder val) {
    public static final String TRAIN = "train";
    public static final String VAL = "val";

    /** Whether {@code root} holds both a {@code train} and a {@code val} folder. */
    public static boolean isSplit(Path root) {
        return Files.isDirectory(root.resolve(TRAIN)) && Files.isDirectory(root.resolve(VAL));
    }

    /**
     * Opens both splits with {@code preprocess} as their evaluation transform; fails with an
     * {@link InvalidInputException} naming the folder when a split is missing or the class folders
     * of the two differ.
     */
    public static TrainValFolders open(Path root, Preprocess preprocess) {
        if (!Files.isDirectory(root)) throw new InvalidInputException(root.toString(), "not a directory");
        for (String split : new String[]{TRAIN, VAL}) {
            if (!Files.isDirectory(root.resolve(split))) {
                throw new InvalidInputException(root.toString(), "no " + split + "/ folder (expected " + TRAIN
                        + "/<class>/<image> and " + VAL + "/<class>/<image>)");
            }
        }
        ImageFolder train = ImageFolder.open(root.resolve(TRAIN), preprocess);
        ImageFolder val = ImageFolder.open(root.resolve(VAL), preprocess);
        if (!train.classes().equals(val.classes())) {
            throw new InvalidInputException(root.resolve(VAL).toString(), "its " + val.classes().size()
                    + " class folders differ from the " + train.classes().size() + " of " + root.resolve(TRAIN) + " ("
                    + firstDifference(train, val) + "); labels would not match");
        }
        return new TrainValFolders(root, train, val);
    }

    private static String firstDifference(ImageFolder train, ImageFolder val) {
        for (String c : train.classes()) if (!val.classes().contains(c)) return "\"" + c + "\" is missing from " + VAL;
        // Both lists are sorted the same way, so unequal lists differ in at least one name.
        String extra = val.classes().stream().filter(c -> !train.classes().contains(c)).findFirst().orElseThrow();
        return "\"" + extra + "\" is missing from " + TRAIN;
    }
}
